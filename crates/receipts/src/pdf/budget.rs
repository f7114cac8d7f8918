//! How much a PDF may unpack while it is loaded.
//!
//! Loading decodes the document's compressed structure: cross-reference streams and object
//! streams (and any stream that a cross-reference entry names as the container of an object).
//! lopdf bounds each stream, not their sum, so a few megabytes of nested Flate can unpack to
//! gigabytes across many streams. The sum is bounded here by sharing the budget among every
//! stream that loading could keep: a stream's decoded content only outlives its decoding when it
//! is an object stream, which needs `/First`, or a cross-reference stream, which needs `/W`.
//! Stream dictionaries are never compressed (a stream can't sit inside an object stream), so
//! counting those names in the file's bytes, as lopdf reads them (`#xx` escapes decoded), counts
//! every such stream, and perhaps a few more.
//!
//! Parsed values take far more memory than the bytes they are written in (a `0 ` becomes an
//! object of over a hundred bytes), so the values written outside streams are counted too, and
//! the structure's budget is kept small: together they hold one upload's parsed objects to a few
//! hundred megabytes, about what the largest PNG may decode to.

use crate::{Limits, ReceiptError};

/// The most a PDF's compressed structure may unpack to in all, whatever
/// `RECEIPT_MAX_DECODED_MB` allows: ordinary documents need well under a megabyte.
pub const MAX_STRUCTURE_BYTES: usize = 4 * 1024 * 1024;

/// The most values (numbers, names, strings, brackets) a PDF may write outside its streams'
/// data; a thousand-page document writes a few hundred thousand.
pub const MAX_VALUES: usize = 2_000_000;

/// What loading one upload may decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    total: usize,
    streams: usize,
}

impl Budget {
    /// The budget for `bytes` under `limits`, or why loading them would cost too much anyway.
    pub fn for_upload(bytes: &[u8], limits: &Limits) -> Result<Self, ReceiptError> {
        if count_values(bytes) > MAX_VALUES {
            return Err(ReceiptError::PdfTooComplex {
                max: MAX_VALUES,
                of: "values outside its streams",
            });
        }
        let configured = usize::try_from(limits.max_decoded_bytes).unwrap_or(usize::MAX);
        Ok(Self {
            total: configured.min(MAX_STRUCTURE_BYTES),
            streams: count_names(bytes, &[b"First", b"W"]),
        })
    }

    /// The most one stream may unpack to, so that all of them together stay within the total.
    pub fn per_stream(&self) -> usize {
        (self.total / self.streams.max(1)).max(1)
    }

    /// The total, in whole MiB, for messages.
    pub fn total_mib(&self) -> u64 {
        u64::try_from(self.total.div_ceil(1024 * 1024)).unwrap_or(u64::MAX)
    }
}

/// How many name tokens in `bytes` read as one of `wanted` once their `#xx` escapes are decoded.
fn count_names(bytes: &[u8], wanted: &[&[u8]]) -> usize {
    let mut count = 0;
    let mut name = Vec::new();
    let mut rest = bytes;
    while let Some(start) = rest.iter().position(|&b| b == b'/') {
        rest = &rest[start + 1..];
        let end = rest
            .iter()
            .position(|&b| !is_regular(b))
            .unwrap_or(rest.len());
        decode_name(&rest[..end], &mut name);
        count += usize::from(wanted.contains(&name.as_slice()));
        rest = &rest[end..];
    }
    count
}

/// Roughly how many values are written outside streams' data: every run of regular characters
/// and every delimiter. A stream's data (from the `stream` keyword to `endstream`) is skipped.
fn count_values(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut in_run = false;
    let mut i = 0;
    while i < bytes.len() {
        if starts_stream(bytes, i) {
            let data = &bytes[i..];
            match data.windows(9).position(|w| w == b"endstream") {
                Some(end) => i += end + 9,
                None => break,
            }
            in_run = false;
            continue;
        }
        let byte = bytes[i];
        if is_regular(byte) {
            count += usize::from(!in_run);
            in_run = true;
        } else {
            count += usize::from(!is_white_space(byte));
            in_run = false;
        }
        i += 1;
    }
    count
}

/// Whether the keyword `stream` starts at `i`: after white space or `>>`, before an end of line.
fn starts_stream(bytes: &[u8], i: usize) -> bool {
    bytes[i..].starts_with(b"stream")
        && matches!(bytes.get(i + 6), Some(b'\r' | b'\n'))
        && i.checked_sub(1)
            .and_then(|before| bytes.get(before))
            .is_some_and(|&b| is_white_space(b) || b == b'>')
}

fn is_white_space(byte: u8) -> bool {
    matches!(byte, b'\0' | b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// A regular character: neither white space nor a delimiter (PDF 32000-1:2008, 7.2.2).
fn is_regular(byte: u8) -> bool {
    !is_white_space(byte)
        && !matches!(
            byte,
            b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
        )
}

/// A name's characters with `#xx` escapes decoded, into `out`.
fn decode_name(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < raw.len() {
        let escaped = (raw[i] == b'#')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_counted_with_escapes_decoded_and_only_whole() {
        let bytes = b"<</Type/ObjStm/First 12/N 3>> <</W[1 2 1]/Fir#73t 4/Firsts 1/WW 2 /W#20>>";
        assert_eq!(count_names(bytes, &[b"First", b"W"]), 3);
        assert_eq!(count_names(b"(no names)", &[b"First"]), 0);
        assert_eq!(count_names(b"/First", &[b"First"]), 1);
    }

    #[test]
    fn the_budget_is_shared_by_every_stream_that_could_be_kept() {
        let limits = Limits::default();
        let budget = |bytes: &[u8], limits: &Limits| Budget::for_upload(bytes, limits).unwrap();
        assert_eq!(
            budget(b"/W [1 2 1]", &limits).per_stream(),
            MAX_STRUCTURE_BYTES
        );
        let four = budget(b"/W /First /First /First", &limits);
        assert_eq!(four.per_stream(), MAX_STRUCTURE_BYTES / 4);
        let small = Limits {
            max_decoded_bytes: 1024 * 1024,
            ..limits
        };
        assert_eq!(budget(b"", &small).per_stream(), 1024 * 1024);
        assert_eq!(budget(b"", &small).total_mib(), 1);
    }

    #[test]
    fn values_are_counted_outside_streams_only() {
        assert_eq!(count_values(b"<< /Type /Page /Kids [1 0 R] >>"), 15);
        let stream = b"<< /Length 9 >>\nstream\n0 0 0 0 0\nendstream\n[0 0]";
        assert_eq!(count_values(stream), 11);
        // `stream` inside a name or without an end of line is not the keyword.
        assert_eq!(count_values(b"/Upstream\n0 0"), 4);
        let flat = [b"[".as_slice(), &b"0 ".repeat(MAX_VALUES), b"]"].concat();
        assert!(matches!(
            Budget::for_upload(&flat, &Limits::default()),
            Err(ReceiptError::PdfTooComplex { .. })
        ));
    }
}
