//! Embedded colour profiles (ICC), carried into the PDF as an `ICCBased` colour space, so a
//! photo in Display P3 or Adobe RGB shows the colours it was taken with, not sRGB's.
//!
//! A profile that is damaged, too large or for another colour space than the image's is left
//! out (the image then shows as before, in the device colour space), never a reason to refuse
//! the upload: viewers and browsers ignore such profiles too.

use std::io::Read;

use flate2::read::ZlibDecoder;
use lopdf::{Object, Stream, dictionary};

/// Profiles larger than this are left out (real ones are a few kilobytes; large printer
/// profiles a few megabytes).
const MAX_PROFILE_BYTES: u64 = 4 * 1024 * 1024;

/// A checked ICC profile, ready to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    /// The profile, or its zlib stream when `compressed` (PNG's `iCCP` data passes through).
    data: Vec<u8>,
    compressed: bool,
    /// Colour components: 1 gray, 3 RGB, 4 CMYK.
    components: u8,
}

impl Profile {
    /// A profile as JPEG's APP2 segments carry it: `ICC_PROFILE\0`, sequence number (from 1),
    /// count, data. `None` unless every part is there exactly once and the whole is sound.
    pub(crate) fn from_jpeg_segments(segments: &[&[u8]]) -> Option<Self> {
        let mut parts: Vec<(u8, u8, &[u8])> = segments
            .iter()
            .filter_map(|segment| {
                let rest = segment.strip_prefix(b"ICC_PROFILE\0")?;
                let (&[sequence, count], data) = rest.split_first_chunk::<2>()?;
                Some((sequence, count, data))
            })
            .collect();
        let count = parts.first()?.1;
        parts.sort_by_key(|part| part.0);
        let complete = usize::from(count) == parts.len()
            && parts
                .iter()
                .zip(1..)
                .all(|(part, expected)| part.1 == count && part.0 == expected);
        if !complete {
            return None;
        }
        let data: Vec<u8> = parts.into_iter().flat_map(|part| part.2).copied().collect();
        Some(Self {
            components: components(&data)?,
            data,
            compressed: false,
        })
    }

    /// A profile from PNG's `iCCP` chunk: a name, a NUL, method 0 (zlib), the zlib stream.
    /// The stream is inflated (within the size limit) to check it, and embedded as it came.
    pub(crate) fn from_png_chunk(chunk: &[u8]) -> Option<Self> {
        let name_end = chunk.iter().take(80).position(|&byte| byte == 0)?;
        let (&method, compressed) = chunk.get(name_end + 1..)?.split_first()?;
        if method != 0 {
            return None;
        }
        let mut profile = Vec::new();
        ZlibDecoder::new(compressed)
            .take(MAX_PROFILE_BYTES + 1)
            .read_to_end(&mut profile)
            .ok()?;
        Some(Self {
            components: components(&profile)?,
            data: compressed.to_vec(),
            compressed: true,
        })
    }

    /// Colour components the profile describes.
    pub(crate) fn components(&self) -> u8 {
        self.components
    }

    /// The `ICCBased` stream: `/N`, the device space to fall back on, the profile.
    pub(crate) fn into_stream(self) -> Stream {
        let alternate = match self.components {
            1 => "DeviceGray",
            3 => "DeviceRGB",
            _ => "DeviceCMYK",
        };
        let mut dict = dictionary! {
            "N" => i64::from(self.components),
            "Alternate" => alternate,
        };
        if self.compressed {
            dict.set("Filter", "FlateDecode");
        }
        Stream::new(dict, self.data).with_compression(false)
    }
}

/// The colour components of a sound profile (header: its size, the `acsp` signature, a data
/// colour space of gray, RGB or CMYK), `None` otherwise.
fn components(profile: &[u8]) -> Option<u8> {
    let length = u64::try_from(profile.len()).ok()?;
    if !(132..=MAX_PROFILE_BYTES).contains(&length) {
        return None;
    }
    let declared = u32::from_be_bytes(profile[0..4].try_into().ok()?);
    if u64::from(declared) != length || &profile[36..40] != b"acsp" {
        return None;
    }
    match &profile[16..20] {
        b"GRAY" => Some(1),
        b"RGB " => Some(3),
        b"CMYK" => Some(4),
        _ => None,
    }
}

/// `color_space` (a device space, or `[/Indexed base hival lookup]`) with its device space
/// replaced by `[/ICCBased profile]`.
pub(crate) fn profiled(color_space: Object, profile: lopdf::ObjectId) -> Object {
    let icc_based = Object::Array(vec!["ICCBased".into(), profile.into()]);
    match color_space {
        Object::Array(mut indexed) if indexed.len() == 4 => {
            indexed[1] = icc_based;
            Object::Array(indexed)
        }
        _ => icc_based,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::ZlibEncoder;

    use super::*;

    fn profile(space: &[u8; 4], length: usize) -> Vec<u8> {
        let mut data = vec![0; length];
        data[0..4].copy_from_slice(&u32::try_from(length).unwrap().to_be_bytes());
        data[16..20].copy_from_slice(space);
        data[36..40].copy_from_slice(b"acsp");
        data
    }

    fn segment(sequence: u8, count: u8, data: &[u8]) -> Vec<u8> {
        [b"ICC_PROFILE\0".as_slice(), &[sequence, count], data].concat()
    }

    #[test]
    fn jpeg_segments_are_joined_in_sequence_order() {
        let whole = profile(b"RGB ", 300);
        let (first, second) = whole.split_at(100);
        let segments = [segment(2, 2, second), segment(1, 2, first)];
        let parsed =
            Profile::from_jpeg_segments(&segments.iter().map(Vec::as_slice).collect::<Vec<_>>())
                .unwrap();
        assert_eq!(parsed.components(), 3);
        assert_eq!(parsed.data, whole);
    }

    #[test]
    fn incomplete_or_unsound_profiles_are_left_out() {
        let whole = profile(b"CMYK", 300);
        let (first, second) = whole.split_at(100);
        let joined = |segments: &[Vec<u8>]| {
            Profile::from_jpeg_segments(&segments.iter().map(Vec::as_slice).collect::<Vec<_>>())
        };
        // A part missing, a part twice, counts that disagree.
        assert_eq!(joined(&[segment(1, 2, first)]), None);
        assert_eq!(joined(&[segment(1, 2, first), segment(1, 2, first)]), None);
        assert_eq!(joined(&[segment(1, 2, first), segment(2, 3, second)]), None);
        assert_eq!(
            joined(&[segment(1, 2, first), segment(2, 2, second)])
                .unwrap()
                .components(),
            4
        );
        // A size field that lies, no signature, a Lab profile.
        let mut lying = profile(b"RGB ", 300);
        lying[3] = 0;
        assert_eq!(components(&lying), None);
        let mut unsigned = profile(b"RGB ", 300);
        unsigned[36] = b'x';
        assert_eq!(components(&unsigned), None);
        assert_eq!(components(&profile(b"Lab ", 300)), None);
        assert_eq!(components(&profile(b"GRAY", 131)), None);
    }

    #[test]
    fn a_png_profile_passes_through_compressed() {
        let whole = profile(b"GRAY", 500);
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&whole).unwrap();
        let zlib = encoder.finish().unwrap();
        let chunk = [b"Camera\0\0".as_slice(), &zlib].concat();
        let parsed = Profile::from_png_chunk(&chunk).unwrap();
        assert_eq!((parsed.components(), parsed.compressed), (1, true));
        assert_eq!(parsed.data, zlib);
        // Another compression method, no NUL after the name, damaged data.
        assert_eq!(
            Profile::from_png_chunk(&[b"Camera\0\x01".as_slice(), &zlib].concat()),
            None
        );
        assert_eq!(Profile::from_png_chunk(&[b'a'; 100]), None);
        assert_eq!(
            Profile::from_png_chunk(&[b"Camera\0\0".as_slice(), &zlib[..10]].concat()),
            None
        );
    }

    #[test]
    fn a_png_profile_that_inflates_past_the_limit_is_left_out() {
        let huge = profile(b"RGB ", usize::try_from(MAX_PROFILE_BYTES).unwrap() + 1);
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&huge).unwrap();
        let chunk = [b"Big\0\0".as_slice(), &encoder.finish().unwrap()].concat();
        assert_eq!(Profile::from_png_chunk(&chunk), None);
    }

    #[test]
    fn an_indexed_space_keeps_its_palette_and_gets_the_profile_as_base() {
        let id = (7, 0);
        assert_eq!(
            profiled("DeviceRGB".into(), id),
            Object::Array(vec!["ICCBased".into(), id.into()])
        );
        let indexed = Object::Array(vec![
            "Indexed".into(),
            "DeviceRGB".into(),
            3.into(),
            Object::String(vec![0; 12], lopdf::StringFormat::Hexadecimal),
        ]);
        let Object::Array(parts) = profiled(indexed, id) else {
            panic!("still an array");
        };
        assert_eq!(parts[1], Object::Array(vec!["ICCBased".into(), id.into()]));
        assert_eq!(parts[2], 3.into());
    }
}
