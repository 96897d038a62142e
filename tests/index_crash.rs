//! The archive index survives its writer being killed at any moment (SIGKILL: no destructor, no
//! flush, the lock left to the kernel).
//!
//! This test binary plays both parts. Run with `writer DIR JOURNAL RUN SEED`, it is the writer:
//! it opens the index at DIR and adds, removes and compacts references of bundled speech forever,
//! writing `begin OP NAME` to JOURNAL before each operation and `done OP NAME` after it returns
//! (each line fsynced). Run by `cargo test`, it is the test: it spawns the writer, kills it after
//! a seeded pseudo-random delay, and then checks that
//! - the index opens (manifest and every segment checksum verified),
//! - it lists exactly what the journal says: every completed operation applied, and the one the
//!   writer was in either applied whole or not at all (a reference is never lost, never half
//!   there, never present without its add having begun),
//! - a query of a listed reference finds it,
//! - the writer lock is free (the kernel released it) and an add succeeds, after which no stray
//!   segment or temporary manifest the killed writer left behind remains;
//!
//! and repeats with a fresh writer on the same index.
//!
//! `cargo test --test index_crash` runs `DEFAULT_KILLS` kills from a fixed seed (about 9 s of
//! CPU; the kill moments follow the measured speed of the writer, so a loaded machine takes
//! longer, not less carefully). The long run, outside CI: `CLIP_PROVENANCE_CRASH_KILLS=300 cargo
//! test --test index_crash` (add `CLIP_PROVENANCE_CRASH_SEED=N` to repeat a run; by default the
//! long run takes its seed from the clock and prints it). A harness-less test target
//! (Cargo.toml), so that the binary can run itself as the writer.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clip_provenance::{Audio, Index, IndexSettings};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng};

mod common;

/// The test's name, for `--list` and for a name filter given to `cargo test`.
const TEST_NAME: &str = "index_survives_sigkill_of_its_writer_at_random_moments";
/// Kills in the run `cargo test` makes (CI).
const DEFAULT_KILLS: u64 = 16;
/// The seed of that run.
const DEFAULT_SEED: u64 = 0x1DE5_C0DE;
/// Kill delays are drawn uniformly from 0 to this many operations' time after the writer has
/// opened the index, so that kills land in every step of the first few operations whatever the
/// machine's speed and load. The time of an operation is measured as the test goes.
const OPS_PER_KILL: u64 = 2;
/// The first guess of an operation's time, in milliseconds (an add with its merges takes 0.1 to
/// 0.6 s in the debug build on an idle machine).
const FIRST_OP_MS: u64 = 250;
/// Of the writer's operations, one in this many is a removal and one in this many a compaction;
/// the rest are adds (which merge segments as they accumulate).
const REMOVE_ONE_IN: u64 = 8;
const COMPACT_ONE_IN: u64 = 13;
const WRITER: &str = "writer";
/// What the writer prints on stdout once it has opened the index.
const READY: &str = "ready";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(WRITER) {
        return writer(&args[2..]);
    }
    if args.iter().any(|a| a == "--list") {
        println!("{TEST_NAME}: test");
        return ExitCode::SUCCESS;
    }
    // Honour a test-name filter (`cargo test FILTER` passes it to every test binary).
    if let Some(filter) = args[1..].iter().find(|a| !a.starts_with('-'))
        && !TEST_NAME.contains(filter.as_str())
    {
        return ExitCode::SUCCESS;
    }
    let kills = env_u64("CLIP_PROVENANCE_CRASH_KILLS").unwrap_or(DEFAULT_KILLS);
    let seed = env_u64("CLIP_PROVENANCE_CRASH_SEED").unwrap_or(if kills == DEFAULT_KILLS {
        DEFAULT_SEED
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    println!("test {TEST_NAME}: {kills} kills, seed {seed}");
    let started = Instant::now();
    let stats = crash_loop(kills, seed);
    println!(
        "{stats}, wall time {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if stats.failures() == 0 {
        println!("test {TEST_NAME} ... ok");
        ExitCode::SUCCESS
    } else {
        println!("test {TEST_NAME} ... FAILED");
        ExitCode::FAILURE
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
    )
}

/// The name of a reference: which writer run added it, and which speech slice it holds (so a
/// query of that slice knows which names it may find).
fn reference_name(by: &str, run: u64, op: u64, slice: usize) -> String {
    format!("{by}{run:04}-{op:04}-s{slice:02}")
}

fn slice_of(name: &str) -> usize {
    name.rsplit_once("-s")
        .and_then(|(_, s)| s.parse().ok())
        .unwrap_or_else(|| panic!("{name} names its slice"))
}

/// The writer: adds, removes and compacts forever, journalling each operation around its call.
fn writer(args: &[String]) -> ExitCode {
    let [dir, journal, run, seed] = args else {
        eprintln!("usage: index_crash writer DIR JOURNAL RUN SEED");
        return ExitCode::from(2);
    };
    let (run, seed): (u64, u64) = (
        run.parse().expect("RUN is a number"),
        seed.parse().expect("SEED is a number"),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let slices = common::speech_slices();
    let mut journal = Journal::append(Path::new(journal));
    let mut index = Index::open_or_create(dir).expect("the writer opens the index");
    // The kill delay counts from here, so that it lands among the operations however long the
    // start-up took on a busy machine.
    println!("{READY}");
    for op in 0.. {
        let draw = rng.next_u64();
        if draw % REMOVE_ONE_IN == 0 && !index.list().is_empty() {
            let victim = index.list()[(draw / REMOVE_ONE_IN) as usize % index.list().len()]
                .name
                .clone();
            journal.record("begin remove", &victim);
            index.remove(&[&victim]).expect("removes");
            journal.record("done remove", &victim);
        } else if draw % COMPACT_ONE_IN == 0 {
            journal.record("begin compact", "-");
            index.compact().expect("compacts");
            journal.record("done compact", "-");
        } else {
            let slice = (draw / COMPACT_ONE_IN) as usize % slices.len();
            let name = reference_name("w", run, op, slice);
            journal.record("begin add", &name);
            index.add_audio(&name, &slices[slice], false).expect("adds");
            journal.record("done add", &name);
        }
    }
    unreachable!("the writer runs until it is killed")
}

/// The writer's journal: one line per event, fsynced, so the test knows what had returned.
struct Journal(File);

impl Journal {
    fn append(path: &Path) -> Journal {
        Journal(
            File::options()
                .create(true)
                .append(true)
                .open(path)
                .expect("the journal opens"),
        )
    }

    fn record(&mut self, event: &str, name: &str) {
        // One write per line: a kill leaves whole lines (and at most one unterminated tail).
        self.0
            .write_all(format!("{event} {name}\n").as_bytes())
            .and_then(|()| self.0.sync_data())
            .expect("the journal is written");
    }
}

/// What the index must hold, and the operation the writer was in when killed.
#[derive(Default)]
struct Model {
    names: Vec<String>,
    in_flight: Option<(String, String)>,
}

impl Model {
    /// Applies the journal's whole lines from `text`.
    fn replay(&mut self, text: &str) {
        for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            let mut words = line.trim_end().splitn(3, ' ');
            let (phase, op, name) = (
                words.next().expect("a phase"),
                words.next().expect("an operation").to_string(),
                words.next().expect("a name").to_string(),
            );
            match phase {
                "begin" => self.in_flight = Some((op, name)),
                "done" => {
                    assert_eq!(self.in_flight.take(), Some((op.clone(), name.clone())));
                    self.apply(&op, &name);
                }
                other => panic!("journal line {line:?}: phase {other}"),
            }
        }
    }

    fn apply(&mut self, op: &str, name: &str) {
        match op {
            "add" => self.names.push(name.to_string()),
            "remove" => self.names.retain(|n| n != name),
            _ => {}
        }
    }

    /// The states the index may be in: without the interrupted operation, or with it.
    fn allowed(&self) -> Vec<Vec<String>> {
        let mut states = vec![self.names.clone()];
        if let Some((op, name)) = &self.in_flight {
            let mut with = Model {
                names: self.names.clone(),
                in_flight: None,
            };
            with.apply(op, name);
            states.push(with.names);
        }
        states
    }
}

#[derive(Default)]
struct Stats {
    kills: u64,
    /// Where the writer was when killed, from its journal.
    killed_in_add: u64,
    killed_in_remove: u64,
    killed_in_compact: u64,
    killed_between: u64,
    /// Kills that left a segment file the manifest does not name (killed while writing or merging
    /// segments, or after the manifest was replaced and before the old segments were deleted).
    left_segments: u64,
    /// Kills that left a temporary manifest (killed while writing the new manifest).
    left_manifests: u64,
    unopenable: u64,
    lost: u64,
    phantom: u64,
    query_failures: u64,
    lock_held: u64,
    strays_not_removed: u64,
    /// The last estimate of an operation's time, in milliseconds.
    op_ms: u64,
}

impl Stats {
    fn failures(&self) -> u64 {
        self.unopenable
            + self.lost
            + self.phantom
            + self.query_failures
            + self.lock_held
            + self.strays_not_removed
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kills {} (in add {}, remove {}, compact {}, between operations {}; \
             left a stray segment {}, a temporary manifest {}), references lost {}, phantom references {}, \
             unopenable indexes {}, failed queries {}, locks left held {}, strays not cleaned {}; \
             an operation took about {} ms",
            self.kills,
            self.killed_in_add,
            self.killed_in_remove,
            self.killed_in_compact,
            self.killed_between,
            self.left_segments,
            self.left_manifests,
            self.lost,
            self.phantom,
            self.unopenable,
            self.query_failures,
            self.lock_held,
            self.strays_not_removed,
            self.op_ms
        )
    }
}

fn spawn_writer(dir: &Path, journal: &Path, run: u64, seed: u64) -> Child {
    Command::new(std::env::current_exe().expect("the test binary has a path"))
        .arg(WRITER)
        .arg(dir)
        .arg(journal)
        .arg(run.to_string())
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the writer starts")
}

/// Waits until `child` says it has opened the index.
fn wait_ready(child: &mut Child) {
    let mut line = String::new();
    let stdout = child.stdout.as_mut().expect("stdout is piped");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("reads the writer's stdout");
    assert_eq!(
        line.trim_end(),
        READY,
        "the writer did not start: see its stderr above"
    );
}

/// Segment files and temporary manifests in `dir` that its manifest does not name.
fn strays(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("MANIFEST")).unwrap_or_default();
    let named: Vec<String> = text
        .split_once('\n')
        .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(body).ok())
        .and_then(|m| m["segments"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s["file"].as_str().map(str::to_string))
        .collect();
    std::fs::read_dir(dir)
        .expect("the index directory lists")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| (n.ends_with(".cpi") && !named.contains(n)) || n.starts_with(".MANIFEST."))
        .collect()
}

/// True when no process holds the writer lock (tried without blocking).
fn lock_is_free(dir: &Path) -> bool {
    let file = File::options()
        .write(true)
        .open(dir.join("LOCK"))
        .expect("LOCK exists once a writer ran");
    match file.try_lock() {
        Ok(()) => {
            file.unlock().expect("unlocks");
            true
        }
        Err(_) => false,
    }
}

/// Kills `kills` writers and checks the index after each; returns what it saw.
fn crash_loop(kills: u64, seed: u64) -> Stats {
    let slices = common::speech_slices();
    let scratch = common::scratch("crash", "kill");
    let (dir, journal) = (scratch.join("index"), scratch.join("journal"));
    Index::create(&dir, IndexSettings::default()).expect("creates");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut op_ms = FIRST_OP_MS;
    let mut model = Model::default();
    let mut journal_read = 0;
    let mut stats = Stats::default();
    for run in 0..kills {
        let delay_ms = rng.next_u64() % (OPS_PER_KILL * op_ms + 1);
        let mut child = spawn_writer(&dir, &journal, run, rng.next_u64());
        wait_ready(&mut child);
        let ready = Instant::now();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if let Some(status) = child.try_wait().expect("waits") {
            panic!("the writer stopped by itself ({status}): see its stderr above");
        }
        child.kill().expect("SIGKILL");
        let alive_ms = ready.elapsed().as_millis() as u64;
        child.wait().expect("reaped");
        stats.kills += 1;

        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        let new = &text[journal_read..];
        let completed = new.lines().filter(|l| l.starts_with("done ")).count() as u64;
        op_ms = match alive_ms.checked_div(completed) {
            // A running mean, slightly high (the interrupted operation's time counts too).
            Some(per_op) => (op_ms + per_op).div_ceil(2),
            // None completed: the first operation took longer than that, at least.
            None => op_ms.max(alive_ms),
        };
        stats.op_ms = op_ms;
        model.replay(new);
        journal_read += new.rfind('\n').map_or(0, |at| at + 1);
        match &model.in_flight {
            Some((op, _)) if op == "add" => stats.killed_in_add += 1,
            Some((op, _)) if op == "remove" => stats.killed_in_remove += 1,
            Some(_) => stats.killed_in_compact += 1,
            None => stats.killed_between += 1,
        }
        let left = strays(&dir);
        stats.left_segments += u64::from(left.iter().any(|n| n.ends_with(".cpi")));
        stats.left_manifests += u64::from(left.iter().any(|n| n.starts_with(".MANIFEST.")));

        let index = match Index::open(&dir) {
            Ok(index) => index,
            Err(e) => {
                eprintln!("run {run}: the index does not open: {e}");
                stats.unopenable += 1;
                break;
            }
        };
        let listed: Vec<String> = index.list().iter().map(|e| e.name.clone()).collect();
        let allowed = model.allowed();
        if !allowed.contains(&listed) {
            let lost: Vec<&String> = model.names.iter().filter(|n| !listed.contains(n)).collect();
            let phantom: Vec<&String> = listed
                .iter()
                .filter(|n| !allowed.iter().any(|state| state.contains(n)))
                .collect();
            eprintln!(
                "run {run}: listed {} references, the journal allows {:?} of them; lost {lost:?}, \
                 phantom {phantom:?}, in flight {:?}",
                listed.len(),
                allowed.iter().map(Vec::len).collect::<Vec<_>>(),
                model.in_flight
            );
            stats.lost += lost.len() as u64;
            stats.phantom += phantom.len() as u64;
        }
        model.names = listed;
        model.in_flight = None;
        if let Some(last) = model.names.last()
            && !query_finds(&index, &slices, last)
        {
            eprintln!("run {run}: a query of {last} does not find its slice");
            stats.query_failures += 1;
        }
        drop(index);

        if !lock_is_free(&dir) {
            eprintln!("run {run}: the writer lock is still held after the kill");
            stats.lock_held += 1;
            break;
        }
        let mut index = Index::open(&dir).expect("opened a moment ago");
        let slice = rng.next_u64() as usize % slices.len();
        let name = reference_name("t", run, 0, slice);
        index
            .add_audio(&name, &slices[slice], false)
            .unwrap_or_else(|e| panic!("run {run}: an add after the kill fails: {e}"));
        model.names.push(name);
        let left = strays(&dir);
        if !left.is_empty() {
            eprintln!("run {run}: the add after the kill left {left:?}");
            stats.strays_not_removed += 1;
        }
    }
    if stats.failures() == 0 {
        std::fs::remove_dir_all(&scratch).expect("clean up");
    } else {
        eprintln!("the index is kept for inspection at {}", scratch.display());
    }
    stats
}

/// True when a query of the slice `name` holds finds, as its strongest asserted match, a reference
/// holding that slice (the same slice may be in the index under several names).
fn query_finds(index: &Index, slices: &[Audio], name: &str) -> bool {
    let slice = slice_of(name);
    match index.query_audio(&slices[slice]) {
        Ok(matches) => matches
            .first()
            .is_some_and(|m| m.confidence >= 0.5 && slice_of(&m.reference) == slice),
        Err(e) => {
            eprintln!("query of {name}: {e}");
            false
        }
    }
}
