//! Why a receipt was refused; each `Display` is the message shown under the upload field.

/// A refused upload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Not a PDF, JPEG or PNG.
    #[error("Only PDF, JPEG or PNG files are allowed.")]
    Unsupported,
    /// No bytes at all.
    #[error("The file is empty.")]
    Empty,
    /// Damaged or truncated.
    #[error("The file is damaged or incomplete: it is not a readable {0}.")]
    Malformed(&'static str),
    /// Larger than the pixel or memory limits.
    #[error(
        "The image is too large ({width} × {height} pixels); the limit is {max_megapixels} megapixels."
    )]
    TooLarge {
        width: u32,
        height: u32,
        max_megapixels: u64,
    },
    /// A JPEG of a kind PDF viewers can't show (lossless, hierarchical, arithmetic-coded).
    #[error(
        "This kind of JPEG (lossless, hierarchical or arithmetic-coded) can't be shown in a PDF; save it as a standard JPEG or PNG."
    )]
    UnsupportedJpeg,
    /// A password-protected PDF.
    #[error("The PDF is encrypted or password-protected; upload an unprotected copy.")]
    Encrypted,
    /// A PDF that carries something a viewer would run, send, open or unpack; says what.
    #[error(
        "The PDF contains {0}, which a receipt may not carry; upload a copy without it (a scan or a photo of the receipt will do)."
    )]
    ActiveContent(&'static str),
    /// A PDF whose compressed structure unpacks to more than the limit (a decompression bomb).
    #[error(
        "The PDF is too large to check: its compressed parts unpack to more than {max_mib} MiB."
    )]
    PdfTooLarge { max_mib: u64 },
    /// A PDF with more objects, or values outside its streams, than the limit.
    #[error("The PDF is too large to check: it has more than {max} {of}.")]
    PdfTooComplex { max: usize, of: &'static str },
    /// A PDF without pages.
    #[error("The PDF has no pages.")]
    NoPages,
}
