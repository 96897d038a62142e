//! Writing outputs: through a temporary file renamed into place (DESIGN.md), so a crash or a
//! second run never leaves a half-written file; and pruning files of an earlier benchmark.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into place
/// (the library's [`clip_provenance::write_atomic`]); creates the folder.
///
/// # Errors
/// A message naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    clip_provenance::write_atomic(path, bytes).map_err(|e| e.to_string())
}

/// Writes `value` as pretty JSON with a final newline.
///
/// # Errors
/// As [`write_atomic`].
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| format!("{}: {e}", path.display()))?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Removes the regular files directly in `dir` whose names are not in `keep` (files an earlier
/// benchmark with other clips left there); returns how many went.
pub fn prune(dir: &Path, keep: &BTreeSet<String>) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && !keep.contains(&name) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("evaluate-files-{}", std::process::id()));
        let path = dir.join("a.json");
        write_json(&path, &serde_json::json!({"a": 1})).expect("writes");
        write_json(&path, &serde_json::json!({"a": 2})).expect("replaces");
        let text = std::fs::read_to_string(&path).expect("reads");
        assert_eq!(text, "{\n  \"a\": 2\n}\n");
        let keep: BTreeSet<String> = ["a.json".to_string()].into();
        std::fs::write(dir.join("stale.wav"), b"x").expect("writes");
        assert_eq!(prune(&dir, &keep), 1);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .expect("lists")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.json"]);
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }
}
