//! Scheduled SMS and WhatsApp messages: the channel, the body and its SMS length, and WhatsApp
//! templates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a channel was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Choose sms or whatsapp.")]
pub struct ChannelError;

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A text message, split into parts by the SMS length rules.
    Sms,
    /// A WhatsApp message: free text within a conversation, or an approved template.
    Whatsapp,
}

impl Channel {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(input: &str) -> Result<Self, ChannelError> {
        match input {
            "sms" => Ok(Self::Sms),
            "whatsapp" => Ok(Self::Whatsapp),
            _ => Err(ChannelError),
        }
    }
}

/// How an SMS body is encoded, which decides how much fits in one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsEncoding {
    /// The GSM 03.38 7-bit alphabet: 160 septets in one part, 153 per part when split.
    Gsm7,
    /// UCS-2 (UTF-16 on today's phones): 70 units in one part, 67 per part when split.
    Ucs2,
}

/// How long a text is as an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SmsLength {
    /// The encoding the whole text needs.
    pub encoding: SmsEncoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: u32,
    /// Parts the text is sent in; 0 for an empty text.
    pub segments: u32,
}

/// Septets in a single-part GSM-7 message.
const GSM7_SINGLE: u32 = 160;
/// Septets per part of a split GSM-7 message (the rest of 160 carries the part header).
const GSM7_PART: u32 = 153;
/// UTF-16 units in a single-part UCS-2 message.
const UCS2_SINGLE: u32 = 70;
/// UTF-16 units per part of a split UCS-2 message.
const UCS2_PART: u32 = 67;

/// Septets `c` takes in GSM 03.38: 1 in the basic table, 2 in the extension table (escape and
/// code), `None` when it has no GSM-7 code at all.
fn gsm7_septets(c: char) -> Option<u32> {
    match c {
        'A'..='Z' | 'a'..='z' | '0'..='9' => Some(1),
        '\n' | '\r' | ' ' | '!' | '"' | '#' | '$' | '%' | '&' | '\'' | '(' | ')' | '*' | '+'
        | ',' | '-' | '.' | '/' | ':' | ';' | '<' | '=' | '>' | '?' | '@' | '_' => Some(1),
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' | 'Δ' | 'Φ' | 'Γ'
        | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' | 'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä'
        | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => Some(1),
        '\u{0C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' => Some(2),
        _ => None,
    }
}

/// Parts needed for characters of the given widths (in units): one part up to `single` units,
/// otherwise parts of at most `part` units, a character never split between two parts (neither
/// a GSM escape pair nor a UTF-16 surrogate pair may be).
fn count_segments(widths: impl Iterator<Item = u32> + Clone, single: u32, part: u32) -> (u32, u32) {
    let units = widths.clone().fold(0u32, u32::saturating_add);
    if units == 0 {
        return (0, 0);
    }
    if units <= single {
        return (units, 1);
    }
    let (mut segments, mut filled) = (1u32, 0u32);
    for width in widths {
        if filled + width > part {
            segments = segments.saturating_add(1);
            filled = 0;
        }
        filled += width;
    }
    (units, segments)
}

/// How long `text` is as an SMS (GSM 03.38 / 3GPP TS 23.040).
///
/// A text made only of GSM-7 characters is sent in GSM-7, the extension table's characters
/// (`^ { } \ [ ~ ] | €` and form feed) counting two; a single other character makes the whole
/// text UCS-2, counted in UTF-16 units (an emoji counts two).
pub fn sms_length(text: &str) -> SmsLength {
    if text.chars().all(|c| gsm7_septets(c).is_some()) {
        let widths = text.chars().map(|c| gsm7_septets(c).unwrap_or(1));
        let (units, segments) = count_segments(widths, GSM7_SINGLE, GSM7_PART);
        SmsLength {
            encoding: SmsEncoding::Gsm7,
            units,
            segments,
        }
    } else {
        // A char is one or two UTF-16 units, so the cast never truncates.
        let widths = text.chars().map(|c| c.len_utf16() as u32);
        let (units, segments) = count_segments(widths, UCS2_SINGLE, UCS2_PART);
        SmsLength {
            encoding: SmsEncoding::Ucs2,
            units,
            segments,
        }
    }
}

/// Why a message body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageTextError {
    /// Empty, or only white space.
    #[error("Write the message.")]
    Required,
    /// Control characters other than line breaks and tabs: no phone shows them, and PostgreSQL
    /// text cannot hold a NUL.
    #[error("Must not contain control characters.")]
    ControlCharacters,
    /// An SMS that would be sent in more than [`MessageText::MAX_SMS_PARTS`] parts.
    #[error(
        "Too long: {parts} parts; an SMS may have at most 10 (about 1,530 GSM characters or 670 \
         other characters)."
    )]
    TooManyParts {
        /// The parts the text would need.
        parts: u32,
    },
    /// A WhatsApp message longer than [`MessageText::MAX_WHATSAPP_CHARS`].
    #[error("Too long: at most 1,600 characters.")]
    TooLong,
}

/// The body of a message, checked for the channel it was parsed for.
///
/// Surrounding white space (leading and trailing blanks and line breaks) is trimmed, since it is
/// never meant and an SMS pays for it; the text between is kept exactly as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MessageText(String);

impl MessageText {
    /// The most parts an SMS may be sent in: 1,530 GSM-7 characters or 670 UTF-16 units, so
    /// Twilio's own cap of 1,600 characters is never reached first.
    pub const MAX_SMS_PARTS: u32 = 10;
    /// The longest WhatsApp message, in characters.
    pub const MAX_WHATSAPP_CHARS: usize = 1600;

    /// Trims `input` and checks it against the rules of `channel`.
    pub fn parse(input: &str, channel: Channel) -> Result<Self, MessageTextError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(MessageTextError::Required);
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(MessageTextError::ControlCharacters);
        }
        match channel {
            Channel::Sms => {
                let parts = sms_length(text).segments;
                if parts > Self::MAX_SMS_PARTS {
                    return Err(MessageTextError::TooManyParts { parts });
                }
            }
            Channel::Whatsapp => {
                if text.chars().count() > Self::MAX_WHATSAPP_CHARS {
                    return Err(MessageTextError::TooLong);
                }
            }
        }
        Ok(Self(text.to_owned()))
    }

    /// The checked text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The checked text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// How long the text is as an SMS.
    pub fn length(&self) -> SmsLength {
        sms_length(&self.0)
    }
}

impl AsRef<str> for MessageText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MessageText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a template's content SID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateSidError {
    /// Empty where a template is required.
    #[error("This field is required.")]
    Required,
    /// Not `HX` and 32 lowercase hexadecimal digits.
    #[error("Use the template's content SID: HX followed by 32 hexadecimal digits.")]
    Invalid,
}

/// The content SID of an approved WhatsApp template in Twilio's Content API: `HX` and 32
/// lowercase hexadecimal digits, surrounding blanks trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TemplateSid(String);

impl TemplateSid {
    /// Trims `input` and checks it.
    pub fn parse(input: &str) -> Result<Self, TemplateSidError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(TemplateSidError::Required);
        }
        let hex = input.strip_prefix("HX").ok_or(TemplateSidError::Invalid)?;
        if hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(input.to_owned()))
        } else {
            Err(TemplateSidError::Invalid)
        }
    }

    /// The checked SID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The checked SID, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl AsRef<str> for TemplateSid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TemplateSid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for TemplateSid {
    type Error = TemplateSidError;
    fn try_from(input: &str) -> Result<Self, TemplateSidError> {
        Self::parse(input)
    }
}

/// Why a template's variables were refused; each message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateVariablesError {
    /// More variables than a template may have.
    #[error("At most {max} variables.")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// A variable with an empty name.
    #[error("Every variable needs a name.")]
    Unnamed,
    /// A name with white space or control characters, or longer than the limit.
    #[error("Variable \"{name}\": use a name of at most {max} characters without spaces.")]
    InvalidName {
        /// The name as given.
        name: String,
        /// The longest accepted name, in characters.
        max: usize,
    },
    /// A value that is empty or only white space.
    #[error("Fill in variable \"{name}\".")]
    EmptyValue {
        /// The variable's name.
        name: String,
    },
    /// A value with line breaks, tabs or other control characters, which WhatsApp refuses in
    /// template parameters.
    #[error("Variable \"{name}\": no line breaks, tabs or control characters.")]
    ControlCharacters {
        /// The variable's name.
        name: String,
    },
    /// A value longer than the limit, counted in characters after trimming.
    #[error("Variable \"{name}\": at most {max} characters.")]
    ValueTooLong {
        /// The variable's name.
        name: String,
        /// The limit.
        max: usize,
    },
}

/// The values filled into a WhatsApp template's placeholders (`{{1}}`, `{{first_name}}`), by
/// name: at most 20, names without white space, values trimmed, one line, 1 to 1,024
/// characters. May be empty, for a template without placeholders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TemplateVariables(BTreeMap<String, String>);

impl TemplateVariables {
    /// The most variables a template may have.
    pub const MAX_VARIABLES: usize = 20;
    /// The longest accepted name, in characters.
    pub const MAX_NAME_CHARS: usize = 64;
    /// The longest accepted value, in characters.
    pub const MAX_VALUE_CHARS: usize = 1024;

    /// Checks every name and value, trimming the values.
    pub fn parse(variables: BTreeMap<String, String>) -> Result<Self, TemplateVariablesError> {
        if variables.len() > Self::MAX_VARIABLES {
            return Err(TemplateVariablesError::TooMany {
                max: Self::MAX_VARIABLES,
            });
        }
        let mut checked = BTreeMap::new();
        for (name, value) in variables {
            if name.is_empty() {
                return Err(TemplateVariablesError::Unnamed);
            }
            if name.chars().count() > Self::MAX_NAME_CHARS
                || name.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(TemplateVariablesError::InvalidName {
                    name,
                    max: Self::MAX_NAME_CHARS,
                });
            }
            let value = value.trim();
            if value.is_empty() {
                return Err(TemplateVariablesError::EmptyValue { name });
            }
            if value.chars().any(char::is_control) {
                return Err(TemplateVariablesError::ControlCharacters { name });
            }
            if value.chars().count() > Self::MAX_VALUE_CHARS {
                return Err(TemplateVariablesError::ValueTooLong {
                    name,
                    max: Self::MAX_VALUE_CHARS,
                });
            }
            let value = value.to_owned();
            checked.insert(name, value);
        }
        Ok(Self(checked))
    }

    /// The value of one variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Every variable with its value, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many variables there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The checked variables.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The checked variables, owned.
    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.0
    }
}

impl TryFrom<BTreeMap<String, String>> for TemplateVariables {
    type Error = TemplateVariablesError;
    fn try_from(variables: BTreeMap<String, String>) -> Result<Self, TemplateVariablesError> {
        Self::parse(variables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The GSM 03.38 default alphabet in code order (0x00–0x7F), the escape 0x1B left out.
    const GSM7_BASIC_TABLE: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
        ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    /// The GSM 03.38 extension table: form feed and the characters reached through the escape.
    const GSM7_EXTENSION_TABLE: &str = "\u{0C}^{}\\[~]|€";

    fn length(encoding: SmsEncoding, units: u32, segments: u32) -> SmsLength {
        SmsLength {
            encoding,
            units,
            segments,
        }
    }

    fn ceil_div(units: u32, part: u32) -> u32 {
        units.div_ceil(part)
    }

    #[test]
    fn channels_round_trip_through_their_spelling_and_json() {
        for channel in [Channel::Sms, Channel::Whatsapp] {
            assert_eq!(Channel::parse(channel.as_str()), Ok(channel));
            assert_eq!(
                serde_json::to_value(channel).ok(),
                Some(serde_json::json!(channel.as_str()))
            );
        }
        assert_eq!(
            serde_json::from_str::<Channel>("\"whatsapp\"").ok(),
            Some(Channel::Whatsapp)
        );
        assert_eq!(Channel::parse("email"), Err(ChannelError));
        assert_eq!(Channel::parse("SMS"), Err(ChannelError));
        assert_eq!(ChannelError.to_string(), "Choose sms or whatsapp.");
    }

    #[test]
    fn the_gsm7_tables_are_exactly_those_of_gsm_03_38() {
        assert_eq!(GSM7_BASIC_TABLE.chars().count(), 127);
        for code in 0..=0x2FFF_u32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let expected = if GSM7_BASIC_TABLE.contains(c) {
                Some(1)
            } else if GSM7_EXTENSION_TABLE.contains(c) {
                Some(2)
            } else {
                None
            };
            assert_eq!(gsm7_septets(c), expected, "{c:?} (U+{code:04X})");
        }
        assert_eq!(gsm7_septets('`'), None);
        assert_eq!(gsm7_septets('\t'), None);
    }

    #[test]
    fn an_empty_text_has_no_parts() {
        assert_eq!(sms_length(""), length(SmsEncoding::Gsm7, 0, 0));
    }

    #[test]
    fn a_gsm_text_fits_160_characters_in_one_part_and_161_need_two() {
        assert_eq!(
            sms_length(&"a".repeat(160)),
            length(SmsEncoding::Gsm7, 160, 1)
        );
        assert_eq!(
            sms_length(&"a".repeat(161)),
            length(SmsEncoding::Gsm7, 161, 2)
        );
    }

    #[test]
    fn split_gsm_parts_hold_153_characters_each() {
        assert_eq!(
            sms_length(&"a".repeat(306)),
            length(SmsEncoding::Gsm7, 306, 2)
        );
        assert_eq!(
            sms_length(&"a".repeat(307)),
            length(SmsEncoding::Gsm7, 307, 3)
        );
    }

    #[test]
    fn the_euro_sign_and_the_extension_table_count_two() {
        assert_eq!(sms_length("€"), length(SmsEncoding::Gsm7, 2, 1));
        assert_eq!(
            sms_length("^{}\\[~]|€\u{0C}"),
            length(SmsEncoding::Gsm7, 20, 1)
        );
        assert_eq!(
            sms_length(&format!("{}€", "a".repeat(158))),
            length(SmsEncoding::Gsm7, 160, 1)
        );
        assert_eq!(
            sms_length(&format!("{}€", "a".repeat(159))),
            length(SmsEncoding::Gsm7, 161, 2)
        );
    }

    #[test]
    fn an_escape_pair_straddling_a_part_boundary_moves_to_the_next_part() {
        // 152 + 2 would end one septet past the first part: the € starts the second.
        let straddling = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(sms_length(&straddling), length(SmsEncoding::Gsm7, 306, 3));
        // The same septets with the € inside the first part fit in two.
        let inside = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(sms_length(&inside), length(SmsEncoding::Gsm7, 306, 2));
    }

    #[test]
    fn every_character_of_the_basic_table_counts_one() {
        assert_eq!(
            sms_length(GSM7_BASIC_TABLE),
            length(SmsEncoding::Gsm7, 127, 1)
        );
    }

    #[test]
    fn a_ucs2_text_fits_70_units_in_one_part_and_71_need_two() {
        assert_eq!(
            sms_length(&"ж".repeat(70)),
            length(SmsEncoding::Ucs2, 70, 1)
        );
        assert_eq!(
            sms_length(&"ж".repeat(71)),
            length(SmsEncoding::Ucs2, 71, 2)
        );
        assert_eq!(
            sms_length(&"ж".repeat(134)),
            length(SmsEncoding::Ucs2, 134, 2)
        );
        assert_eq!(
            sms_length(&"ж".repeat(135)),
            length(SmsEncoding::Ucs2, 135, 3)
        );
    }

    #[test]
    fn one_emoji_turns_150_ascii_characters_into_three_ucs2_parts() {
        let text = format!("{}🙂", "a".repeat(150));
        assert_eq!(sms_length(&text), length(SmsEncoding::Ucs2, 152, 3));
        assert_eq!(sms_length("🙂"), length(SmsEncoding::Ucs2, 2, 1));
    }

    #[test]
    fn a_backtick_or_a_lowercase_c_cedilla_is_not_gsm() {
        assert_eq!(sms_length("`"), length(SmsEncoding::Ucs2, 1, 1));
        assert_eq!(sms_length("ç"), length(SmsEncoding::Ucs2, 1, 1));
        assert_eq!(sms_length("Ç"), length(SmsEncoding::Gsm7, 1, 1));
    }

    #[test]
    fn a_surrogate_pair_straddling_a_part_boundary_moves_to_the_next_part() {
        // 66 units then an emoji: the emoji's two units start the second part.
        let text = format!("{}🙂{}", "ж".repeat(66), "ж".repeat(66));
        assert_eq!(sms_length(&text), length(SmsEncoding::Ucs2, 134, 3));
        let inside = format!("{}🙂{}", "ж".repeat(65), "ж".repeat(67));
        assert_eq!(sms_length(&inside), length(SmsEncoding::Ucs2, 134, 2));
    }

    #[test]
    fn an_sms_may_have_10_parts_but_not_11() {
        let ten = "a".repeat(1530);
        assert_eq!(
            MessageText::parse(&ten, Channel::Sms).map(|t| t.length()),
            Ok(length(SmsEncoding::Gsm7, 1530, 10))
        );
        assert_eq!(
            MessageText::parse(&"a".repeat(1531), Channel::Sms),
            Err(MessageTextError::TooManyParts { parts: 11 })
        );
        assert!(MessageText::parse(&"ж".repeat(670), Channel::Sms).is_ok());
        assert_eq!(
            MessageText::parse(&"ж".repeat(671), Channel::Sms),
            Err(MessageTextError::TooManyParts { parts: 11 })
        );
        assert_eq!(
            MessageText::parse(&"a".repeat(1601), Channel::Sms),
            Err(MessageTextError::TooManyParts { parts: 11 })
        );
    }

    #[test]
    fn the_too_long_messages_say_the_count_and_the_limits() {
        assert_eq!(
            MessageTextError::TooManyParts { parts: 12 }.to_string(),
            "Too long: 12 parts; an SMS may have at most 10 (about 1,530 GSM characters or 670 \
             other characters)."
        );
        assert_eq!(MessageText::MAX_SMS_PARTS * GSM7_PART, 1530);
        assert_eq!(MessageText::MAX_SMS_PARTS * UCS2_PART, 670);
        assert_eq!(
            MessageTextError::TooLong.to_string(),
            "Too long: at most 1,600 characters."
        );
    }

    #[test]
    fn a_whatsapp_message_may_have_1600_characters_of_any_kind() {
        let emoji = "🙂".repeat(1600);
        assert_eq!(
            MessageText::parse(&emoji, Channel::Whatsapp).map(MessageText::into_inner),
            Ok(emoji)
        );
        assert_eq!(
            MessageText::parse(&"a".repeat(1601), Channel::Whatsapp),
            Err(MessageTextError::TooLong)
        );
    }

    #[test]
    fn a_message_is_trimmed_outside_and_kept_as_typed_inside() {
        assert_eq!(
            MessageText::parse("\n  Hello,\n\n  see you   at 9:30!  \n", Channel::Sms)
                .map(MessageText::into_inner),
            Ok("Hello,\n\n  see you   at 9:30!".to_owned())
        );
    }

    #[test]
    fn a_blank_message_or_one_with_control_characters_is_refused() {
        for channel in [Channel::Sms, Channel::Whatsapp] {
            assert_eq!(
                MessageText::parse(" \n\t ", channel),
                Err(MessageTextError::Required)
            );
            assert_eq!(
                MessageText::parse("nul\u{0}byte", channel),
                Err(MessageTextError::ControlCharacters)
            );
        }
        assert_eq!(MessageTextError::Required.to_string(), "Write the message.");
        assert!(MessageText::parse("tab\there", Channel::Sms).is_ok());
    }

    #[test]
    fn template_sids_are_hx_and_32_lowercase_hex_digits() {
        let sid = "HX0123456789abcdef0123456789abcdef";
        assert_eq!(
            TemplateSid::parse(&format!(" {sid} ")).map(TemplateSid::into_inner),
            Ok(sid.to_owned())
        );
        for bad in [
            "HX0123456789ABCDEF0123456789ABCDEF",
            "hx0123456789abcdef0123456789abcdef",
            "MG0123456789abcdef0123456789abcdef",
            "HX0123456789abcdef0123456789abcde",
            "HX0123456789abcdef0123456789abcdef0",
            "HX0123456789abcdef0123456789abcdeg",
            "HX",
        ] {
            assert_eq!(
                TemplateSid::parse(bad),
                Err(TemplateSidError::Invalid),
                "{bad}"
            );
        }
        assert_eq!(TemplateSid::parse("  "), Err(TemplateSidError::Required));
        assert_eq!(
            TemplateSidError::Invalid.to_string(),
            "Use the template's content SID: HX followed by 32 hexadecimal digits."
        );
    }

    fn variables(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn template_variables_are_trimmed_and_serialize_as_a_map() {
        let parsed = TemplateVariables::parse(variables(&[("1", " Ada "), ("date", "24 Dec")]));
        assert_eq!(parsed.as_ref().map(|v| v.get("1")), Ok(Some("Ada")));
        assert_eq!(
            parsed.ok().and_then(|v| serde_json::to_value(v).ok()),
            Some(serde_json::json!({"1": "Ada", "date": "24 Dec"}))
        );
        assert_eq!(
            TemplateVariables::parse(BTreeMap::new()),
            Ok(TemplateVariables::default())
        );
    }

    #[test]
    fn template_variable_errors_say_which_variable() {
        assert_eq!(
            TemplateVariables::parse(variables(&[("1", "Ada"), ("2", "  ")]))
                .map_err(|e| e.to_string()),
            Err("Fill in variable \"2\".".to_owned())
        );
        assert_eq!(
            TemplateVariables::parse(variables(&[("note", &"x".repeat(1025))]))
                .map_err(|e| e.to_string()),
            Err("Variable \"note\": at most 1024 characters.".to_owned())
        );
        assert!(TemplateVariables::parse(variables(&[("note", &"é".repeat(1024))])).is_ok());
        assert_eq!(
            TemplateVariables::parse(variables(&[("1", "two\nlines")])),
            Err(TemplateVariablesError::ControlCharacters {
                name: "1".to_owned()
            })
        );
        assert_eq!(
            TemplateVariables::parse(variables(&[("", "Ada")])),
            Err(TemplateVariablesError::Unnamed)
        );
        assert_eq!(
            TemplateVariables::parse(variables(&[("first name", "Ada")])),
            Err(TemplateVariablesError::InvalidName {
                name: "first name".to_owned(),
                max: 64
            })
        );
    }

    #[test]
    fn a_template_may_have_20_variables_but_not_21() {
        let many = |n: usize| (1..=n).map(|i| (i.to_string(), "x".to_owned())).collect();
        assert!(TemplateVariables::parse(many(20)).is_ok());
        assert_eq!(
            TemplateVariables::parse(many(21)),
            Err(TemplateVariablesError::TooMany { max: 20 })
        );
    }

    proptest! {
        #[test]
        fn a_text_of_basic_gsm_characters_is_gsm7_with_one_septet_each(
            chars in prop::collection::vec(prop::sample::select(GSM7_BASIC_TABLE.chars().collect::<Vec<_>>()), 0..700)
        ) {
            let text: String = chars.iter().collect();
            let n = chars.len() as u32;
            let expected = match n {
                0 => 0,
                1..=160 => 1,
                _ => ceil_div(n, GSM7_PART),
            };
            prop_assert_eq!(sms_length(&text), length(SmsEncoding::Gsm7, n, expected));
        }

        #[test]
        fn segments_stay_within_the_ceiling_formulas(text in "\\PC{0,800}|[a-z€\\[\\]]{0,800}|[a-zж🙂]{0,400}") {
            let measured = sms_length(&text);
            let (single, part) = match measured.encoding {
                SmsEncoding::Gsm7 => (GSM7_SINGLE, GSM7_PART),
                SmsEncoding::Ucs2 => {
                    prop_assert_eq!(measured.units as usize, text.encode_utf16().count());
                    (UCS2_SINGLE, UCS2_PART)
                }
            };
            if measured.units <= single {
                prop_assert_eq!(measured.segments, u32::from(measured.units > 0));
            } else {
                // A character of two units that would straddle a boundary wastes one unit at most.
                prop_assert!(measured.segments >= ceil_div(measured.units, part));
                prop_assert!(measured.segments <= ceil_div(measured.units, part - 1));
            }
        }

        #[test]
        fn a_parsed_message_parses_again_to_itself(
            input in "\\PC{0,1700}", whatsapp in any::<bool>()
        ) {
            let channel = if whatsapp { Channel::Whatsapp } else { Channel::Sms };
            if let Ok(text) = MessageText::parse(&input, channel) {
                prop_assert_eq!(MessageText::parse(text.as_str(), channel), Ok(text.clone()));
                prop_assert!(text.length().segments <= MessageText::MAX_SMS_PARTS || whatsapp);
            }
        }

        #[test]
        fn any_hx_and_32_lowercase_hex_digits_is_a_template_sid(sid in "HX[0-9a-f]{32}") {
            prop_assert_eq!(TemplateSid::parse(&sid).map(TemplateSid::into_inner), Ok(sid));
        }
    }
}
