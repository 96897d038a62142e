//! The report schema as a contract: the JSON the `analyze` example writes is checked against the
//! committed key list `tests/schema_keys.tsv` (DESIGN.md's schema plus our additions, each
//! with its type), not against the struct that wrote it. A key renamed or removed, a type
//! changed, or a key added without being listed fails here.
use std::collections::{BTreeMap, BTreeSet};

mod common;

/// The cue keys of DESIGN.md: the names under `cues` and in each splice's `cues`.
const CUE_KEYS: [&str; 7] = [
    "noise_floor",
    "channel",
    "enf",
    "codec",
    "waveform",
    "reverb",
    "archive",
];

fn type_name(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Every key path of `v` with the types seen there: `a.b`, `a[]` for array elements, and `<cue>`
/// for the cue names under `cues` and `splices[].cues` (checked against [`CUE_KEYS`]).
fn walk(path: &str, v: &serde_json::Value, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    out.entry(path.to_string())
        .or_default()
        .insert(type_name(v));
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                let key = if path == "cues" || path == "splices[].cues" {
                    assert!(
                        CUE_KEYS.contains(&k.as_str()),
                        "{path}: unknown cue key {k}"
                    );
                    "<cue>"
                } else if path == "config" {
                    // The Config is the crate's own, documented on `Config`; only its presence
                    // is part of the report schema.
                    continue;
                } else {
                    k.as_str()
                };
                let child_path = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                walk(&child_path, child, out);
            }
        }
        // The container's per-track facts and tags are the container reader's (documented on
        // `TrackFacts`); the schema lists the arrays.
        serde_json::Value::Array(_) if path == "container.tracks" || path == "container.tags" => {}
        serde_json::Value::Array(items) => {
            for item in items {
                walk(&format!("{path}[]"), item, out);
            }
        }
        _ => {}
    }
}

#[test]
fn schema_the_analyze_example_writes_every_listed_key_with_its_type_and_no_other() {
    let dir = common::scratch("schema", "bundled");
    let json_path = dir.join("report.json");
    let output = common::example("analyze")
        .arg("--json")
        .arg(&json_path)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).expect("written")).expect("JSON");
    let mut seen = BTreeMap::new();
    walk("", &report, &mut seen);
    seen.remove("");

    let listed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema_keys.tsv"),
    )
    .expect("the key list is committed");
    let mut expected: BTreeMap<String, (BTreeSet<String>, bool)> = BTreeMap::new();
    for line in listed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "key, types, required|optional: {line:?}");
        let types = fields[1].split('|').map(str::to_string).collect();
        expected.insert(fields[0].to_string(), (types, fields[2] == "required"));
    }
    for (path, types) in &seen {
        let (allowed, _) = expected
            .get(path)
            .unwrap_or_else(|| panic!("{path} is written but not in tests/schema_keys.tsv"));
        for t in types {
            assert!(allowed.contains(*t), "{path}: type {t}, listed {allowed:?}");
        }
    }
    for (path, (_, required)) in &expected {
        assert!(
            !required || seen.contains_key(path),
            "{path} is required but the bundled clip's report lacks it"
        );
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}
