//! Any bytes as an extended XYZ file.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| common::load_as(bytes, "xyz"));
