//! Receipt files for invoices: PDF, JPEG or PNG only, every stored receipt a PDF.
//!
//! - [`detect`] decides the type by magic bytes, never by name or `Content-Type`.
//! - JPEGs are wrapped into a one-page PDF **without re-encoding**: the file's bytes become a
//!   `DCTDecode` image as they are. EXIF orientation is applied by the page's transformation
//!   matrix, Adobe (inverted) CMYK by a `Decode` array, so nothing is decoded or re-compressed.
//! - PNGs become a lossless one-page PDF: 8- and 16-bit non-interlaced images without alpha pass
//!   their compressed data straight through (Flate with PNG predictors); the others are decoded
//!   (within limits) and Flate-encoded, alpha as a soft mask.
//! - PDFs must load within limits (their object and cross-reference streams together unpack
//!   to at most [`PDF_MAX_STRUCTURE_BYTES`] and no more than `max_decoded_bytes`; at most
//!   [`PDF_MAX_OBJECTS`] objects and [`PDF_MAX_VALUES`] values outside streams), every object
//!   must parse, and they must have pages, be unencrypted and carry nothing that runs, sends,
//!   opens or unpacks (JavaScript, launch, submit-form, remote or web links, embedded files and
//!   media, XFA). A PDF that fails is refused, never repaired; a valid PDF is kept byte for byte.
//! - An image's embedded colour profile (ICC: JPEG APP2 segments, PNG `iCCP`) goes into the PDF
//!   as an `ICCBased` colour space, so wide-gamut photos keep their colours.
//!
//! Image dimensions are read from headers before anything is decoded, so decompression bombs
//! are refused before any large allocation.

mod detect;
mod error;
mod icc;
mod jpeg;
mod page;
mod pdf;
mod png;

use std::borrow::Cow;

pub use detect::{SourceKind, detect};
pub use error::ReceiptError;
pub use pdf::{
    MAX_OBJECTS as PDF_MAX_OBJECTS, MAX_STRUCTURE_BYTES as PDF_MAX_STRUCTURE_BYTES,
    MAX_VALUES as PDF_MAX_VALUES,
};

/// Limits on what is accepted, against decompression bombs and giant images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most pixels (width × height) an image may have.
    pub max_pixels: u64,
    /// Most bytes a PNG may decode to when it can't be passed through; also caps what a PDF's
    /// compressed structure may unpack to (never more than [`PDF_MAX_STRUCTURE_BYTES`]).
    pub max_decoded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pixels: 50_000_000,
            max_decoded_bytes: 512 * 1024 * 1024,
        }
    }
}

/// A receipt ready to store: always a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt<'a> {
    /// The PDF: the upload itself for PDFs, a new document for images.
    pub pdf: Cow<'a, [u8]>,
    /// What was uploaded.
    pub source: SourceKind,
    /// Pages of the PDF.
    pub pages: u32,
}

/// Detects `upload`'s type and turns it into a PDF receipt.
pub fn convert_to_pdf<'a>(upload: &'a [u8], limits: &Limits) -> Result<Receipt<'a>, ReceiptError> {
    match detect(upload)? {
        SourceKind::Pdf => {
            let pages = pdf::check(upload, limits)?;
            Ok(Receipt {
                pdf: Cow::Borrowed(upload),
                source: SourceKind::Pdf,
                pages,
            })
        }
        SourceKind::Jpeg => Ok(Receipt {
            pdf: Cow::Owned(jpeg::to_pdf(upload, limits)?),
            source: SourceKind::Jpeg,
            pages: 1,
        }),
        SourceKind::Png => Ok(Receipt {
            pdf: Cow::Owned(png::to_pdf(upload, limits)?),
            source: SourceKind::Png,
            pages: 1,
        }),
    }
}
