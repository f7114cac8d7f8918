//! JPEG -> PDF by wrapping the file's bytes as they are (`DCTDecode`): no decoding, no loss.

use lopdf::{Object, Stream, dictionary};

use crate::icc::Profile;
use crate::page::{Placement, one_page_pdf};
use crate::{Limits, ReceiptError};

const MALFORMED: ReceiptError = ReceiptError::Malformed("JPEG image");

/// What the headers of a JPEG say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JpegInfo {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub progressive: bool,
    pub dpi: Option<(f64, f64)>,
    pub orientation: u8,
    /// An Adobe APP14 segment: 4-component data is then stored inverted.
    pub adobe: bool,
    /// The embedded colour profile, when whole and for this image's colour space.
    pub profile: Option<Profile>,
}

/// Wraps a JPEG into a one-page PDF.
pub fn to_pdf(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ReceiptError> {
    let info = read_headers(bytes)?;
    check_size(info.width, info.height, limits)?;
    let color_space = match info.components {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        4 => "DeviceCMYK",
        _ => return Err(MALFORMED),
    };
    let mut dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => i64::from(info.width),
        "Height" => i64::from(info.height),
        "ColorSpace" => color_space,
        "BitsPerComponent" => 8,
        "Filter" => "DCTDecode",
    };
    if info.components == 4 && info.adobe {
        dict.set(
            "Decode",
            [1, 0, 1, 0, 1, 0, 1, 0].map(Object::Integer).to_vec(),
        );
    }
    let image = Stream::new(dict, bytes.to_vec()).with_compression(false);
    one_page_pdf(
        image,
        None,
        info.profile,
        &Placement {
            width: info.width,
            height: info.height,
            dpi: info.dpi,
            orientation: info.orientation,
        },
    )
}

/// Refuses images over the pixel limit.
pub(crate) fn check_size(width: u32, height: u32, limits: &Limits) -> Result<(), ReceiptError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ReceiptError::TooLarge {
            width,
            height,
            max_megapixels: limits.max_pixels / 1_000_000,
        });
    }
    Ok(())
}

/// Reads the markers up to the first scan: frame size and type, density, EXIF orientation,
/// Adobe segment, colour profile. Also makes sure the image data ends (an end-of-image marker follows the scan).
pub(crate) fn read_headers(bytes: &[u8]) -> Result<JpegInfo, ReceiptError> {
    let mut info = JpegInfo {
        width: 0,
        height: 0,
        components: 0,
        progressive: false,
        dpi: None,
        orientation: 1,
        adobe: false,
        profile: None,
    };
    let mut exif_dpi = None;
    let mut icc_segments = Vec::new();
    let mut at = 2;
    let mut scan_start = None;
    while at < bytes.len() {
        if bytes[at] != 0xFF {
            return Err(MALFORMED);
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at).ok_or(MALFORMED)?;
        at += 1;
        if marker == 0x01 || (0xD0..=0xD8).contains(&marker) {
            continue;
        }
        if marker == 0xD9 {
            break;
        }
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at).ok_or(MALFORMED)?,
            *bytes.get(at + 1).ok_or(MALFORMED)?,
        ]));
        let segment = bytes
            .get(at + 2..at + length)
            .filter(|_| length >= 2)
            .ok_or(MALFORMED)?;
        match marker {
            // Baseline, extended and progressive Huffman frames: what PDF's DCTDecode reads.
            0xC0..=0xC2 => {
                if segment.len() < 6 || segment[0] != 8 {
                    return Err(MALFORMED);
                }
                info.height = u32::from(u16::from_be_bytes([segment[1], segment[2]]));
                info.width = u32::from(u16::from_be_bytes([segment[3], segment[4]]));
                info.components = segment[5];
                info.progressive = marker == 0xC2;
            }
            // Lossless, hierarchical and arithmetic-coded frames: valid JPEG, but viewers
            // can't decode them inside a PDF.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(ReceiptError::UnsupportedJpeg);
            }
            0xE0 if segment.starts_with(b"JFIF\0") && segment.len() >= 12 => {
                let (x, y) = (
                    u16::from_be_bytes([segment[8], segment[9]]),
                    u16::from_be_bytes([segment[10], segment[11]]),
                );
                info.dpi = density(segment[7], f64::from(x), f64::from(y));
            }
            0xE1 if segment.starts_with(b"Exif\0\0") => {
                let (orientation, dpi) = read_exif(&segment[6..]);
                info.orientation = orientation;
                exif_dpi = dpi;
            }
            0xE2 if segment.starts_with(b"ICC_PROFILE\0") => icc_segments.push(segment),
            0xEE if segment.starts_with(b"Adobe") => info.adobe = true,
            0xDA => {
                scan_start = Some(at + length);
                break;
            }
            _ => {}
        }
        at += length;
    }
    let scan_start = scan_start.ok_or(MALFORMED)?;
    if info.width == 0 || info.height == 0 || !matches!(info.components, 1 | 3 | 4) {
        return Err(MALFORMED);
    }
    // A truncated file has no end-of-image marker after its scans (cameras may append data
    // after it, so look from the end).
    let ends = bytes[scan_start..]
        .windows(2)
        .rev()
        .any(|pair| pair == [0xFF, 0xD9]);
    if !ends {
        return Err(MALFORMED);
    }
    info.dpi = info.dpi.or(exif_dpi);
    info.profile = Profile::from_jpeg_segments(&icc_segments)
        .filter(|profile| profile.components() == info.components);
    Ok(info)
}

/// Pixels per inch from a density unit (1 inch, 2 centimetre; 0 means aspect ratio only).
fn density(unit: u8, x: f64, y: f64) -> Option<(f64, f64)> {
    match unit {
        1 if x > 0.0 && y > 0.0 => Some((x, y)),
        2 if x > 0.0 && y > 0.0 => Some((x * 2.54, y * 2.54)),
        _ => None,
    }
}

/// The EXIF orientation (1 when absent or odd) and resolution, if any.
fn read_exif(tiff: &[u8]) -> (u8, Option<(f64, f64)>) {
    let Ok(exif) = exif::Reader::new().read_raw(tiff.to_vec()) else {
        return (1, None);
    };
    let uint = |tag| {
        exif.get_field(tag, exif::In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
    };
    let orientation = uint(exif::Tag::Orientation)
        .and_then(|o| u8::try_from(o).ok())
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1);
    let rational = |tag| match exif.get_field(tag, exif::In::PRIMARY).map(|f| &f.value) {
        Some(exif::Value::Rational(values)) => values.first().map(exif::Rational::to_f64),
        _ => None,
    };
    let unit = match uint(exif::Tag::ResolutionUnit) {
        Some(3) => 2,
        _ => 1,
    };
    let dpi = rational(exif::Tag::XResolution)
        .zip(rational(exif::Tag::YResolution))
        .and_then(|(x, y)| density(unit, x, y));
    (orientation, dpi)
}
