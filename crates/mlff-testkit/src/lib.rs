//! Test support for the mlffbench workspace: where the reference fixtures and the third-party
//! data are, and a Python interpreter with the packages a test needs.
//!
//! Three kinds of test input, three rules:
//! - **Reference fixtures** (`fixtures/` of the repository: outputs of e3nn, pip nequip,
//!   DScribe and RDKit, made by the project's own scripts) are committed, so
//!   [`fixture`] always finds them; a missing one is a broken checkout and fails the test.
//! - **Third-party data** that cannot ship with the project (real MD17/rMD17 frames, sGDML
//!   models; `../shared/data` beside the repository in CI, or `$MLFFBENCH_SHARED/data`):
//!   [`third_party`] returns `None` and the test prints `SKIPPED` with the reason, unless
//!   `MLFFBENCH_REQUIRE_SHARED=1` (CI) makes the absence a failure.
//! - **Python packages** (ASE for the i-PI socket tests): [`python_with`] finds
//!   `$MLFFBENCH_PYTHON`, else `python3`, and skips likewise unless `MLFFBENCH_REQUIRE_ASE=1`.
//!
//! The notices are written to the process's stderr directly, not through `eprintln!`, so the
//! test harness does not capture them and a user sees every skipped test.
//!
//! ```
//! if let Some(data) = mlff_testkit::third_party("md17_ethanol_first2000.npz") {
//!     assert!(data.is_file());
//! } // else: "SKIPPED <test>: needs third-party data …" was printed
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (the workspace this crate belongs to).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// `fixtures/<rel>` of the repository; a missing fixture fails the test (they are committed).
pub fn fixture(rel: &str) -> PathBuf {
    let path = repo_root().join("fixtures").join(rel);
    assert!(
        path.exists(),
        "reference fixture {} is missing: it is committed with the repository \
         (regenerate it with the script named in fixtures/README.md)",
        path.display()
    );
    path
}

/// The directory of shared third-party data: `$MLFFBENCH_SHARED`, else `../shared` beside the
/// repository; `None` when it does not exist.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MLFFBENCH_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("../shared"),
    };
    dir.is_dir().then_some(dir)
}

/// Whether the environment variable `name` is set to `1` (CI's way to turn skips into failures).
fn required(name: &str) -> bool {
    std::env::var(name).as_deref() == Ok("1")
}

/// Prints `SKIPPED <test>: <reason>` where the user sees it (not captured by the harness).
pub fn skip(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}

/// `data/<rel>` of the shared third-party data, or `None` after printing why the test skips.
/// With `MLFFBENCH_REQUIRE_SHARED=1` a missing file fails the test instead.
pub fn third_party(rel: &str) -> Option<PathBuf> {
    let path = shared_dir().map(|d| d.join("data").join(rel));
    if let Some(path) = path.filter(|p| p.exists()) {
        return Some(path);
    }
    let reason = format!(
        "needs third-party data `{rel}` (real MD17 frames or sGDML models, which cannot ship \
         with the project) in ../shared/data or $MLFFBENCH_SHARED/data"
    );
    assert!(
        !required("MLFFBENCH_REQUIRE_SHARED"),
        "MLFFBENCH_REQUIRE_SHARED=1 but the test {reason}"
    );
    skip(&reason);
    None
}

/// The Python interpreter the tests run: `$MLFFBENCH_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("MLFFBENCH_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A Python interpreter that imports every module in `modules` (`$MLFFBENCH_PYTHON`, else
/// `python3`), or `None` after printing why the test skips. With `MLFFBENCH_REQUIRE_ASE=1` a
/// missing interpreter or module fails the test instead.
pub fn python_with(modules: &[&str]) -> Option<String> {
    let python = python();
    let imports = format!("import {}", modules.join(", "));
    if imports_work(&python, &imports) {
        return Some(python);
    }
    let reason = format!(
        "needs a Python where `{imports}` works (set MLFFBENCH_PYTHON, or pip install ase numpy)"
    );
    assert!(
        !required("MLFFBENCH_REQUIRE_ASE"),
        "MLFFBENCH_REQUIRE_ASE=1 but `{python}` fails: the test {reason}"
    );
    skip(&reason);
    None
}

/// Whether `python -c <imports>` runs and exits 0.
fn imports_work(python: &str, imports: &str) -> bool {
    Command::new(python)
        .args(["-c", imports])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_root_holds_the_workspace_and_its_fixtures() {
        let root = repo_root();
        assert!(root.join("Cargo.toml").is_file());
        assert!(fixture("README.md").is_file());
    }

    #[test]
    #[should_panic(expected = "reference fixture")]
    fn a_missing_fixture_fails_loudly() {
        fixture("no-such-fixture.npz");
    }

    #[test]
    fn a_missing_interpreter_is_not_found() {
        assert!(!imports_work("/nonexistent/python3", "import sys"));
    }
}
