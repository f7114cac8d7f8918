//! How long a receipt takes to convert, next to a plain copy of the same bytes.
//!
//! Inputs are made here: a 12-megapixel JPEG (4000 × 3000) and a 2-megapixel PNG
//! (1600 × 1250), both of photo-like content. They are also written to
//! `target/receipt-bench/` so `benches/pillow_convert.py` can time the original app's Pillow
//! conversion on the very same files (`make bench` runs both).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::io::Cursor;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use crm_receipts::{Limits, convert_to_pdf};
use image::{ImageFormat, RgbImage};

fn photo(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        // Smooth gradients plus a little deterministic noise: photo-like for the encoders.
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 23;
        image::Rgb([
            ((x * 255 / width) as u8).wrapping_add(noise as u8),
            ((y * 255 / height) as u8).wrapping_add(noise as u8),
            (((x + y) * 127 / (width + height)) as u8).wrapping_add(noise as u8),
        ])
    })
}

fn encoded(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/receipt-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn conversions(c: &mut Criterion) {
    let jpeg = encoded(&photo(4000, 3000), ImageFormat::Jpeg);
    let png = encoded(&photo(1600, 1250), ImageFormat::Png);
    std::fs::write(bench_dir().join("photo-12mp.jpg"), &jpeg).unwrap();
    std::fs::write(bench_dir().join("scan-2mp.png"), &png).unwrap();
    let limits = Limits::default();

    let mut group = c.benchmark_group("jpeg_12mp");
    group.sample_size(20);
    group.bench_function("convert_to_pdf", |b| {
        b.iter(|| convert_to_pdf(black_box(&jpeg), &limits).unwrap())
    });
    group.bench_function("copy_bytes", |b| b.iter(|| black_box(&jpeg).clone()));
    group.finish();

    let mut group = c.benchmark_group("png_2mp");
    group.sample_size(20);
    group.bench_function("convert_to_pdf", |b| {
        b.iter(|| convert_to_pdf(black_box(&png), &limits).unwrap())
    });
    group.bench_function("copy_bytes", |b| b.iter(|| black_box(&png).clone()));
    group.finish();
}

criterion_group!(benches, conversions);
criterion_main!(benches);
