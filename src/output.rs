//! Writing output files so that they are never half-written.
//!
//! A regular file (or a path that does not exist yet) is written to a temporary file in the same
//! directory, flushed to disk, and renamed over the target: a reader sees the old file or the new
//! one, never a mix, and a crash leaves at most a stray temporary file. A target that is not a
//! regular file (`-` for stdout, a pipe, `/dev/stdout`, a terminal) is written directly: renaming
//! over it would replace the device or pipe with a file.
#![forbid(unsafe_code)]

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` as described in the module docs; `-` means stdout.
///
/// # Errors
/// [`Error::Io`] naming the target when the directory does not exist, is not writable, or the
/// disk is full; the target is then left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io(path, e));
    }
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            if meta.is_dir() {
                return Err(Error::io(
                    path,
                    std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
                ));
            }
            let mut f = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            return f
                .write_all(bytes)
                .and_then(|()| f.flush())
                .map_err(|e| Error::io(path, e));
        }
        _ => {}
    }
    let tmp = temporary_path(path);
    let result = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// A temporary name next to `path`, unique to this process and call.
fn temporary_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "clip-provenance-output-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir is writable");
        dir
    }

    #[test]
    fn write_atomic_replaces_a_file_and_leaves_no_temporary() {
        let dir = scratch_dir("replace");
        let target = dir.join("report.json");
        fs::write(&target, b"old").expect("write");
        write_atomic(&target, b"new").expect("write_atomic");
        assert_eq!(fs::read(&target).expect("read"), b"new");
        let names: Vec<_> = fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "only the target remains: {names:?}");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn write_atomic_missing_directory_is_io_error_and_names_path() {
        let target = std::env::temp_dir().join("clip-provenance-no-such-dir/x/report.json");
        match write_atomic(&target, b"x") {
            Err(Error::Io { path, .. }) => assert_eq!(path, target),
            other => panic!("expected Error::Io, got {other:?}"),
        }
    }

    #[test]
    fn write_atomic_to_a_directory_is_io_error() {
        let dir = scratch_dir("isdir");
        assert!(matches!(write_atomic(&dir, b"x"), Err(Error::Io { .. })));
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[cfg(unix)]
    #[test]
    fn write_atomic_to_dev_null_writes_directly_without_renaming() {
        write_atomic(Path::new("/dev/null"), b"discarded").expect("a device is written directly");
        assert!(
            fs::metadata("/dev/null")
                .expect("still there")
                .file_type()
                .is_file()
                == false
        );
    }
}
