//! Checks an uploaded PDF: it parses, is not encrypted, has pages, runs no code.

use lopdf::{Document, Object};

use crate::ReceiptError;

const MALFORMED: ReceiptError = ReceiptError::Malformed("PDF document");

/// Keys whose presence means the document can run JavaScript or launch things.
const ACTIVE_KEYS: [&[u8]; 3] = [b"JS", b"JavaScript", b"AA"];
/// Action types that run code or open other programs or files.
const ACTIVE_ACTIONS: [&[u8]; 4] = [b"JavaScript", b"Launch", b"ImportData", b"RichMediaExecute"];

/// Returns the page count of an acceptable PDF.
pub fn check(bytes: &[u8]) -> Result<u32, ReceiptError> {
    let doc = Document::load_mem(bytes).map_err(|error| match error {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => ReceiptError::Encrypted,
        // A file the parser gives up on may still be plainly encrypted: say so rather than
        // "damaged", which would send the user looking for another copy.
        _ if looks_encrypted(bytes) => ReceiptError::Encrypted,
        _ => MALFORMED,
    })?;
    // `was_encrypted`: lopdf opens files whose user password is empty and drops their
    // `/Encrypt`; such a file is still encrypted for everyone else who opens it.
    if doc.is_encrypted() || doc.was_encrypted() || doc.trailer.get(b"Encrypt").is_ok() {
        return Err(ReceiptError::Encrypted);
    }
    if !trailer_ok(bytes) {
        return Err(MALFORMED);
    }
    if doc.objects.values().any(|object| is_active(object, 0)) {
        return Err(ReceiptError::ActiveContent);
    }
    let pages = u32::try_from(doc.get_pages().len()).map_err(|_| MALFORMED)?;
    if pages == 0 {
        return Err(ReceiptError::NoPages);
    }
    Ok(pages)
}

/// A complete PDF ends with `%%EOF` (give or take trailing white space); lopdf repairs
/// truncated files, which is right for reading but not for accepting an upload.
fn trailer_ok(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    tail.windows(5).any(|w| w == b"%%EOF")
}

/// An `/Encrypt` entry in a file the parser could not read. Only asked of unreadable files, so a
/// readable PDF that merely mentions the word is never refused for it.
fn looks_encrypted(bytes: &[u8]) -> bool {
    bytes.windows(8).any(|w| w == b"/Encrypt")
}

/// How deep [`is_active`] looks into nested dictionaries and arrays; real PDFs nest a handful of
/// levels, and anything deeper is refused rather than left unchecked.
const MAX_NESTING: usize = 32;

/// Whether an object, or any dictionary or array written inside it, runs code: actions may be
/// separate objects or written inline (`/OpenAction << /S /JavaScript … >>`, an annotation's
/// `/A << /S /Launch … >>`).
fn is_active(object: &Object, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return true;
    }
    let dict = match object {
        Object::Dictionary(dict) => dict,
        Object::Stream(stream) => &stream.dict,
        Object::Array(items) => return items.iter().any(|item| is_active(item, depth + 1)),
        _ => return false,
    };
    let runs_action = dict
        .get(b"S")
        .ok()
        .and_then(|s| s.as_name().ok())
        .is_some_and(|name| ACTIVE_ACTIONS.contains(&name));
    runs_action
        || ACTIVE_KEYS.iter().any(|key| dict.has(key))
        || dict.iter().any(|(_, value)| is_active(value, depth + 1))
}
