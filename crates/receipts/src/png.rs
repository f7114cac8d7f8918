//! PNG -> PDF, lossless: compressed data passed through where PDF allows, else decoded and
//! Flate-encoded with alpha as a soft mask.

use std::io::{Cursor, Write};

use flate2::Compression;
use flate2::write::ZlibEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader};
use lopdf::{Object, Stream, dictionary};

use crate::icc::Profile;
use crate::jpeg::check_size;
use crate::page::{Placement, one_page_pdf};
use crate::{Limits, ReceiptError};

const MALFORMED: ReceiptError = ReceiptError::Malformed("PNG image");

/// The chunks that matter.
#[derive(Debug, Default)]
struct PngInfo<'a> {
    width: u32,
    height: u32,
    bit_depth: u8,
    color_type: u8,
    interlaced: bool,
    palette: Option<&'a [u8]>,
    transparency: bool,
    dpi: Option<(f64, f64)>,
    profile: Option<Profile>,
    data: Vec<&'a [u8]>,
}

/// Converts a PNG to a one-page PDF.
pub fn to_pdf(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ReceiptError> {
    let info = read_chunks(bytes)?;
    check_size(info.width, info.height, limits)?;
    let passthrough =
        !info.interlaced && !info.transparency && matches!(info.color_type, 0 | 2 | 3);
    // Either way every byte is checked (zlib stream and checksum, row filters), so a damaged
    // file is refused: row by row when the data passes through (one row in memory), whole when
    // the pixels are needed.
    let (image, mask) = if passthrough {
        verify_rows(bytes)?;
        (passed_through(&info)?, None)
    } else {
        reencoded(decode(bytes, limits)?)?
    };
    // Gray images (with or without alpha) come out gray, all others RGB (palettes index RGB).
    let components = if matches!(info.color_type, 0 | 4) {
        1
    } else {
        3
    };
    let profile = info
        .profile
        .filter(|profile| profile.components() == components);
    one_page_pdf(
        image,
        mask,
        profile,
        &Placement {
            width: info.width,
            height: info.height,
            dpi: info.dpi,
            orientation: 1,
        },
    )
}

/// The IDAT data as it is, with the PNG predictors declared: no pixel is touched.
fn passed_through(info: &PngInfo<'_>) -> Result<Stream, ReceiptError> {
    let (colors, color_space): (i64, Object) = match info.color_type {
        0 => (1, "DeviceGray".into()),
        2 => (3, "DeviceRGB".into()),
        3 => {
            let palette = info.palette.ok_or(MALFORMED)?;
            let highest = i64::try_from(palette.len() / 3).map_err(|_| MALFORMED)? - 1;
            (
                1,
                Object::Array(vec![
                    "Indexed".into(),
                    "DeviceRGB".into(),
                    highest.into(),
                    Object::String(palette.to_vec(), lopdf::StringFormat::Hexadecimal),
                ]),
            )
        }
        _ => return Err(MALFORMED),
    };
    let dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => i64::from(info.width),
        "Height" => i64::from(info.height),
        "ColorSpace" => color_space,
        "BitsPerComponent" => i64::from(info.bit_depth),
        "Filter" => "FlateDecode",
        "DecodeParms" => dictionary! {
            "Predictor" => 15,
            "Colors" => colors,
            "BitsPerComponent" => i64::from(info.bit_depth),
            "Columns" => i64::from(info.width),
        },
    };
    Ok(Stream::new(dict, info.data.concat()).with_compression(false))
}

/// Decoded pixels, Flate-encoded; alpha becomes a soft mask of the same depth.
fn reencoded(pixels: DynamicImage) -> Result<(Stream, Option<Stream>), ReceiptError> {
    let (width, height) = (pixels.width(), pixels.height());
    let has_alpha = pixels.color().has_alpha();
    let sixteen = pixels.color().bytes_per_pixel() / pixels.color().channel_count() == 2;
    let gray = !pixels.color().has_color();
    let (color, alpha): (Vec<u8>, Option<Vec<u8>>) = match (gray, sixteen) {
        (true, false) => split(pixels.into_luma_alpha8().into_raw(), 2, 1, has_alpha),
        (false, false) => split(pixels.into_rgba8().into_raw(), 4, 3, has_alpha),
        (true, true) => split(
            big_endian(pixels.into_luma_alpha16().into_raw()),
            4,
            2,
            has_alpha,
        ),
        (false, true) => split(big_endian(pixels.into_rgba16().into_raw()), 8, 6, has_alpha),
    };
    let bits = if sixteen { 16 } else { 8 };
    let image_dict = |color_space: &str| {
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => i64::from(width),
            "Height" => i64::from(height),
            "ColorSpace" => color_space,
            "BitsPerComponent" => bits,
            "Filter" => "FlateDecode",
        }
    };
    let mask = match alpha {
        Some(alpha) => {
            Some(Stream::new(image_dict("DeviceGray"), deflate(&alpha)?).with_compression(false))
        }
        None => None,
    };
    let image = Stream::new(
        image_dict(if gray { "DeviceGray" } else { "DeviceRGB" }),
        deflate(&color)?,
    );
    Ok((image.with_compression(false), mask))
}

/// Splits interleaved samples (`stride` bytes a pixel, the first `color` of them colour) into
/// colour and, when wanted, alpha.
fn split(
    raw: Vec<u8>,
    stride: usize,
    color: usize,
    keep_alpha: bool,
) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut colors = Vec::with_capacity(raw.len() / stride * color);
    let mut alpha = keep_alpha.then(|| Vec::with_capacity(raw.len() / stride * (stride - color)));
    for pixel in raw.chunks_exact(stride) {
        colors.extend_from_slice(&pixel[..color]);
        if let Some(alpha) = alpha.as_mut() {
            alpha.extend_from_slice(&pixel[color..]);
        }
    }
    (colors, alpha)
}

fn big_endian(samples: Vec<u16>) -> Vec<u8> {
    samples.into_iter().flat_map(u16::to_be_bytes).collect()
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, ReceiptError> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 2), Compression::default());
    encoder.write_all(data).map_err(|_| MALFORMED)?;
    encoder.finish().map_err(|_| MALFORMED)
}

/// Decodes every row, keeping one at a time: the file is whole and sound.
fn verify_rows(bytes: &[u8]) -> Result<(), ReceiptError> {
    let mut options = png::DecodeOptions::default();
    options.set_ignore_adler32(false);
    let mut decoder = png::Decoder::new_with_options(Cursor::new(bytes), options);
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|_| MALFORMED)?;
    while reader.next_row().map_err(|_| MALFORMED)?.is_some() {}
    reader.finish().map_err(|_| MALFORMED)
}

/// The whole image, decoded within the memory limit.
fn decode(bytes: &[u8], limits: &Limits) -> Result<DynamicImage, ReceiptError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_decoded_bytes);
    reader.limits(image_limits);
    let decoder = reader.into_decoder().map_err(|_| MALFORMED)?;
    let (width, height) = decoder.dimensions();
    if decoder.total_bytes() > limits.max_decoded_bytes {
        return Err(ReceiptError::TooLarge {
            width,
            height,
            max_megapixels: limits.max_pixels / 1_000_000,
        });
    }
    DynamicImage::from_decoder(decoder).map_err(|error| match error {
        image::ImageError::Limits(_) => ReceiptError::TooLarge {
            width,
            height,
            max_megapixels: limits.max_pixels / 1_000_000,
        },
        _ => MALFORMED,
    })
}

/// Walks the chunks, checking each one's CRC.
fn read_chunks(bytes: &[u8]) -> Result<PngInfo<'_>, ReceiptError> {
    let mut info = PngInfo::default();
    let mut at = 8;
    let mut seen_header = false;
    loop {
        let length = usize::try_from(u32::from_be_bytes(
            bytes
                .get(at..at + 4)
                .ok_or(MALFORMED)?
                .try_into()
                .map_err(|_| MALFORMED)?,
        ))
        .map_err(|_| MALFORMED)?;
        let kind = bytes.get(at + 4..at + 8).ok_or(MALFORMED)?;
        let data = bytes.get(at + 8..at + 8 + length).ok_or(MALFORMED)?;
        let crc = bytes
            .get(at + 8 + length..at + 12 + length)
            .ok_or(MALFORMED)?;
        let mut hasher = flate2::Crc::new();
        hasher.update(kind);
        hasher.update(data);
        if hasher.sum().to_be_bytes() != crc {
            return Err(MALFORMED);
        }
        match kind {
            b"IHDR" if data.len() == 13 => {
                info.width = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                info.height = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
                info.bit_depth = data[8];
                info.color_type = data[9];
                info.interlaced = data[12] == 1;
                seen_header = true;
            }
            b"PLTE" => info.palette = Some(data),
            b"tRNS" => info.transparency = true,
            b"iCCP" => info.profile = Profile::from_png_chunk(data),
            b"pHYs" if data.len() == 9 && data[8] == 1 => {
                let x = f64::from(u32::from_be_bytes([data[0], data[1], data[2], data[3]]));
                let y = f64::from(u32::from_be_bytes([data[4], data[5], data[6], data[7]]));
                if x > 0.0 && y > 0.0 {
                    info.dpi = Some((x * 0.0254, y * 0.0254));
                }
            }
            b"IDAT" => info.data.push(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + length;
    }
    if !seen_header || info.width == 0 || info.height == 0 || info.data.is_empty() {
        return Err(MALFORMED);
    }
    Ok(info)
}
