//! Real files in, PDFs out: each checked by qpdf, rendered by poppler, compared with its source.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use crm_receipts::{Limits, ReceiptError, SourceKind, convert_to_pdf};
use image::{GenericImageView, Rgb, RgbImage};

/// A committed fixture. The folder comes from cargo at run time, not from the build: a target
/// folder shared by several checkouts may hold another checkout's build of this test.
fn fixture(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    std::fs::read(dir.join("tests/fixtures").join(name))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crm-receipts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn convert(name: &str) -> Vec<u8> {
    let source = fixture(name);
    let receipt =
        convert_to_pdf(&source, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(receipt.pages, 1);
    receipt.pdf.into_owned()
}

/// `qpdf --check` accepts the file.
fn assert_qpdf_accepts(pdf: &[u8], name: &str) {
    let path = scratch(&format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let output = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .expect("qpdf is installed");
    assert!(
        output.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Renders page 1 with poppler at `width` × `height` pixels.
fn render(pdf: &[u8], name: &str, width: u32, height: u32) -> RgbImage {
    let input = scratch(&format!("{name}-render.pdf"));
    std::fs::write(&input, pdf).unwrap();
    let output = scratch(&format!("{name}-render"));
    let status = Command::new("pdftoppm")
        .args([
            "-png",
            "-singlefile",
            "-scale-to-x",
            &width.to_string(),
            "-scale-to-y",
            &height.to_string(),
        ])
        .arg(&input)
        .arg(&output)
        .status()
        .expect("pdftoppm is installed");
    assert!(status.success(), "{name}: pdftoppm failed");
    image::open(format!("{}.png", output.display()))
        .unwrap()
        .to_rgb8()
}

/// The images embedded in the PDF, as poppler extracts them (image, then its soft mask), as
/// 8-bit PNM (its PNG output wraps 16-bit white to black).
fn embedded_images(pdf: &[u8], name: &str) -> Vec<image::DynamicImage> {
    let input = scratch(&format!("{name}-images.pdf"));
    std::fs::write(&input, pdf).unwrap();
    let prefix = scratch(&format!("{name}-img"));
    let status = Command::new("pdfimages")
        .arg(&input)
        .arg(&prefix)
        .status()
        .expect("pdfimages is installed");
    assert!(status.success());
    (0..)
        .map_while(|n| {
            ["ppm", "pgm", "pbm"]
                .iter()
                .map(|ext| PathBuf::from(format!("{}-{n:03}.{ext}", prefix.display())))
                .find(|p| p.exists())
        })
        .map(|p| image::open(p).unwrap())
        .collect()
}

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 200, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const WHITE: [u8; 3] = [255, 255, 255];

/// How closely a rendering must match the quadrant colours.
#[derive(Clone, Copy, PartialEq)]
enum Match {
    /// Each channel within this much.
    Within(i32),
    /// Gray images: the luma of each colour, within this much.
    Luma(i32),
    /// CMYK goes through the renderer's own colour conversion: the right channel dominates.
    Dominant,
    /// The fixtures whose colour profile swaps the red and blue primaries: shown through the
    /// profile, red shows blue and blue red (each dominant).
    Swapped,
}

/// The four quadrants of the fixtures show their colours, upright and unmirrored.
fn assert_quadrants(image: &RgbImage, how: Match, name: &str) {
    let (w, h) = image.dimensions();
    let luma = |c: [u8; 3]| {
        ((u32::from(c[0]) * 299 + u32::from(c[1]) * 587 + u32::from(c[2]) * 114) / 1000) as i32
    };
    for (x, y, expected) in [
        (w / 4, h / 4, RED),
        (3 * w / 4, h / 4, GREEN),
        (w / 4, 3 * h / 4, BLUE),
        (3 * w / 4, 3 * h / 4, WHITE),
    ] {
        let Rgb(actual) = *image.get_pixel(x, y);
        let expected = match (how, expected) {
            (Match::Swapped, RED) => BLUE,
            (Match::Swapped, BLUE) => RED,
            _ => expected,
        };
        let ok = match how {
            Match::Within(tolerance) => actual
                .iter()
                .zip(expected)
                .all(|(a, e)| (i32::from(*a) - i32::from(e)).abs() <= tolerance),
            Match::Luma(tolerance) => (i32::from(actual[0]) - luma(expected)).abs() <= tolerance,
            Match::Dominant | Match::Swapped if expected == WHITE => {
                actual.iter().all(|c| *c > 200)
            }
            Match::Dominant | Match::Swapped => {
                let strongest = (0..3).max_by_key(|i| expected[*i]).unwrap();
                (0..3).all(|i| i == strongest || actual[strongest] > actual[i] + 40)
            }
        };
        assert!(ok, "{name}: at ({x},{y}) {actual:?}, expected {expected:?}");
    }
}

/// The image XObject's stream, exactly as stored in the PDF.
fn image_stream(pdf: &[u8]) -> lopdf::Stream {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.objects
        .values()
        .find_map(|o| match o {
            lopdf::Object::Stream(s)
                if s.dict.get(b"Subtype").and_then(|v| v.as_name()).ok() == Some(b"Image") =>
            {
                Some(s.clone())
            }
            _ => None,
        })
        .unwrap()
}

fn media_box(pdf: &[u8]) -> (f32, f32) {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let page = doc.get_pages().values().next().copied().unwrap();
    let dict = doc.get_dictionary(page).unwrap();
    let values: Vec<f32> = dict
        .get(b"MediaBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_float().unwrap())
        .collect();
    (values[2], values[3])
}

#[test]
fn jpegs_are_wrapped_byte_for_byte_and_render_right() {
    for name in [
        "baseline.jpg",
        "progressive.jpg",
        "grayscale.jpg",
        "cmyk.jpg",
        "exif-rotated.jpg",
    ] {
        let source = fixture(name);
        let pdf = convert(name);
        assert_qpdf_accepts(&pdf, name);
        let stream = image_stream(&pdf);
        assert!(
            stream.content == source,
            "{name}: the JPEG must be embedded unchanged"
        );
        assert_eq!(
            stream.dict.get(b"Filter").unwrap().as_name().unwrap(),
            b"DCTDecode"
        );
        let how = match name {
            "grayscale.jpg" => Match::Luma(12),
            "cmyk.jpg" => Match::Dominant,
            _ => Match::Within(48),
        };
        assert_quadrants(&render(&pdf, name, 64, 48), how, name);
    }
}

#[test]
fn an_exif_rotated_photo_gets_an_upright_page() {
    let pdf = convert("exif-rotated.jpg");
    // Stored 48 × 64 and turned by EXIF: the page is landscape, like the picture.
    let (w, h) = media_box(&pdf);
    assert!(w > h, "{w} × {h}");
    assert_quadrants(
        &render(&pdf, "exif-page", 64, 48),
        Match::Within(48),
        "exif-rotated.jpg",
    );
}

#[test]
fn every_exif_orientation_shows_upright_mirrored_ones_included() {
    for orientation in [2, 3, 4, 5, 7, 8] {
        let name = format!("exif-{orientation}.jpg");
        let pdf = convert(&name);
        assert_qpdf_accepts(&pdf, &name);
        assert!(
            image_stream(&pdf).content == fixture(&name),
            "{name}: embedded unchanged"
        );
        let (w, h) = media_box(&pdf);
        assert!(w > h, "{name}: shown landscape, {w} × {h}");
        assert_quadrants(&render(&pdf, &name, 64, 48), Match::Within(48), &name);
    }
}

/// The ICC profile the image's colour space names (directly or as an indexed space's base),
/// inflated, with its `/N`.
fn embedded_profile(pdf: &[u8]) -> Option<(Vec<u8>, i64)> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    // The page's image (a soft mask is an image too).
    let page = doc.get_pages().values().next().copied().unwrap();
    let resources = doc
        .get_dictionary(page)
        .unwrap()
        .get(b"Resources")
        .unwrap()
        .as_dict()
        .unwrap();
    let image_id = resources
        .get(b"XObject")
        .unwrap()
        .as_dict()
        .unwrap()
        .get(b"Im0")
        .unwrap()
        .as_reference()
        .unwrap();
    let image = doc.get_object(image_id).unwrap().as_stream().unwrap();
    let mut space = image.dict.get(b"ColorSpace").unwrap().as_array().ok()?;
    if space[0].as_name().unwrap() == b"Indexed" {
        space = space[1].as_array().ok()?;
    }
    assert_eq!(space[0].as_name().unwrap(), b"ICCBased");
    let stream = doc
        .get_object(space[1].as_reference().unwrap())
        .unwrap()
        .as_stream()
        .unwrap();
    let n = stream.dict.get(b"N").unwrap().as_i64().unwrap();
    let profile = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    Some((profile, n))
}

/// The profile embedded in an image file, as the `image` crate reads it.
fn source_profile(name: &str) -> Vec<u8> {
    use image::ImageDecoder;
    let mut decoder = image::ImageReader::new(std::io::Cursor::new(fixture(name)))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    decoder
        .icc_profile()
        .unwrap()
        .expect("the fixture has a profile")
}

#[test]
fn embedded_colour_profiles_reach_the_pdf_and_are_honoured() {
    for name in [
        "icc-rgb.jpg",
        "icc-rgb.png",
        "icc-palette.png",
        "icc-rgba.png",
    ] {
        let pdf = convert(name);
        assert_qpdf_accepts(&pdf, name);
        let (profile, n) =
            embedded_profile(&pdf).unwrap_or_else(|| panic!("{name}: no ICCBased colour space"));
        assert_eq!(n, 3, "{name}");
        assert!(profile == source_profile(name), "{name}: profile differs");
        // The profile swaps red and blue: poppler shows them swapped, so it uses the profile.
        assert_quadrants(&render(&pdf, name, 64, 48), Match::Swapped, name);
    }
    // The JPEG is still embedded unchanged, and the PNGs' samples are exact (as stored: a
    // renderer shows them through the profile).
    assert!(image_stream(&convert("icc-rgb.jpg")).content == fixture("icc-rgb.jpg"));
    for name in ["icc-rgb.png", "icc-rgba.png"] {
        let (samples, _) = image_samples(&convert(name), name);
        let expected = image::load_from_memory(&fixture(name)).unwrap().to_rgb8();
        assert!(samples == expected.into_raw(), "{name}: samples differ");
    }
}

#[test]
fn a_profile_for_another_colour_space_is_left_out() {
    // An RGB profile on a grayscale JPEG: shown as plain gray, embedded unchanged.
    let name = "icc-mismatched.jpg";
    let pdf = convert(name);
    assert_qpdf_accepts(&pdf, name);
    assert_eq!(embedded_profile(&pdf), None);
    assert!(image_stream(&pdf).content == fixture(name));
    assert_quadrants(&render(&pdf, name, 64, 48), Match::Luma(12), name);
}

#[test]
fn the_page_size_follows_the_images_dpi_or_fits_a4() {
    let (w, h) = media_box(&convert("baseline.jpg"));
    assert!(
        (w - 64.0 * 72.0 / 150.0).abs() < 0.01 && (h - 48.0 * 72.0 / 150.0).abs() < 0.01,
        "{w} × {h}"
    );
    let (w, h) = media_box(&convert("progressive.jpg"));
    assert_eq!(
        (w.round(), h.round()),
        (842.0, 595.0),
        "no DPI: landscape A4"
    );
}

/// The decoded samples of the PDF's image and of its soft mask (if any), as qpdf decodes the
/// streams (Flate and PNG predictors undone): every bit, whatever the depth.
fn image_samples(pdf: &[u8], name: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let (id, image) = doc
        .objects
        .iter()
        .find_map(|(id, object)| {
            let stream = object.as_stream().ok()?;
            let is_image = stream.dict.get(b"Subtype").ok()?.as_name().ok()? == b"Image";
            (is_image && stream.dict.has(b"Width") && !is_soft_mask(&doc, *id))
                .then_some((*id, stream))
        })
        .unwrap_or_else(|| panic!("{name}: no image"));
    let mask = image
        .dict
        .get(b"SMask")
        .ok()
        .and_then(|m| m.as_reference().ok());
    let input = scratch(&format!("{name}-samples.pdf"));
    std::fs::write(&input, pdf).unwrap();
    let decoded = |object: lopdf::ObjectId| {
        let output = Command::new("qpdf")
            .arg(format!("--show-object={},{}", object.0, object.1))
            .arg("--filtered-stream-data")
            .arg(&input)
            .output()
            .expect("qpdf is installed");
        assert!(
            output.status.success(),
            "{name}: qpdf could not decode the image"
        );
        output.stdout
    };
    (decoded(id), mask.map(decoded))
}

fn is_soft_mask(doc: &lopdf::Document, id: lopdf::ObjectId) -> bool {
    doc.objects.values().any(|object| {
        object
            .as_stream()
            .ok()
            .and_then(|s| s.dict.get(b"SMask").ok())
            .and_then(|m| m.as_reference().ok())
            == Some(id)
    })
}

#[test]
fn sixteen_bit_pngs_keep_every_bit() {
    for name in ["rgb16.png", "rgba16.png"] {
        let source = image::load_from_memory(&fixture(name)).unwrap().to_rgba16();
        let pdf = convert(name);
        assert_qpdf_accepts(&pdf, name);
        let (color, mask) = image_samples(&pdf, name);
        let expected_color: Vec<u8> = source
            .pixels()
            .flat_map(|p| {
                p.0[..3]
                    .iter()
                    .flat_map(|v| v.to_be_bytes())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            color.len(),
            expected_color.len(),
            "{name}: 16 bits a sample"
        );
        assert!(color == expected_color, "{name}: colour samples differ");
        if name == "rgba16.png" {
            let expected_alpha: Vec<u8> =
                source.pixels().flat_map(|p| p.0[3].to_be_bytes()).collect();
            assert!(mask == Some(expected_alpha), "{name}: alpha samples differ");
        } else {
            assert!(mask.is_none(), "{name}: opaque, no mask");
        }
    }
}

#[test]
fn pngs_convert_losslessly() {
    for name in [
        "rgb.png",
        "gray.png",
        "palette.png",
        "palette-transparent.png",
        "rgb16.png",
        "interlaced.png",
        "rgba.png",
    ] {
        let source = image::load_from_memory(&fixture(name)).unwrap();
        let pdf = convert(name);
        assert_qpdf_accepts(&pdf, name);
        let rendered = render(&pdf, name, 64, 48);
        // Transparent images blend with the white page; their colours and alpha are compared below.
        if !source.color().has_alpha() {
            let how = if name.starts_with("gray") {
                Match::Luma(2)
            } else {
                Match::Within(2)
            };
            assert_quadrants(&rendered, how, name);
        }
        if name == "rgb16.png" {
            // Compared sample by sample, all 16 bits, in `sixteen_bit_pngs_keep_every_bit`.
            continue;
        }
        let images = embedded_images(&pdf, name);
        let color = images[0].to_rgb8();
        assert_eq!(color.dimensions(), source.dimensions(), "{name}");
        let expected = source.to_rgb8();
        let differing = color
            .enumerate_pixels()
            .find(|(x, y, p)| expected.get_pixel(*x, *y) != *p);
        assert!(
            differing.is_none(),
            "{name}: pixels differ from the source: {differing:?} vs {:?}",
            differing.map(|(x, y, _)| expected.get_pixel(x, y))
        );
        if source.color().has_alpha() {
            let mask = images
                .get(1)
                .unwrap_or_else(|| panic!("{name}: no soft mask"))
                .to_luma8();
            let alpha: Vec<u8> = source.to_rgba8().pixels().map(|p| p.0[3]).collect();
            assert_eq!(mask.into_raw(), alpha, "{name}: alpha differs");
        }
    }
}

#[test]
fn eight_bit_opaque_pngs_pass_their_compressed_data_through() {
    let pdf = convert("rgb.png");
    let stream = image_stream(&pdf);
    let parms = stream.dict.get(b"DecodeParms").unwrap().as_dict().unwrap();
    assert_eq!(parms.get(b"Predictor").unwrap().as_i64().unwrap(), 15);
    let (w, h) = media_box(&pdf);
    assert!(
        (w - 64.0 * 72.0 / 300.0).abs() < 0.05 && (h - 48.0 * 72.0 / 300.0).abs() < 0.05,
        "{w} × {h}"
    );
}

#[test]
fn a_valid_pdf_is_kept_byte_for_byte() {
    let source = fixture("plain.pdf");
    let receipt = convert_to_pdf(&source, &Limits::default()).unwrap();
    assert_eq!(receipt.source, SourceKind::Pdf);
    assert_eq!(receipt.pages, 1);
    assert!(receipt.pdf == source.as_slice());
}

fn refused(bytes: &[u8]) -> ReceiptError {
    convert_to_pdf(bytes, &Limits::default()).expect_err("refused")
}

#[test]
fn other_types_are_refused_whatever_their_name() {
    for name in ["image.gif", "notes.txt", "program.pdf"] {
        assert_eq!(refused(&fixture(name)), ReceiptError::Unsupported, "{name}");
    }
    assert_eq!(refused(b""), ReceiptError::Empty);
    assert_eq!(
        ReceiptError::Unsupported.to_string(),
        "Only PDF, JPEG or PNG files are allowed."
    );
}

#[test]
fn broken_encrypted_and_scripted_pdfs_are_refused() {
    assert_eq!(refused(&fixture("encrypted.pdf")), ReceiptError::Encrypted);
    let plain = fixture("plain.pdf");
    assert!(matches!(
        refused(&plain[..plain.len() / 2]),
        ReceiptError::Malformed(_)
    ));
    assert!(matches!(
        refused(b"%PDF-1.7\nnonsense"),
        ReceiptError::Malformed(_)
    ));
    let scripted = javascript_pdf();
    assert_eq!(
        refused(&scripted),
        ReceiptError::ActiveContent("JavaScript")
    );
}

#[test]
fn actions_written_inline_are_found_too() {
    // `/OpenAction << /S /JavaScript … >>` in the catalog itself, not a separate object.
    let mut doc = lopdf::Document::load_mem(&one_page_pdf(None, b"")).unwrap();
    let catalog = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let script = lopdf::dictionary! { "S" => "JavaScript", "JS" => lopdf::Object::string_literal("app.alert(1)") };
    doc.get_object_mut(catalog)
        .unwrap()
        .as_dict_mut()
        .unwrap()
        .set("OpenAction", script);
    assert_eq!(
        refused(&saved(&mut doc)),
        ReceiptError::ActiveContent("JavaScript")
    );

    // A link annotation that launches a program, inline in the page's /Annots array.
    let mut doc = lopdf::Document::load_mem(&one_page_pdf(None, b"")).unwrap();
    let page = *doc.get_pages().values().next().unwrap();
    let action =
        lopdf::dictionary! { "S" => "Launch", "F" => lopdf::Object::string_literal("cmd.exe") };
    let rect: Vec<lopdf::Object> = vec![0.into(), 0.into(), 10.into(), 10.into()];
    let launch = lopdf::dictionary! { "Type" => "Annot", "Subtype" => "Link", "Rect" => rect, "A" => action };
    doc.get_object_mut(page)
        .unwrap()
        .as_dict_mut()
        .unwrap()
        .set("Annots", vec![lopdf::Object::Dictionary(launch)]);
    assert_eq!(
        refused(&saved(&mut doc)),
        ReceiptError::ActiveContent("an action that opens programs or files")
    );
}

/// `one_page_pdf` with `value` set under `key` in the catalog, `object` (if any) added first
/// and handed to `value` as its id.
fn with_catalog_entry(key: &str, value: impl FnOnce(lopdf::ObjectId) -> lopdf::Object) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(&one_page_pdf(None, b"")).unwrap();
    let extra = doc.add_object(lopdf::Object::Name(b"Launch".to_vec()));
    let catalog = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    doc.get_object_mut(catalog)
        .unwrap()
        .as_dict_mut()
        .unwrap()
        .set(key, value(extra));
    saved(&mut doc)
}

/// A link annotation on the page with `action` as its `/A`.
fn with_link(action: lopdf::Dictionary) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(&one_page_pdf(None, b"")).unwrap();
    let page = *doc.get_pages().values().next().unwrap();
    let rect: Vec<lopdf::Object> = vec![0.into(), 0.into(), 10.into(), 10.into()];
    let link = lopdf::dictionary! { "Type" => "Annot", "Subtype" => "Link", "Rect" => rect, "A" => action };
    let link = doc.add_object(link);
    doc.get_object_mut(page)
        .unwrap()
        .as_dict_mut()
        .unwrap()
        .set("Annots", vec![link.into()]);
    saved(&mut doc)
}

#[test]
fn pdfs_that_send_open_or_unpack_things_are_refused_saying_what() {
    use lopdf::{Object, dictionary};
    let text = |s: &str| Object::string_literal(s);
    let cases = [
        (
            with_link(dictionary! { "S" => "URI", "URI" => text("https://example.com/") }),
            "a link to a web address",
        ),
        (
            with_link(
                dictionary! { "S" => "GoToR", "F" => text("other.pdf"), "D" => vec![0.into()] },
            ),
            "a link to another document",
        ),
        (
            with_link(dictionary! { "S" => "GoToE", "T" => dictionary! { "R" => "C" } }),
            "a link to an embedded document",
        ),
        (
            with_catalog_entry("OpenAction", |_| {
                dictionary! { "S" => "SubmitForm", "F" => text("https://example.com/collect") }
                    .into()
            }),
            "a form that sends data elsewhere",
        ),
        (
            // The action's type is an indirect object: followed.
            with_catalog_entry("OpenAction", |launch| {
                dictionary! { "S" => launch, "F" => text("cmd.exe") }.into()
            }),
            "an action that opens programs or files",
        ),
        (
            with_catalog_entry("Names", |_| {
                dictionary! { "EmbeddedFiles" => dictionary! { "Names" => Vec::<Object>::new() } }
                    .into()
            }),
            "embedded files",
        ),
        (
            with_catalog_entry("AcroForm", |_| {
                dictionary! { "Fields" => Vec::<Object>::new(), "XFA" => text("<xdp/>") }.into()
            }),
            "an XFA form",
        ),
    ];
    for (pdf, what) in cases {
        let error = refused(&pdf);
        assert_eq!(error, ReceiptError::ActiveContent(what));
        assert!(error.to_string().contains(what), "{error}");
    }
}

#[test]
fn pdf_decompression_bombs_are_refused_before_they_unpack() {
    // Made by scripts/make-pdf-bombs.py: 1 GiB in one stream; twelve of 200 MB (each under
    // lopdf's own limit per stream); a thousand of 64 KiB; five chained filters.
    for name in [
        "bomb-single.pdf",
        "bomb-sum.pdf",
        "bomb-many.pdf",
        "bomb-chained.pdf",
    ] {
        let error = refused(&fixture(name));
        assert_eq!(error, ReceiptError::PdfTooLarge { max_mib: 4 }, "{name}");
        assert!(error.to_string().contains("too large"), "{error}");
    }
    // The configured limit applies to PDFs too, when it is the smaller.
    let limits = Limits {
        max_decoded_bytes: 64,
        ..Limits::default()
    };
    assert_eq!(
        convert_to_pdf(&fixture("objstm-ok.pdf"), &limits),
        Err(ReceiptError::PdfTooLarge { max_mib: 1 })
    );
    // Uncompressed, values cost memory too: 10 MB of `0 ` would parse to 600 MB.
    let flat = [
        b"%PDF-1.7\n1 0 obj\n[".as_slice(),
        &b"0 ".repeat(5_000_000),
        b"]\nendobj\n",
    ]
    .concat();
    assert!(matches!(
        refused(&flat),
        ReceiptError::PdfTooComplex { max: 2_000_000, .. }
    ));
    // An object nested 100,000 arrays deep does not parse, so the file is refused.
    assert!(matches!(
        refused(&fixture("bomb-nested.pdf")),
        ReceiptError::Malformed(_)
    ));
}

#[test]
fn an_ordinary_pdf_with_object_streams_is_accepted_byte_for_byte() {
    let source = fixture("objstm-ok.pdf");
    assert!(
        source.windows(6).any(|w| w == b"ObjStm"),
        "made with object streams"
    );
    let receipt = convert_to_pdf(&source, &Limits::default()).unwrap();
    assert_eq!(receipt.pages, 1);
    assert!(receipt.pdf == source.as_slice());
}

#[test]
fn a_pdf_with_an_object_that_does_not_parse_is_refused_not_stored() {
    let mut doc = lopdf::Document::load_mem(&one_page_pdf(None, b"")).unwrap();
    doc.add_object(lopdf::Object::string_literal("PLACEHOLDER-PLACEHOLDER"));
    let pdf = saved(&mut doc);
    assert!(convert_to_pdf(&pdf, &Limits::default()).is_ok());
    // The same object rewritten in place, same length, as something no parser reads: an
    // unterminated dictionary that would hide an action from a parser that skips it.
    let at = pdf
        .windows(25)
        .position(|w| w == b"(PLACEHOLDER-PLACEHOLDER)")
        .unwrap();
    let mut broken = pdf.clone();
    broken[at..at + 25].copy_from_slice(b"<</S/JavaScript/JS(x)[[[[");
    assert!(matches!(refused(&broken), ReceiptError::Malformed(_)));
}

#[test]
fn jpegs_that_pdf_viewers_cannot_decode_are_refused_with_a_reason() {
    let baseline = fixture("baseline.jpg");
    let sof = baseline
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    for kind in [0xC3u8, 0xC5, 0xC9, 0xCB] {
        let mut other = baseline.clone();
        other[sof + 1] = kind;
        assert_eq!(refused(&other), ReceiptError::UnsupportedJpeg, "{kind:#x}");
    }
}

#[test]
fn a_pdf_encrypted_with_an_empty_user_password_is_refused() {
    // Opens without a password, yet is encrypted: lopdf decrypts it silently.
    assert_eq!(
        refused(&fixture("encrypted-empty-password.pdf")),
        ReceiptError::Encrypted
    );
}

fn saved(doc: &mut lopdf::Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn a_readable_pdf_that_mentions_encryption_is_not_taken_for_an_encrypted_one() {
    let text = one_page_pdf(
        None,
        b"BT /F1 12 Tf 10 50 Td (See /Encrypt in the spec) Tj ET",
    );
    assert!(
        text.windows(8).any(|w| w == b"/Encrypt"),
        "the word is in the file"
    );
    let receipt = convert_to_pdf(&text, &Limits::default()).unwrap();
    assert_eq!(receipt.pages, 1);
}

#[test]
fn damaged_images_are_refused() {
    let jpeg = fixture("baseline.jpg");
    assert!(matches!(
        refused(&jpeg[..jpeg.len() - 40]),
        ReceiptError::Malformed(_)
    ));
    assert!(matches!(refused(&jpeg[..20]), ReceiptError::Malformed(_)));
    let png = fixture("rgb.png");
    assert!(matches!(
        refused(&png[..png.len() - 20]),
        ReceiptError::Malformed(_)
    ));
    let mut flipped = png.clone();
    let last_idat_byte = flipped.len() - 20;
    flipped[last_idat_byte] ^= 0xFF;
    assert!(matches!(refused(&flipped), ReceiptError::Malformed(_)));
}

#[test]
fn a_pixel_bomb_is_refused_before_decoding() {
    // A valid PNG header claiming 100000 × 100000 pixels, with a tiny body.
    let bomb = png_with_header(100_000, 100_000);
    assert!(matches!(
        refused(&bomb),
        ReceiptError::TooLarge {
            width: 100_000,
            height: 100_000,
            ..
        }
    ));
    let limits = Limits {
        max_pixels: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        convert_to_pdf(&fixture("baseline.jpg"), &limits),
        Err(ReceiptError::TooLarge { .. })
    ));
    assert!(
        ReceiptError::TooLarge {
            width: 1,
            height: 1,
            max_megapixels: 50
        }
        .to_string()
        .contains("too large")
    );
}

fn png_with_header(width: u32, height: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        [
            &(data.len() as u32).to_be_bytes()[..],
            kind,
            data,
            &crc.sum().to_be_bytes(),
        ]
        .concat()
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &chunk(b"IHDR", &ihdr),
        &chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]),
        &chunk(b"IEND", b""),
    ]
    .concat()
}

fn javascript_pdf() -> Vec<u8> {
    one_page_pdf(Some("app.alert('hi')"), b"")
}

/// A one-page PDF with `content` as its page's (uncompressed) content stream and, if given, a
/// script run when the document opens.
fn one_page_pdf(script: Option<&str>, content: &[u8]) -> Vec<u8> {
    let mut doc = lopdf::Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let contents = doc.add_object(lopdf::Stream::new(lopdf::dictionary! {}, content.to_vec()));
    let page_id = doc.add_object(lopdf::dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => contents, "MediaBox" => vec![0.into(), 0.into(), 100.into(), 100.into()] });
    doc.objects.insert(
        pages_id,
        lopdf::Object::Dictionary(
            lopdf::dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let mut catalog = lopdf::dictionary! { "Type" => "Catalog", "Pages" => pages_id };
    if let Some(script) = script {
        let action = doc.add_object(lopdf::dictionary! { "S" => "JavaScript", "JS" => lopdf::Object::string_literal(script) });
        catalog.set("OpenAction", action);
    }
    let catalog = doc.add_object(catalog);
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    fn small_limits() -> Limits {
        Limits {
            max_pixels: 4_000_000,
            max_decoded_bytes: 64 * 1024 * 1024,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Whatever the bytes, conversion answers (a PDF or a reason) and never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = convert_to_pdf(&bytes, &small_limits());
        }

        /// Damaged copies of real files: refused or converted, never a panic, and whatever is
        /// accepted is a PDF that parses.
        #[test]
        fn mutated_fixtures_never_panic(
            which in 0usize..6,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let name = ["baseline.jpg", "progressive.jpg", "cmyk.jpg", "rgb.png", "rgba.png", "plain.pdf"][which];
            let mut bytes = fixture(name);
            for (at, value) in flips {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            let cut = cut.index(bytes.len()).max(bytes.len() / 2);
            bytes.truncate(cut + 1);
            if let Ok(receipt) = convert_to_pdf(&bytes, &small_limits()) {
                prop_assert!(lopdf::Document::load_mem(&receipt.pdf).is_ok(), "{name}: produced an unreadable PDF");
            }
        }
    }
}
