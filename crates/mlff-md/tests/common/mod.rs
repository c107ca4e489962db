//! Locating the shared reference data (`../shared` from the workspace root).

use std::path::PathBuf;

/// The shared data directory: `$MLFFBENCH_SHARED` if set (for git worktrees that do not sit
/// next to `shared/`), else `<workspace>/../shared`. Panics loudly if it is missing: CI always
/// has it, and a test that silently skipped would prove nothing.
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("MLFFBENCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    assert!(
        dir.is_dir(),
        "shared reference directory {} is missing (set MLFFBENCH_SHARED to override)",
        dir.display()
    );
    dir
}
