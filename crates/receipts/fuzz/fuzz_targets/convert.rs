//! Any bytes through detection and conversion: never a panic, never an unbounded allocation.
#![no_main]

use crm_receipts::{Limits, convert_to_pdf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_pixels: 4_000_000,
        max_decoded_bytes: 64 * 1024 * 1024,
    };
    let _ = convert_to_pdf(data, &limits);
});
