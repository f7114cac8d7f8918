//! Type detection by content.

use crate::ReceiptError;

/// The accepted kinds of upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Pdf,
    Jpeg,
    Png,
}

impl SourceKind {
    /// The media type of the upload.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Decides the type from the first bytes alone.
pub fn detect(bytes: &[u8]) -> Result<SourceKind, ReceiptError> {
    if bytes.is_empty() {
        return Err(ReceiptError::Empty);
    }
    if bytes.starts_with(b"%PDF-") {
        Ok(SourceKind::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(SourceKind::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Ok(SourceKind::Png)
    } else {
        Err(ReceiptError::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_the_type() {
        assert_eq!(detect(b"%PDF-1.7\n"), Ok(SourceKind::Pdf));
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(SourceKind::Jpeg));
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n...."), Ok(SourceKind::Png));
        for other in [
            &b"GIF89a"[..],
            b"RIFF\0\0\0\0WEBP",
            b"MZ\x90\0",
            b"hello",
            b"\0\0\0 ftypheic",
        ] {
            assert_eq!(detect(other), Err(ReceiptError::Unsupported));
        }
        assert_eq!(detect(b""), Err(ReceiptError::Empty));
    }
}
