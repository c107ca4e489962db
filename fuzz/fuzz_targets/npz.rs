//! Any bytes as an npz dataset: a typed error or a dataset, never a panic.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let path = common::file_with(bytes, "npz");
    if let Ok(data) = mlff_data::load(&path) {
        // A loaded dataset is internally consistent: every frame view works.
        for frame in data.frames() {
            let _ = frame.positions.sum();
        }
    }
});
