//! Any text as a split: parsed, verified against its request and checked against a 1,000-frame
//! dataset as `score` and `train` do — errors, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(split) = mlff_splits::Split::from_json(text) {
        let _ = split.verify();
        for run in split.runs() {
            let _ = run.check(&|_| Some(1000));
        }
    }
});
