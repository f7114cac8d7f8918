//! Free-text values with a length rule: names, notes, labels.

use serde::Serialize;

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty, or only white space, where a value is required.
    #[error("This field is required.")]
    Required,
    /// Longer than the limit, counted in characters after trimming.
    #[error("Must be at most {max} characters.")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Contains control characters (other than line breaks and tabs where allowed).
    #[error("Must not contain control characters.")]
    ControlCharacters,
}

/// Trims `input` and checks it against the rules of one kind of text.
fn parse_text(
    input: &str,
    max: usize,
    required: bool,
    multiline: bool,
) -> Result<String, TextError> {
    let trimmed = input.trim();
    if required && trimmed.is_empty() {
        return Err(TextError::Required);
    }
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !trimmed.chars().all(allowed) {
        return Err(TextError::ControlCharacters);
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, max = $max:expr, required = $required:expr, multiline = $multiline:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Trims `input` and checks it.
            pub fn parse(input: &str) -> Result<Self, TextError> {
                parse_text(input, $max, $required, $multiline).map(Self)
            }

            /// The checked text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The checked text, owned.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = TextError;
            fn try_from(input: &str) -> Result<Self, TextError> {
                Self::parse(input)
            }
        }
    };
}

text_value!(
    /// A customer's name: trimmed, 1 to 200 characters, one line.
    CustomerName, max = 200, required = true, multiline = false
);
text_value!(
    /// Free notes about a customer: trimmed, at most 5000 characters, may be empty.
    Notes, max = 5000, required = false, multiline = true
);
text_value!(
    /// A reminder's note: trimmed, at most 1000 characters, may be empty (a reminder about a
    /// message shows the message instead).
    ReminderNote, max = 1000, required = false, multiline = true
);
text_value!(
    /// An invoice's own number (as printed on it): trimmed, at most 64 characters, one line,
    /// may be empty.
    InvoiceNumber, max = 64, required = false, multiline = false
);
text_value!(
    /// A user's display name: trimmed, 1 to 100 characters, one line.
    UserName, max = 100, required = true, multiline = false
);
text_value!(
    /// The label of a personal API token: trimmed, 1 to 100 characters, one line.
    TokenName, max = 100, required = true, multiline = false
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(
            CustomerName::parse("  Ada Lovelace \n").map(|n| n.into_inner()),
            Ok("Ada Lovelace".to_owned())
        );
    }

    #[test]
    fn an_empty_or_blank_name_is_required() {
        assert_eq!(CustomerName::parse(""), Err(TextError::Required));
        assert_eq!(CustomerName::parse(" \t "), Err(TextError::Required));
    }

    #[test]
    fn a_name_may_have_200_characters_but_not_201() {
        assert!(CustomerName::parse(&"é".repeat(200)).is_ok());
        assert_eq!(
            CustomerName::parse(&"é".repeat(201)),
            Err(TextError::TooLong { max: 200 })
        );
        assert_eq!(
            TextError::TooLong { max: 200 }.to_string(),
            "Must be at most 200 characters."
        );
    }

    #[test]
    fn a_name_refuses_control_characters_but_notes_keep_line_breaks() {
        assert_eq!(
            CustomerName::parse("Ada\nLovelace"),
            Err(TextError::ControlCharacters)
        );
        assert_eq!(
            CustomerName::parse("Ada\u{0}"),
            Err(TextError::ControlCharacters)
        );
        assert!(Notes::parse("line one\nline two\ttab").is_ok());
        assert_eq!(
            InvoiceNumber::parse("2026\u{0}42"),
            Err(TextError::ControlCharacters)
        );
        assert_eq!(
            InvoiceNumber::parse(" 2026-0042 ").map(InvoiceNumber::into_inner),
            Ok("2026-0042".to_owned())
        );
        assert_eq!(Notes::parse("bell\u{7}"), Err(TextError::ControlCharacters));
    }

    #[test]
    fn notes_may_be_empty_but_not_longer_than_5000_characters() {
        assert_eq!(
            Notes::parse("   ").map(|n| n.into_inner()),
            Ok(String::new())
        );
        assert_eq!(
            Notes::parse(&"x".repeat(5001)),
            Err(TextError::TooLong { max: 5000 })
        );
    }

    proptest! {
        #[test]
        fn a_parsed_name_parses_again_to_itself(input in "\\PC{0,250}") {
            if let Ok(name) = CustomerName::parse(&input) {
                prop_assert_eq!(CustomerName::parse(name.as_str()), Ok(name.clone()));
                prop_assert_eq!(name.as_str(), name.as_str().trim());
                prop_assert!(!name.as_str().is_empty());
                prop_assert!(name.as_str().chars().count() <= CustomerName::MAX_CHARS);
            }
        }

        #[test]
        fn any_printable_name_up_to_the_limit_is_accepted(input in "[a-zA-Z][a-zA-Z '.-]{0,198}[a-zA-Z]") {
            let name = CustomerName::parse(&input);
            prop_assert_eq!(name.map(|n| n.into_inner()), Ok(input));
        }

        #[test]
        fn parsed_notes_parse_again_to_themselves(input in "\\PC{0,300}") {
            if let Ok(notes) = Notes::parse(&input) {
                prop_assert_eq!(Notes::parse(notes.as_str()), Ok(notes));
            }
        }
    }
}
