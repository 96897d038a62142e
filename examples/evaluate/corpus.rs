//! The speech and noise the benchmark is built from: a folder searched for audio files, with
//! `noise/` for background noise and an optional `speakers.tsv` (file → speaker), laid out as the
//! shared corpus and `testdata/speech/` are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clip_provenance::{DecodeOptions, MonoResampler, decode_path};
use rayon::prelude::*;

/// The rate every recording is brought to before anything else: 16 kHz, the analysis rate and the
/// native rate of most of the corpus (CORPUS.md), so most files keep their samples exactly.
pub const GEN_RATE_HZ: u32 = 16_000;

/// Recordings shorter than this are left out: a clip needs at least a second of speech.
const MIN_RECORDING_S: f64 = 1.0;

/// Edits already inside corpus recordings, in seconds of the file: the recording's own mains hum
/// jumps in phase there (`own_edits.py` finds them, independently of the library's ENF cue; the
/// library's cue peaks within 0.6 s of each). LibriVox readers splice their retakes in, and
/// LibriSpeech utterances are cut from LibriVox recordings. A clip holding one would be called
/// authentic while it holds a real splice, so a listed recording is kept only up to
/// [`OWN_EDIT_GUARD_S`] before its first edit.
const OWN_EDITS: [(&str, &[f64]); 2] = [
    ("librispeech_163-121908-0000", &[8.30, 11.15]),
    ("librivox_de_simplicissimus", &[36.70, 62.80]),
];

/// How far before a listed edit a recording is cut off, in seconds: the scan places an edit within
/// a few hundred milliseconds.
const OWN_EDIT_GUARD_S: f64 = 1.0;

/// File extensions taken as audio when walking the corpus folder.
const AUDIO_EXTENSIONS: [&str; 8] = ["flac", "wav", "mp3", "ogg", "opus", "m4a", "aac", "webm"];

/// The folder, directly under the corpus folder, that holds background noise.
const NOISE_DIR: &str = "noise";

/// One recording, decoded, mixed to mono and resampled to [`GEN_RATE_HZ`].
#[derive(Debug, Clone)]
pub struct Recording {
    /// Its path relative to the corpus folder, with `/` separators (`speech/jfk.flac`).
    pub rel_path: String,
    /// Its file stem, unique in the corpus; archive copies are named `<stem>.wav`.
    pub stem: String,
    /// The speaker, from `speakers.tsv`, or the stem when the file is not listed there.
    pub speaker: String,
    /// Mono samples at [`GEN_RATE_HZ`].
    pub samples: Vec<f32>,
    /// The whole file's duration in seconds: `samples` may stop earlier (see [`OWN_EDITS`]).
    /// Splits and archive shares are balanced on it, so they stay as they were when a recording
    /// is cut short.
    pub file_s: f64,
}

/// A recording carries mains hum of its own when a mains line stands this far above its
/// neighbourhood ([`Recording::own_hum_db`]): 12 dB. Over a whole recording (0.015–0.3 Hz bins)
/// a steady line gathers its power in a bin or two, while speech and noise spread theirs. This is
/// a convention, not a gap in the data: the shared corpus's 66 readings run continuously from
/// −1 to 41 dB, 23 of them at 12 dB or more.
pub const OWN_HUM_DB: f64 = 12.0;

/// The mains lines tested: 50 and 60 Hz and their 2nd and 3rd harmonics.
const MAINS_LINES_HZ: [f64; 6] = [50.0, 60.0, 100.0, 120.0, 150.0, 180.0];

impl Recording {
    /// A recording of the whole of `samples` (at [`GEN_RATE_HZ`]).
    pub fn new(rel_path: String, stem: String, speaker: String, samples: Vec<f32>) -> Recording {
        let file_s = samples.len() as f64 / f64::from(GEN_RATE_HZ);
        Recording {
            rel_path,
            stem,
            speaker,
            samples,
            file_s,
        }
    }

    /// Cuts the recording off before its first own edit, if [`OWN_EDITS`] lists it; `file_s`
    /// keeps the whole file's length.
    fn cut_before_own_edits(&mut self) {
        if let Some((_, edits)) = OWN_EDITS.iter().find(|(name, _)| *name == self.stem) {
            let first_s = edits.iter().copied().fold(f64::INFINITY, f64::min);
            let keep = ((first_s - OWN_EDIT_GUARD_S).max(0.0) * f64::from(GEN_RATE_HZ)) as usize;
            self.samples.truncate(keep);
        }
    }

    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(GEN_RATE_HZ)
    }

    /// The recording's own mains hum: over the whole recording's Hann-windowed spectrum, the
    /// strongest of the mains lines' peak power (within ±0.5 Hz of the line) over the strongest
    /// bin 3–8 Hz below it, in dB. An independent measure for the benchmark's truth, not the
    /// library's ENF cue.
    pub fn own_hum_db(&self) -> f64 {
        let n = self.samples.len();
        if n < 2 {
            return f64::NEG_INFINITY;
        }
        let mut input: Vec<f32> = self
            .samples
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                v * (std::f32::consts::PI * i as f32 / (n - 1) as f32)
                    .sin()
                    .powi(2)
            })
            .collect();
        let fft = realfft::RealFftPlanner::<f32>::new().plan_fft_forward(n);
        let mut spectrum = fft.make_output_vec();
        if fft.process(&mut input, &mut spectrum).is_err() {
            return f64::NEG_INFINITY;
        }
        let bin_hz = f64::from(GEN_RATE_HZ) / n as f64;
        let max_power = |lo_hz: f64, hi_hz: f64| {
            let (lo, hi) = ((lo_hz / bin_hz).ceil() as usize, (hi_hz / bin_hz) as usize);
            spectrum[lo.min(spectrum.len())..=hi.min(spectrum.len() - 1)]
                .iter()
                .map(|z| f64::from(z.norm_sqr()))
                .fold(f64::MIN_POSITIVE, f64::max)
        };
        MAINS_LINES_HZ
            .iter()
            .map(|&f| 10.0 * (max_power(f - 0.5, f + 0.5) / max_power(f - 8.0, f - 3.0)).log10())
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// The corpus: speech recordings and noise recordings, in sorted path order.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The folder it was read from.
    pub dir: PathBuf,
    /// Speech, sorted by relative path.
    pub speech: Vec<Recording>,
    /// Background noise (speaker is empty), sorted by relative path.
    pub noise: Vec<Recording>,
    /// Speech files not listed in `speakers.tsv` (each is then its own speaker).
    pub unlisted: usize,
}

impl Corpus {
    /// Reads every audio file under `dir`.
    ///
    /// # Errors
    /// A message naming the file or folder: unreadable, undecodable, a malformed `speakers.tsv`,
    /// two recordings with one stem, or no speech at all.
    pub fn load(dir: &Path) -> Result<Corpus, String> {
        if !dir.is_dir() {
            return Err(format!("{}: not a folder", dir.display()));
        }
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(dir).follow_links(true) {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let is_audio = entry
                .path()
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if entry.file_type().is_file() && is_audio {
                files.push(entry.into_path());
            }
        }
        files.sort();
        let speakers = read_speakers(dir)?;
        /// A decoded file: its relative path and samples, or `None` when too short.
        type Decoded = Result<Option<(String, Vec<f32>)>, String>;
        let decoded: Vec<Decoded> = files
            .par_iter()
            .map(|path| {
                let rel = relative(dir, path);
                let samples = load_mono(path)?;
                let long_enough = samples.len() as f64 >= MIN_RECORDING_S * f64::from(GEN_RATE_HZ);
                Ok(long_enough.then_some((rel, samples)))
            })
            .collect();
        let mut speech = Vec::new();
        let mut noise = Vec::new();
        let mut unlisted = 0;
        let mut stems: BTreeMap<String, String> = BTreeMap::new();
        for item in decoded {
            let Some((rel_path, samples)) = item? else {
                continue;
            };
            let stem = Path::new(&rel_path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(other) = stems.insert(stem.clone(), rel_path.clone()) {
                return Err(format!(
                    "{}: {rel_path} and {other} have the same stem {stem:?}; recordings are \
                     named by stem in the archive",
                    dir.display()
                ));
            }
            let is_noise = rel_path.split('/').next() == Some(NOISE_DIR);
            if is_noise {
                noise.push(Recording::new(rel_path, stem, String::new(), samples));
                continue;
            }
            let file_name = rel_path.rsplit('/').next().unwrap_or(&rel_path).to_string();
            let speaker = match speakers.get(&rel_path).or_else(|| speakers.get(&file_name)) {
                Some(s) => s.clone(),
                None => {
                    unlisted += 1;
                    stem.clone()
                }
            };
            let mut recording = Recording::new(rel_path, stem, speaker, samples);
            recording.cut_before_own_edits();
            speech.push(recording);
        }
        if speech.is_empty() {
            return Err(format!(
                "{}: no speech recording of at least {MIN_RECORDING_S} s (audio files outside \
                 {NOISE_DIR}/)",
                dir.display()
            ));
        }
        Ok(Corpus {
            dir: dir.to_path_buf(),
            speech,
            noise,
            unlisted,
        })
    }

    /// Total speech in seconds.
    pub fn speech_s(&self) -> f64 {
        self.speech.iter().map(Recording::duration_s).sum()
    }

    /// The number of distinct speakers.
    pub fn speakers(&self) -> usize {
        let mut names: Vec<&str> = self.speech.iter().map(|r| r.speaker.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    }
}

/// `path` relative to `dir`, with `/` separators.
fn relative(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Decodes `path`, mixes it to mono and resamples it to [`GEN_RATE_HZ`].
fn load_mono(path: &Path) -> Result<Vec<f32>, String> {
    let audio = decode_path(path, &DecodeOptions::default())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mono = audio.to_mono();
    let mut resampler = MonoResampler::new(audio.info.sample_rate, GEN_RATE_HZ)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::with_capacity(mono.len());
    resampler.push(&mono, &mut out);
    resampler.finish(&mut out);
    Ok(out)
}

/// `speakers.tsv` in `dir`: a header naming the columns `file` and `speaker` (others ignored),
/// then one line per file. Empty when there is no such file.
fn read_speakers(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let path = dir.join("speakers.tsv");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    parse_speakers(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the text of a `speakers.tsv`.
fn parse_speakers(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Ok(BTreeMap::new());
    };
    let columns: Vec<&str> = header.split('\t').map(str::trim).collect();
    let find = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .ok_or_else(|| format!("line 1: no column named {name:?} in the header"))
    };
    let (file_col, speaker_col) = (find("file")?, find("speaker")?);
    let mut map = BTreeMap::new();
    for (index, line) in lines {
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        match (fields.get(file_col), fields.get(speaker_col)) {
            (Some(file), Some(speaker)) if !file.is_empty() && !speaker.is_empty() => {
                map.insert((*file).to_string(), (*speaker).to_string());
            }
            _ => {
                return Err(format!(
                    "line {}: expected a file and a speaker separated by tabs",
                    index + 1
                ));
            }
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_with_own_edits_ends_before_the_first() {
        let rate = GEN_RATE_HZ as usize;
        let cut = |stem: &str, samples: Vec<f32>| {
            let mut recording =
                Recording::new(String::new(), stem.to_string(), String::new(), samples);
            recording.cut_before_own_edits();
            recording.samples
        };
        let kept = cut("librivox_de_simplicissimus", vec![0.0; 70 * rate]);
        assert_eq!(kept.len(), (35.70 * rate as f64) as usize);
        let other = cut("librispeech_1116-132847-0000", vec![0.0; 15 * rate]);
        assert_eq!(other.len(), 15 * rate);
    }

    #[test]
    fn parse_speakers_reads_named_columns_and_ignores_others() {
        let map = parse_speakers("file\tspeaker\tsex\nspeech/a.flac\tann\tF\nb.flac\tbob\tM\n")
            .expect("valid");
        assert_eq!(map.get("speech/a.flac").map(String::as_str), Some("ann"));
        assert_eq!(map.get("b.flac").map(String::as_str), Some("bob"));
    }

    #[test]
    fn parse_speakers_without_a_speaker_column_is_an_error() {
        assert!(parse_speakers("file\twho\na\tb\n").is_err());
        assert!(parse_speakers("file\tspeaker\nonly-a-file\n").is_err());
    }

    #[test]
    fn bundled_corpus_loads_with_every_file_listed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/speech");
        let corpus = Corpus::load(&dir).expect("the bundled corpus loads");
        assert_eq!(corpus.speech.len(), 16);
        assert_eq!(corpus.noise.len(), 1);
        assert_eq!(corpus.unlisted, 0);
        assert_eq!(corpus.speakers(), 10);
    }
}
