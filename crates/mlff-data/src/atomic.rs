//! Atomic file output: write to a temporary file beside the target, then rename, so a reader
//! (or a resumed run) never sees a half-written file.

use crate::error::{DataError, Result};
use std::fs::File;
use std::path::Path;

/// Writes `path` by calling `write` on a temporary file in the same directory and renaming it
/// into place only if `write` succeeds; on failure no file (and no temporary) is left behind.
pub fn write_atomically<T>(path: &Path, write: impl FnOnce(&mut File) -> Result<T>) -> Result<T> {
    let io = |source| DataError::Io {
        file: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".mlff-partial-")
        .tempfile_in(dir)
        .map_err(io)?;
    let value = write(tmp.as_file_mut())?;
    tmp.as_file().sync_all().map_err(io)?;
    // Temporary files are private (0600); the result should be an ordinary readable file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644)).map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.npz");
        let r: Result<()> = write_atomically(&target, |f| {
            f.write_all(b"half").unwrap();
            Err(DataError::Unwritable {
                format: "test",
                reason: "simulated failure".into(),
            })
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn successful_write_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        std::fs::write(&target, "old").unwrap();
        write_atomically(&target, |f| {
            f.write_all(b"new").map_err(|source| DataError::Io {
                file: "x".into(),
                source,
            })
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
