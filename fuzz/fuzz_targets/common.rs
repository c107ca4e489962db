//! Writes the fuzzer's bytes to a per-process file with the given extension, for the loaders
//! that take paths (as users' files arrive).

use std::path::PathBuf;

pub fn file_with(bytes: &[u8], extension: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "mlffbench-fuzz-{}.{extension}",
        std::process::id()
    ));
    std::fs::write(&path, bytes).expect("temporary file");
    path
}
