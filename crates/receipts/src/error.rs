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
    /// A PDF with JavaScript or launch actions.
    #[error("The PDF contains JavaScript or actions that launch programs, which are not allowed.")]
    ActiveContent,
    /// A PDF without pages.
    #[error("The PDF has no pages.")]
    NoPages,
}
