//! Writing output files so that they are never half-written.
//!
//! A regular file (or a path that does not exist yet) is written to a temporary file in the same
//! directory, flushed to disk, and renamed over the target: a reader sees the old file or the new
//! one, never a mix, and a crash leaves at most a stray temporary file. A target that is not a
//! regular file (`-` for stdout, a pipe, `/dev/stdout`, a terminal) is written directly: renaming
//! over it would replace the device or pipe with a file.
#![forbid(unsafe_code)]

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` so that it is never half-written; `-` means stdout.
///
/// A regular file (or a path that does not exist yet) is written to a temporary file in the same
/// directory, flushed to disk and renamed over the target (a symbolic link is followed and the
/// file it points to replaced). A target that is not a regular file (a pipe, `/dev/stdout`) is
/// written directly.
///
/// # Errors
/// [`Error::Io`] naming the target when the directory does not exist, is not writable, or the
/// disk is full; the target is then left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |w| w.write_all(bytes).map_err(|e| Error::io(path, e)))
}

/// Writes to `path` through `write`, as described in the module docs; `-` means stdout. A
/// symbolic link is followed, and the file it points to is replaced (the link stays a link).
///
/// # Errors
/// What `write` returns, or [`Error::Io`] naming `path`; the target is then left as it was.
pub fn write_with(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    if path == Path::new("-") {
        return write_direct(std::io::stdout().lock(), path, write);
    }
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        )),
        Ok(meta) if !meta.is_file() => {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            write_direct(file, path, write)
        }
        Ok(_) if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) => {
            let target = fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
            write_replacing(&target, path, write)
        }
        _ => write_replacing(path, path, write),
    }
}

/// Writes straight into `writer` (stdout, a pipe, a device), flushing at the end.
fn write_direct(
    writer: impl Write,
    shown: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let mut buffered = BufWriter::new(writer);
    write(&mut buffered)?;
    buffered.flush().map_err(|e| Error::io(shown, e))
}

/// Writes to a temporary file beside `target`, syncs it and renames it over `target`; errors
/// name `shown` (the path the caller gave).
fn write_replacing(
    target: &Path,
    shown: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let (temporary, file) = create_temporary_beside(target).map_err(|e| Error::io(shown, e))?;
    let written = (|| {
        let mut buffered = BufWriter::new(&file);
        write(&mut buffered)?;
        buffered.flush().map_err(|e| Error::io(shown, e))?;
        drop(buffered);
        file.sync_all().map_err(|e| Error::io(shown, e))?;
        fs::rename(&temporary, target).map_err(|e| Error::io(shown, e))
    })();
    if written.is_err() {
        // Best effort: the temporary file is ours and useless now; the original error matters.
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Creates a new, uniquely named hidden file in `target`'s directory.
fn create_temporary_beside(target: &Path) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let directory = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy());
    loop {
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temporary = directory.join(format!(".{name}.{}.{unique}.tmp", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
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

    /// The names of the entries of `dir`.
    fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
        fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect()
    }

    #[test]
    fn write_atomic_replaces_a_file_and_leaves_no_temporary() {
        let dir = scratch_dir("replace");
        let target = dir.join("report.json");
        fs::write(&target, b"old").expect("write");
        write_atomic(&target, b"new").expect("write_atomic");
        assert_eq!(fs::read(&target).expect("read"), b"new");
        let names = names_in(&dir);
        assert_eq!(names.len(), 1, "only the target remains: {names:?}");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn write_with_a_failing_writer_leaves_the_target_untouched_and_no_temporary() {
        // Half the output is written, then the writer fails (as an encoder or a full disk
        // would): the old file stays whole.
        let dir = scratch_dir("fails");
        let target = dir.join("report.json");
        fs::write(&target, b"old report").expect("write");
        let result = write_with(&target, |w| {
            w.write_all(b"{\"half\": ")
                .map_err(|e| Error::io(&target, e))?;
            Err(Error::malformed("encoder", "fails half-way"))
        });
        assert!(matches!(result, Err(Error::Malformed { .. })), "{result:?}");
        assert_eq!(fs::read(&target).expect("read"), b"old report");
        let names = names_in(&dir);
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
        let still = fs::metadata("/dev/null").expect("still there");
        assert!(
            !still.file_type().is_file(),
            "/dev/null was not replaced by a regular file"
        );
    }
}
