//! Workspace-level integration tests live in `tests/tests/`; this library only locates the
//! shared reference data they read.

use std::path::PathBuf;

/// The `shared/` directory beside the repository (reference data and fixtures; present in CI).
///
/// Panics with a clear message when it is missing: these tests must never pass vacuously.
pub fn shared_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared"));
    assert!(
        dir.join("data").is_dir(),
        "the shared reference data is missing at {}; these tests need ../shared beside the repository",
        dir.display()
    );
    dir
}
