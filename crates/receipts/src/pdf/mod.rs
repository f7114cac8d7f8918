//! Checks an uploaded PDF: it loads within memory limits, every object in it parses, it is not
//! encrypted, has pages, and carries nothing a colleague's viewer would run, submit or open.
//!
//! A PDF that fails any of these is refused, never repaired: an accepted PDF is stored byte for
//! byte, so what is stored is exactly what was checked.

mod active;
mod budget;

use lopdf::xref::{XrefEntry, XrefRecovery};
use lopdf::{DecompressError, Document, LoadOptions};

use crate::{Limits, ReceiptError};

pub use budget::{MAX_STRUCTURE_BYTES, MAX_VALUES};

const MALFORMED: ReceiptError = ReceiptError::Malformed("PDF document");

/// Most objects (and cross-reference entries) a receipt may have. A thousand-page scan has a
/// few thousand; the limit keeps the checks that walk every object bounded.
pub const MAX_OBJECTS: usize = 200_000;

/// Returns the page count of an acceptable PDF.
pub fn check(bytes: &[u8], limits: &Limits) -> Result<u32, ReceiptError> {
    let budget = budget::Budget::for_upload(bytes, limits)?;
    let doc = load(bytes, &budget)?;
    // `was_encrypted`: lopdf opens files whose user password is empty and drops their
    // `/Encrypt`; such a file is still encrypted for everyone else who opens it.
    if doc.is_encrypted() || doc.was_encrypted() || doc.trailer.get(b"Encrypt").is_ok() {
        return Err(ReceiptError::Encrypted);
    }
    if !trailer_ok(bytes) || !every_object_loaded(&doc) {
        return Err(MALFORMED);
    }
    if doc.objects.len() > MAX_OBJECTS {
        return Err(ReceiptError::PdfTooComplex {
            max: MAX_OBJECTS,
            of: "objects",
        });
    }
    if let Some(found) = active::find(&doc) {
        return Err(ReceiptError::ActiveContent(found));
    }
    let pages = u32::try_from(doc.get_pages().len()).map_err(|_| MALFORMED)?;
    if pages == 0 {
        return Err(ReceiptError::NoPages);
    }
    Ok(pages)
}

/// Loads the document with every stream that loading decodes held to the budget's share.
fn load(bytes: &[u8], budget: &budget::Budget) -> Result<Document, ReceiptError> {
    let options = LoadOptions {
        max_decompressed_size: Some(budget.per_stream()),
        ..LoadOptions::default()
    };
    Document::load_mem_with_options(bytes, options).map_err(|error| match error {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => ReceiptError::Encrypted,
        lopdf::Error::Decompress(
            DecompressError::MemoryLimitExceeded { .. } | DecompressError::TooManyFilters { .. },
        ) => ReceiptError::PdfTooLarge {
            max_mib: budget.total_mib(),
        },
        // A file the parser gives up on may still be plainly encrypted: say so rather than
        // "damaged", which would send the user looking for another copy.
        _ if looks_encrypted(bytes) => ReceiptError::Encrypted,
        _ => MALFORMED,
    })
}

/// Whether every object the cross-reference data lists was read, and the data itself was read
/// as written. lopdf skips objects it cannot parse and rebuilds unreadable cross-reference
/// data, which is right for a viewer but not for accepting an upload: a part that did not parse
/// here was not checked, and another reader may make something else of it.
fn every_object_loaded(doc: &Document) -> bool {
    let table = &doc.reference_table;
    doc.xref_recovery != Some(XrefRecovery::Reconstructed)
        && table.entries.len() <= MAX_OBJECTS
        && table.entries.iter().all(|(&number, entry)| match *entry {
            XrefEntry::Normal { generation, .. } => doc.objects.contains_key(&(number, generation)),
            XrefEntry::Compressed { .. } => doc.objects.contains_key(&(number, 0)),
            XrefEntry::Free | XrefEntry::UnusableFree => true,
        })
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
