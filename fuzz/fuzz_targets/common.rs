//! What the file targets share: the fuzzer's bytes written to a per-process file with the
//! given extension (the loaders take paths, as users' files arrive), then loaded.

/// Loads `bytes` as a file ending in `.extension`: a typed error or a dataset whose every frame
/// view works — never a panic.
pub fn load_as(bytes: &[u8], extension: &str) {
    let path =
        std::env::temp_dir().join(format!("mlffbench-fuzz-{}.{extension}", std::process::id()));
    std::fs::write(&path, bytes).expect("temporary file");
    if let Ok(data) = mlff_data::load(&path) {
        for frame in data.frames() {
            let _ = frame.positions.sum();
        }
    }
}
