//! One image on one page: page size, EXIF orientation as a matrix, and the PDF around it.

use lopdf::{Document, Object, Stream, dictionary};

use crate::ReceiptError;
use crate::icc::{Profile, profiled};

/// A4 in PDF points (1/72 inch).
const A4: (f64, f64) = (595.276, 841.89);
/// Pages sized from a stated DPI are kept up to A3; a larger result usually means a placeholder
/// density (cameras write 72 dpi), so such images are fitted on A4 instead.
const MAX_PAGE_POINTS: f64 = 1190.55;

/// How a stored image is to be shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// Stored pixel size.
    pub width: u32,
    pub height: u32,
    /// Pixels per inch (horizontal, vertical) of the stored image, when the file says.
    pub dpi: Option<(f64, f64)>,
    /// EXIF orientation, 1 (as stored) to 8.
    pub orientation: u8,
}

impl Placement {
    fn turned(&self) -> bool {
        (5..=8).contains(&self.orientation)
    }

    /// The page size and where the image goes on it: `(page_w, page_h, x, y, w, h)` in points.
    fn layout(&self) -> (f64, f64, f64, f64, f64, f64) {
        let (mut w, mut h) = (f64::from(self.width), f64::from(self.height));
        let mut dpi = self.dpi;
        if self.turned() {
            (w, h) = (h, w);
            dpi = dpi.map(|(x, y)| (y, x));
        }
        if let Some((dpi_x, dpi_y)) = dpi.filter(|(x, y)| *x >= 10.0 && *y >= 10.0) {
            let (page_w, page_h) = (w * 72.0 / dpi_x, h * 72.0 / dpi_y);
            if (1.0..=MAX_PAGE_POINTS).contains(&page_w)
                && (1.0..=MAX_PAGE_POINTS).contains(&page_h)
            {
                return (page_w, page_h, 0.0, 0.0, page_w, page_h);
            }
        }
        let (page_w, page_h) = if w > h { (A4.1, A4.0) } else { A4 };
        let scale = (page_w / w).min(page_h / h);
        let (shown_w, shown_h) = (w * scale, h * scale);
        (
            page_w,
            page_h,
            (page_w - shown_w) / 2.0,
            (page_h - shown_h) / 2.0,
            shown_w,
            shown_h,
        )
    }

    /// The `cm` matrix mapping the image's unit square onto its place, turned and mirrored as
    /// the EXIF orientation says (image space: u right, v up, the first row at v = 1).
    fn matrix(&self, x: f64, y: f64, w: f64, h: f64) -> [f64; 6] {
        let [a, b, c, d, e, f] = match self.orientation {
            2 => [-w, 0.0, 0.0, h, w, 0.0],
            3 => [-w, 0.0, 0.0, -h, w, h],
            4 => [w, 0.0, 0.0, -h, 0.0, h],
            5 => [0.0, -h, -w, 0.0, w, h],
            6 => [0.0, -h, w, 0.0, 0.0, h],
            7 => [0.0, h, w, 0.0, 0.0, 0.0],
            8 => [0.0, h, -w, 0.0, w, 0.0],
            _ => [w, 0.0, 0.0, h, 0.0, 0.0],
        };
        [a, b, c, d, e + x, f + y]
    }
}

/// Writes a one-page PDF showing `image` (an image XObject stream, with its soft mask if any)
/// as `placement` says, its colours as `profile` describes them (when it has one).
pub(crate) fn one_page_pdf(
    mut image: Stream,
    mask: Option<Stream>,
    profile: Option<Profile>,
    placement: &Placement,
) -> Result<Vec<u8>, ReceiptError> {
    let (page_w, page_h, x, y, w, h) = placement.layout();
    let matrix = placement.matrix(x, y, w, h).map(number).join(" ");
    let content = format!("q {matrix} cm /Im0 Do Q\n").into_bytes();

    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    if let Some(mask) = mask {
        // Streams are always indirect objects.
        let mask_id = doc.add_object(mask);
        image.dict.set("SMask", mask_id);
    }
    if let Some(profile) = profile
        && let Some(device) = image.dict.remove(b"ColorSpace")
    {
        let profile_id = doc.add_object(profile.into_stream());
        image.dict.set("ColorSpace", profiled(device, profile_id));
    }
    let image_id = doc.add_object(image);
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(page_w as f32), Object::Real(page_h as f32)],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|_| ReceiptError::Malformed("image"))?;
    Ok(out)
}

/// A number as PDF content streams write it: no exponent, few decimals.
fn number(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(width: u32, height: u32, dpi: Option<(f64, f64)>, orientation: u8) -> Placement {
        Placement {
            width,
            height,
            dpi,
            orientation,
        }
    }

    #[test]
    fn a_known_dpi_sets_the_page_size() {
        let (w, h, x, y, ..) = placement(600, 300, Some((300.0, 300.0)), 1).layout();
        assert_eq!((w, h, x, y), (144.0, 72.0, 0.0, 0.0));
        // Turned a quarter: the page turns too.
        let (w, h, ..) = placement(600, 300, Some((300.0, 300.0)), 6).layout();
        assert_eq!((w, h), (72.0, 144.0));
    }

    #[test]
    fn without_dpi_the_image_fits_an_a4_page_of_its_orientation() {
        let (w, h, _, _, shown_w, shown_h) = placement(4000, 3000, None, 1).layout();
        assert_eq!((w, h), (A4.1, A4.0));
        assert!(
            (shown_h - A4.0).abs() < 0.01 && shown_w <= A4.1,
            "{shown_w} × {shown_h}"
        );
        let (w, h, ..) = placement(4000, 3000, None, 6).layout();
        assert_eq!((w, h), A4);
    }

    #[test]
    fn every_orientation_maps_the_unit_square_onto_the_shown_box() {
        for orientation in 1..=8 {
            let [a, b, c, d, e, f] =
                placement(2, 1, None, orientation).matrix(10.0, 20.0, 30.0, 40.0);
            let corners = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
                .map(|(u, v)| (a * u + c * v + e, b * u + d * v + f));
            let mut xs: Vec<f64> = corners.iter().map(|p| p.0).collect();
            let mut ys: Vec<f64> = corners.iter().map(|p| p.1).collect();
            xs.sort_by(f64::total_cmp);
            ys.sort_by(f64::total_cmp);
            assert_eq!(
                (xs[0], xs[3], ys[0], ys[3]),
                (10.0, 40.0, 20.0, 60.0),
                "orientation {orientation}"
            );
        }
    }

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(number(595.276), "595.276");
        assert_eq!(number(72.0), "72");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(0.1), "0.1");
    }
}
