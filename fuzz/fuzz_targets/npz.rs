//! Any bytes as an npz dataset.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| common::load_as(bytes, "npz"));
