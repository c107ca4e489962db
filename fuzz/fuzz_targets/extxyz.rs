//! Any bytes as an extended XYZ file: a typed error or a dataset, never a panic.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let path = common::file_with(bytes, "xyz");
    if let Ok(data) = mlff_data::load(&path) {
        for frame in data.frames() {
            let _ = frame.positions.sum();
        }
    }
});
