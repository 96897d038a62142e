//! The benchmark itself: the train/test split by speaker, the archive, and the clips — authentic,
//! reused, deletions and reassembled — assembled from the recordings' masters with their truth,
//! each checked against its audio by construction.

use std::collections::{BTreeMap, BTreeSet};

use clip_provenance::MonoResampler;
use rayon::prelude::*;

use crate::acoustics::Acoustics;
use crate::corpus::{Corpus, GEN_RATE_HZ};
use crate::dsp::{PauseMap, Placement, crossfade_gains, without_dc, xcorr_peak};
use crate::rng::Rng;
use crate::truth::{
    ClipKind, ClipTruth, Join, Label, PieceTruth, SpliceTruth, Split, TRUTH_SCHEMA,
};

/// Speeds (per mille: source seconds per 1000 clip seconds) that pieces are sometimes played at:
/// ±2–5 % (issue 7), the range of a pitch-preserving-free speed-up that an editor uses to fit a
/// slot or to disguise reuse.
const PIECE_SPEEDS_PER_MILLE: [u32; 6] = [950, 970, 980, 1020, 1030, 1050];

/// Probability that a reused clip or a reassembled piece is played at one of those speeds.
const PIECE_SPEED_PROBABILITY: f64 = 0.2;

/// Cuts stay this far from a recording's ends, so a crossfade (at most 50 ms, half on each side,
/// at up to 5 % speed) always has source audio to fade.
const CUT_MARGIN_S: f64 = 0.05;

/// Crossfade lengths: hard cuts, short de-click fades of 1–10 ms, and blends of 10–50 ms (issue 7:
/// 0–50 ms), drawn with these probabilities.
const FADE_HARD_PROBABILITY: f64 = 0.4;
const FADE_SHORT_PROBABILITY: f64 = 0.3;
const FADE_SHORT_RANGE_S: (f64, f64) = (0.001, 0.010);
const FADE_LONG_RANGE_S: (f64, f64) = (0.010, 0.050);

/// Share of clips whose cuts are placed in pauses (the rest mid-speech).
const PAUSE_CUT_PROBABILITY: f64 = 0.5;

/// Audio removed by one deletion, in seconds: a word to a sentence.
const DELETION_RANGE_S: (f64, f64) = (0.3, 2.0);

/// Recordings at least this long get a deletion clip.
const DELETION_MIN_RECORDING_S: f64 = 4.0;

/// A second deletion for recordings longer than this, a third past three times it.
const DELETION_EXTRA_PER_S: f64 = 10.0;

/// Reassembled clips have this many pieces (issue 7: 2–5).
const REASSEMBLED_PIECES: (usize, usize) = (2, 5);

/// Target length of a reassembled piece in seconds: spans the 2 s and 3 s attribution thresholds.
const PIECE_LENGTH_RANGE_S: (f64, f64) = (1.5, 5.0);

/// Probability that a reassembled clip keeps to one speaker (several of their recordings).
const SAME_SPEAKER_PROBABILITY: f64 = 0.4;

/// Probability that a reassembled piece after the first comes from the archive (the rest from
/// recordings in no archive).
const ARCHIVED_PIECE_PROBABILITY: f64 = 0.7;

/// Reassembled clips per recording of a split, in the full run.
const REASSEMBLED_PER_RECORDING: f64 = 0.75;

/// Unedited clips start and end up to this share of the recording in from its ends.
const UNEDITED_TRIM_MAX: f64 = 0.15;

/// In `--quick`, clips are at most this long, so a debug build analyses them in seconds.
const QUICK_MAX_CLIP_S: f64 = 6.0;

/// The truth check compares at most this much of each piece with its source.
const CHECK_EXCERPT_S: f64 = 1.0;

/// The truth check searches ± this many samples around the stated offset.
const CHECK_MAX_LAG_SAMPLES: usize = 400;

/// The truth check's margin inside a piece, away from its crossfades and resampler edges.
const CHECK_GUARD_S: f64 = 0.010;

/// The truth check requires the normalised correlation peak to reach this: a copy scores 1.0.
const CHECK_MIN_PEAK: f64 = 0.95;

/// The same for a piece played at another speed and resampled back: two band-limiting
/// resamplings and the resampler's edges lower the peak: a piece at speed 0.97 peaked at 0.77,
/// exactly at its stated offset (session 9). A wrong offset shows as a lag other than 0; the peak
/// only has to stand far above that of unrelated speech (at most 0.15 over ±400 lags, for 151
/// random pairs of one-second excerpts of two corpus recordings).
const CHECK_MIN_PEAK_RESAMPLED: f64 = 0.6;

/// One recording's role in the benchmark and its master.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path in the corpus.
    pub rel_path: String,
    /// File stem; the archive copy is `<stem>.wav`.
    pub stem: String,
    /// Speaker.
    pub speaker: String,
    /// Train or test, by speaker.
    pub split: Split,
    /// In the archive (else in no archive).
    pub archived: bool,
    /// Room, background, hum.
    pub acoustics: Acoustics,
    /// The recording's own mains hum, in dB over its neighbourhood (see
    /// [`crate::corpus::Recording::own_hum_db`]).
    pub own_hum_db: f64,
    /// The master: the dry speech with its acoustics, at [`GEN_RATE_HZ`], quantised to 16 bits
    /// exactly as its WAV file holds it.
    pub master: Vec<f32>,
    /// Pauses and loud speech of the dry recording.
    pub pauses: PauseMap,
}

impl Source {
    /// The master's file name: `<stem>.wav`, the name under which it enters the archive.
    pub fn file_name(&self) -> String {
        format!("{}.wav", self.stem)
    }

    /// The master's path relative to the benchmark folder.
    pub fn master_path(&self) -> String {
        let dir = if self.archived {
            "archive"
        } else {
            "unarchived"
        };
        format!("{dir}/{}", self.file_name())
    }

    fn len(&self) -> usize {
        self.master.len()
    }
}

/// A clip before any degradation: 16 kHz mono samples and their truth.
#[derive(Debug, Clone)]
pub struct Clip {
    /// Unique id, e.g. `test-reassembled-03`.
    pub id: String,
    /// The samples at [`GEN_RATE_HZ`].
    pub samples: Vec<f32>,
    /// The truth of this clean version (condition and file are filled in per rendering).
    pub truth: ClipTruth,
}

/// Sources and clips.
#[derive(Debug, Clone)]
pub struct Benchmark {
    /// Every speech recording's role and master, in corpus order.
    pub sources: Vec<Source>,
    /// The clips, in id order within split and kind.
    pub clips: Vec<Clip>,
}

/// What a clip will be.
#[derive(Debug, Clone)]
struct ClipSpec {
    id: String,
    split: Split,
    kind: ClipKind,
    /// The source it is built around (for unedited and deletion clips, the only one).
    source: usize,
}

/// One piece to cut: a source, the in and out points (cut positions in source samples, before the
/// crossfade is added), and the speed.
#[derive(Debug, Clone, Copy)]
struct Cut {
    source: usize,
    in_at: usize,
    out_at: usize,
    speed_per_mille: u32,
}

/// Builds the benchmark from `corpus` with `seed`; `quick` keeps four short clips per split.
///
/// # Errors
/// A message when a generated clip fails its truth check (a bug in the generator).
pub fn generate(corpus: &Corpus, seed: u64, quick: bool) -> Result<Benchmark, String> {
    let splits = split_by_speaker(corpus, seed);
    let archived = assign_archive(corpus, &splits, seed);
    let sources: Vec<Source> = corpus
        .speech
        .par_iter()
        .enumerate()
        .map(|(i, rec)| {
            let mut rng = Rng::derive(seed, &format!("acoustics/{}", rec.rel_path));
            let acoustics = Acoustics::draw(&mut rng, rec.duration_s(), &corpus.noise);
            let master = quantise_16bit(&acoustics.render(&rec.samples, &corpus.noise));
            Source {
                rel_path: rec.rel_path.clone(),
                stem: rec.stem.clone(),
                speaker: rec.speaker.clone(),
                split: splits[i],
                archived: archived[i],
                acoustics,
                own_hum_db: rec.own_hum_db(),
                master,
                pauses: PauseMap::new(&rec.samples, GEN_RATE_HZ),
            }
        })
        .collect();
    let specs = plan(&sources, seed, quick);
    let clips: Vec<Result<Clip, String>> = specs
        .par_iter()
        .map(|spec| {
            let mut rng = Rng::derive(seed, &format!("clip/{}", spec.id));
            let clip = build_clip(spec, &sources, quick, &mut rng);
            check_clip(&clip.samples, &clip.truth, &sources).map_err(|e| {
                format!("{}: generated audio disagrees with its truth: {e}", clip.id)
            })?;
            Ok(clip)
        })
        .collect();
    let clips = clips.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(Benchmark { sources, clips })
}

/// Rounds to the 16-bit grid, so the clips cut from a master equal the master's WAV file.
fn quantise_16bit(x: &[f32]) -> Vec<f32> {
    x.iter()
        .map(|v| (v.clamp(-1.0, 1.0) * 32767.0).round() / 32767.0)
        .collect()
}

/// Assigns each speaker (and so all their recordings) to train or test: speakers in a seeded
/// order, each to the side with less speech so far, so the two halves hold about equal time.
fn split_by_speaker(corpus: &Corpus, seed: u64) -> Vec<Split> {
    let mut speech_s: BTreeMap<&str, f64> = BTreeMap::new();
    for rec in &corpus.speech {
        *speech_s.entry(rec.speaker.as_str()).or_default() += rec.file_s;
    }
    let mut speakers: Vec<(&str, f64)> = speech_s.into_iter().collect();
    Rng::derive(seed, "split").shuffle(&mut speakers);
    let (mut test_s, mut train_s) = (0.0, 0.0);
    let mut side: BTreeMap<&str, Split> = BTreeMap::new();
    for (speaker, seconds) in speakers {
        if test_s <= train_s {
            test_s += seconds;
            side.insert(speaker, Split::Test);
        } else {
            train_s += seconds;
            side.insert(speaker, Split::Train);
        }
    }
    corpus
        .speech
        .iter()
        .map(|r| side.get(r.speaker.as_str()).copied().unwrap_or(Split::Test))
        .collect()
}

/// Chooses the archive recordings: a speaker with several recordings gets some in the archive and
/// some not (for same-speaker reassembly from archived and new material); the others go, in a
/// seeded order, to whichever side has less speech in their split.
fn assign_archive(corpus: &Corpus, splits: &[Split], seed: u64) -> Vec<bool> {
    let mut rng = Rng::derive(seed, "archive");
    let mut archived = vec![false; corpus.speech.len()];
    let mut by_speaker: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, rec) in corpus.speech.iter().enumerate() {
        by_speaker.entry(rec.speaker.as_str()).or_default().push(i);
    }
    let mut singles = Vec::new();
    for indices in by_speaker.values() {
        if indices.len() >= 2 {
            let mut shuffled = indices.clone();
            rng.shuffle(&mut shuffled);
            for (k, i) in shuffled.into_iter().enumerate() {
                archived[i] = k % 2 == 0;
            }
        } else {
            singles.extend(indices.iter().copied());
        }
    }
    rng.shuffle(&mut singles);
    let mut balance: BTreeMap<Split, f64> = BTreeMap::new(); // archived minus unarchived seconds
    for (i, rec) in corpus.speech.iter().enumerate() {
        if !singles.contains(&i) {
            let sign = if archived[i] { 1.0 } else { -1.0 };
            *balance.entry(splits[i]).or_default() += sign * rec.file_s;
        }
    }
    for i in singles {
        let entry = balance.entry(splits[i]).or_default();
        archived[i] = *entry <= 0.0;
        let sign = if archived[i] { 1.0 } else { -1.0 };
        *entry += sign * corpus.speech[i].file_s;
    }
    archived
}

/// The clips to make: per split, an unedited clip of every recording (authentic or reused), a
/// deletion clip of every recording of at least 4 s, and reassembled clips; `quick` keeps one of
/// each kind per split.
fn plan(sources: &[Source], seed: u64, quick: bool) -> Vec<ClipSpec> {
    let mut specs = Vec::new();
    for split in Split::ALL {
        let members: Vec<usize> = (0..sources.len())
            .filter(|&i| sources[i].split == split)
            .collect();
        let mut by_kind: BTreeMap<ClipKind, Vec<usize>> = BTreeMap::new();
        for &i in &members {
            let kind = if sources[i].archived {
                ClipKind::Reused
            } else {
                ClipKind::Authentic
            };
            by_kind.entry(kind).or_default().push(i);
            if sources[i].len() as f64 >= DELETION_MIN_RECORDING_S * f64::from(GEN_RATE_HZ) {
                by_kind.entry(ClipKind::Deletion).or_default().push(i);
            }
        }
        let archived: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| sources[i].archived)
            .collect();
        if !archived.is_empty() {
            let count = if quick {
                1
            } else {
                ((members.len() as f64 * REASSEMBLED_PER_RECORDING).ceil() as usize).max(2)
            };
            let mut rng = Rng::derive(seed, &format!("plan/{}", split.name()));
            let anchors = (0..count)
                .filter_map(|_| rng.choose(&archived).copied())
                .collect();
            by_kind.insert(ClipKind::Reassembled, anchors);
        }
        for kind in ClipKind::ALL {
            let Some(list) = by_kind.get(&kind) else {
                continue;
            };
            let take = if quick {
                // The shortest recording long enough for the kind keeps the quick run short.
                let mut sorted = list.clone();
                sorted.sort_by_key(|&i| sources[i].len());
                let long_enough = |&&i: &&usize| sources[i].len() >= 3 * GEN_RATE_HZ as usize;
                sorted
                    .iter()
                    .find(long_enough)
                    .or(sorted.last())
                    .copied()
                    .into_iter()
                    .collect()
            } else {
                list.clone()
            };
            for (n, source) in take.into_iter().enumerate() {
                specs.push(ClipSpec {
                    id: format!("{}-{}-{:02}", split.name(), kind.name(), n + 1),
                    split,
                    kind,
                    source,
                });
            }
        }
    }
    specs
}

/// Builds one clip from its spec.
fn build_clip(spec: &ClipSpec, sources: &[Source], quick: bool, rng: &mut Rng) -> Clip {
    let rate = f64::from(GEN_RATE_HZ);
    let source = &sources[spec.source];
    let margin = (CUT_MARGIN_S * rate) as usize;
    let len = source.len();
    let max_clip = if quick {
        (QUICK_MAX_CLIP_S * rate) as usize
    } else {
        usize::MAX
    };
    let want_placement = if rng.chance(PAUSE_CUT_PROBABILITY) {
        Placement::Pause
    } else {
        Placement::MidSpeech
    };
    let fade_s = if rng.chance(FADE_HARD_PROBABILITY) {
        0.0
    } else if rng.chance(FADE_SHORT_PROBABILITY / (1.0 - FADE_HARD_PROBABILITY)) {
        rng.uniform(FADE_SHORT_RANGE_S.0, FADE_SHORT_RANGE_S.1)
    } else {
        rng.uniform(FADE_LONG_RANGE_S.0, FADE_LONG_RANGE_S.1)
    };
    let fade_samples = (fade_s * rate).round() as usize;
    let (cuts, placements) = match spec.kind {
        ClipKind::Authentic | ClipKind::Reused => {
            let (start, end) = stretch(len, max_clip, margin, rng);
            let speed = if spec.kind == ClipKind::Reused && rng.chance(PIECE_SPEED_PROBABILITY) {
                *rng.choose(&PIECE_SPEEDS_PER_MILLE).unwrap_or(&1000)
            } else {
                1000
            };
            let cut = Cut {
                source: spec.source,
                in_at: start,
                out_at: end,
                speed_per_mille: speed,
            };
            (vec![cut], Vec::new())
        }
        ClipKind::Deletion => {
            let (start, end) = stretch(len, max_clip.saturating_add(max_clip / 2), margin, rng);
            let span_s = (end - start) as f64 / rate;
            let count = 1
                + usize::from(span_s > DELETION_EXTRA_PER_S)
                + usize::from(span_s > 3.0 * DELETION_EXTRA_PER_S);
            deletion_cuts(spec.source, source, start, end, count, want_placement, rng)
        }
        ClipKind::Reassembled => reassembled_cuts(spec, sources, quick, want_placement, rng),
    };
    let fades = vec![fade_samples; cuts.len().saturating_sub(1)];
    assemble(spec, sources, &cuts, &fades, &placements)
}

/// A stretch [start, end) of a recording of `len` samples: trimmed at both ends by up to 15 %,
/// at most `max_len` long.
fn stretch(len: usize, max_len: usize, margin: usize, rng: &mut Rng) -> (usize, usize) {
    let trim = |rng: &mut Rng| (rng.uniform(0.0, UNEDITED_TRIM_MAX) * len as f64) as usize;
    let mut start = trim(rng).max(margin);
    let mut end = len.saturating_sub(trim(rng)).min(len - margin.min(len));
    if end <= start + margin {
        (start, end) = (margin.min(len / 4), len - margin.min(len / 4));
    }
    if end - start > max_len {
        let slack = end - start - max_len;
        start += rng.below(slack + 1);
        end = start + max_len;
    }
    (start, end)
}

/// A cut position in lo..hi: the wanted placement if the recording has one there, else the other,
/// else any position.
fn pick_cut(source: &Source, want: Placement, lo: usize, hi: usize, rng: &mut Rng) -> usize {
    if hi <= lo {
        return lo;
    }
    let other = if want == Placement::Pause {
        Placement::MidSpeech
    } else {
        Placement::Pause
    };
    source
        .pauses
        .pick(want, lo, hi, rng)
        .or_else(|| source.pauses.pick(other, lo, hi, rng))
        .unwrap_or_else(|| lo + rng.below(hi - lo))
}

/// Pieces of one recording with `count` deletions inside [start, end): the stretch is divided into
/// equal sections, and each section loses 0.3–2 s starting in its middle part.
fn deletion_cuts(
    index: usize,
    source: &Source,
    start: usize,
    end: usize,
    count: usize,
    want: Placement,
    rng: &mut Rng,
) -> (Vec<Cut>, Vec<Placement>) {
    let rate = f64::from(GEN_RATE_HZ);
    let section = (end - start) / count.max(1);
    let min_gap = (DELETION_RANGE_S.0 * rate) as usize;
    let max_gap = (DELETION_RANGE_S.1 * rate) as usize;
    let mut cuts = Vec::new();
    let mut placements = Vec::new();
    let mut piece_start = start;
    for k in 0..count {
        let lo = start + k * section;
        // The out point in the section's first half (past its first eighth), the in point after
        // the gap.
        let out_at = pick_cut(source, want, lo + section / 8, lo + section / 2, rng);
        let in_lo = out_at + min_gap;
        let in_hi = (out_at + max_gap).min(lo + section - section / 8);
        let in_at = pick_cut(source, want, in_lo, in_hi.max(in_lo + 1), rng);
        cuts.push(Cut {
            source: index,
            in_at: piece_start,
            out_at,
            speed_per_mille: 1000,
        });
        placements.push(side_placement(source, out_at, source, in_at));
        piece_start = in_at;
    }
    cuts.push(Cut {
        source: index,
        in_at: piece_start,
        out_at: end,
        speed_per_mille: 1000,
    });
    (cuts, placements)
}

/// The placement of a splice from `a` at `out_at` to `b` at `in_at`.
fn side_placement(a: &Source, out_at: usize, b: &Source, in_at: usize) -> Placement {
    let (pa, pb) = (a.pauses.placement_at(out_at), b.pauses.placement_at(in_at));
    if pa == pb { pa } else { Placement::Mixed }
}

/// Pieces of several recordings: the first from the archive, of one speaker's recordings or of
/// alternating speakers, the others from the archive or from no archive.
fn reassembled_cuts(
    spec: &ClipSpec,
    sources: &[Source],
    quick: bool,
    want: Placement,
    rng: &mut Rng,
) -> (Vec<Cut>, Vec<Placement>) {
    let rate = f64::from(GEN_RATE_HZ);
    let members: Vec<usize> = (0..sources.len())
        .filter(|&i| sources[i].split == spec.split)
        .collect();
    let mut per_speaker: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in &members {
        per_speaker
            .entry(sources[i].speaker.as_str())
            .or_default()
            .push(i);
    }
    let anchor_speaker = sources[spec.source].speaker.as_str();
    let same_speaker = per_speaker
        .get(anchor_speaker)
        .is_some_and(|v| v.len() >= 2)
        && rng.chance(SAME_SPEAKER_PROBABILITY);
    let speakers: BTreeSet<&str> = per_speaker.keys().copied().collect();
    let (min_pieces, max_pieces) = REASSEMBLED_PIECES;
    let count = if quick {
        min_pieces
    } else {
        rng.range_inclusive(min_pieces, max_pieces)
    };
    let mut chosen = vec![spec.source];
    while chosen.len() < count {
        let previous = *chosen.last().unwrap_or(&spec.source);
        let candidates: Vec<usize> = if same_speaker {
            per_speaker
                .get(anchor_speaker)
                .map(|v| v.iter().copied().filter(|&i| i != previous).collect())
                .unwrap_or_default()
        } else {
            let want_archived = rng.chance(ARCHIVED_PIECE_PROBABILITY);
            let others: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| sources[i].speaker != sources[previous].speaker || speakers.len() < 2)
                .filter(|&i| i != previous)
                .collect();
            let preferred: Vec<usize> = others
                .iter()
                .copied()
                .filter(|&i| sources[i].archived == want_archived)
                .collect();
            if preferred.is_empty() {
                others
            } else {
                preferred
            }
        };
        match rng.choose(&candidates) {
            Some(&i) => chosen.push(i),
            None => break,
        }
    }
    let (lo_s, hi_s) = if quick {
        (PIECE_LENGTH_RANGE_S.0, PIECE_LENGTH_RANGE_S.0 * 2.0)
    } else {
        PIECE_LENGTH_RANGE_S
    };
    let margin = (CUT_MARGIN_S * rate) as usize;
    let mut cuts: Vec<Cut> = Vec::new();
    for &index in &chosen {
        let source = &sources[index];
        let len = source.len();
        let target = ((rng.uniform(lo_s, hi_s) * rate) as usize).min(len - 2 * margin.min(len / 4));
        let in_hi = len.saturating_sub(margin + target).max(margin + 1);
        let in_at = pick_cut(source, want, margin, in_hi, rng);
        // The piece ends within ±40 % of its target length: room to find a pause.
        let out_lo = (in_at + target * 3 / 5).min(len - margin);
        let out_hi = (in_at + target * 7 / 5).min(len - margin);
        let out_at = pick_cut(source, want, out_lo, out_hi, rng).max(in_at + 1);
        let speed_per_mille = if rng.chance(PIECE_SPEED_PROBABILITY) {
            *rng.choose(&PIECE_SPEEDS_PER_MILLE).unwrap_or(&1000)
        } else {
            1000
        };
        cuts.push(Cut {
            source: index,
            in_at,
            out_at,
            speed_per_mille,
        });
    }
    let placements = cuts
        .windows(2)
        .map(|w| {
            side_placement(
                &sources[w[0].source],
                w[0].out_at,
                &sources[w[1].source],
                w[1].in_at,
            )
        })
        .collect();
    (cuts, placements)
}

/// Resamples `x` so it plays `speed_per_mille / 1000` times faster at the same rate.
fn change_speed(x: &[f32], speed_per_mille: u32) -> Vec<f32> {
    if speed_per_mille == 1000 {
        return x.to_vec();
    }
    let mut resampler = MonoResampler::new(speed_per_mille, 1000)
        .expect("speeds per mille are valid resampler rates");
    let mut out = Vec::with_capacity(x.len());
    resampler.push(x, &mut out);
    resampler.finish(&mut out);
    out
}

/// Cuts the pieces from their masters, joins them with equal-power crossfades centred on the cut
/// points, and writes down the truth.
fn assemble(
    spec: &ClipSpec,
    sources: &[Source],
    cuts: &[Cut],
    fades: &[usize],
    placements: &[Placement],
) -> Clip {
    let rate = f64::from(GEN_RATE_HZ);
    // Each piece extends by half a crossfade past its cut points (in clip samples; in source
    // samples that is times the speed).
    let mut segments = Vec::new();
    for (i, cut) in cuts.iter().enumerate() {
        let source = &sources[cut.source];
        let speed = f64::from(cut.speed_per_mille) / 1000.0;
        let half =
            |fade: Option<&usize>| fade.map_or(0, |f| (*f as f64 / 2.0 * speed).round() as usize);
        let left = if i > 0 { half(fades.get(i - 1)) } else { 0 };
        let right = half(fades.get(i));
        let r0 = cut.in_at.saturating_sub(left);
        let r1 = (cut.out_at + right).min(source.len()).max(r0 + 1);
        let audio = change_speed(&source.master[r0..r1], cut.speed_per_mille);
        segments.push((r0, r1, audio));
    }
    // Crossfades no longer than half of either neighbour.
    let fades: Vec<usize> = fades
        .iter()
        .enumerate()
        .map(|(i, &f)| {
            let shortest = segments[i].2.len().min(segments[i + 1].2.len());
            f.min(shortest / 2)
        })
        .collect();
    let mut starts = vec![0usize];
    for i in 1..segments.len() {
        starts.push(starts[i - 1] + segments[i - 1].2.len() - fades[i - 1]);
    }
    let total = starts.last().copied().unwrap_or(0) + segments.last().map_or(0, |s| s.2.len());
    let mut samples = vec![0f32; total];
    let mut pieces = Vec::new();
    for (i, ((r0, r1, audio), cut)) in segments.iter().zip(cuts).enumerate() {
        let fade_in = if i > 0 { fades[i - 1] } else { 0 };
        let fade_out = fades.get(i).copied().unwrap_or(0);
        let n = audio.len();
        for (k, v) in audio.iter().enumerate() {
            let mut gain = 1.0;
            if k < fade_in {
                gain *= crossfade_gains(k, fade_in).1;
            }
            if k + fade_out >= n && fade_out > 0 {
                gain *= crossfade_gains(k + fade_out - n, fade_out).0;
            }
            samples[starts[i] + k] += gain * v;
        }
        let source = &sources[cut.source];
        pieces.push(PieceTruth {
            recording: source.rel_path.clone(),
            speaker: source.speaker.clone(),
            reference: source.archived.then(|| source.file_name()),
            master: source.master_path(),
            clip_start_s: starts[i] as f64 / rate,
            clip_end_s: (starts[i] + n) as f64 / rate,
            source_start_s: *r0 as f64 / rate,
            source_end_s: *r1 as f64 / rate,
            speed: f64::from(cut.speed_per_mille) / 1000.0,
            acoustics: source.acoustics.clone(),
            own_hum_db: source.own_hum_db,
        });
    }
    let splices: Vec<SpliceTruth> = (0..fades.len())
        .map(|i| {
            let (a, b) = (&sources[cuts[i].source], &sources[cuts[i + 1].source]);
            let join = if cuts[i].source == cuts[i + 1].source {
                Join::WithinRecording
            } else if a.speaker == b.speaker {
                Join::SameSpeaker
            } else {
                Join::OtherSpeaker
            };
            SpliceTruth {
                time_s: (starts[i + 1] as f64 + fades[i] as f64 / 2.0) / rate,
                join,
                placement: placements.get(i).copied().unwrap_or(Placement::Mixed),
                crossfade_s: fades[i] as f64 / rate,
            }
        })
        .collect();
    let archived = pieces.iter().filter(|p| p.reference.is_some()).count();
    let truth = ClipTruth {
        schema: TRUTH_SCHEMA.to_string(),
        clip: spec.id.clone(),
        clip_id: spec.id.clone(),
        file: String::new(),
        split: spec.split,
        kind: spec.kind,
        label: Label::from_evidence(!splices.is_empty(), archived > 0),
        condition: String::new(),
        chain: Vec::new(),
        duration_s: total as f64 / rate,
        sample_rate_hz: GEN_RATE_HZ,
        splices,
        pieces,
        alignment: None,
    };
    Clip {
        id: spec.id.clone(),
        samples,
        truth,
    }
}

/// Checks a clean clip against its truth by construction: every piece, away from its crossfades,
/// cross-correlates with its source master at the stated offset (peak at lag 0 within a sample);
/// a piece played at another speed is first resampled back to the source's pace.
///
/// # Errors
/// A message naming the piece, the lag found and the peak.
pub fn check_clip(samples: &[f32], truth: &ClipTruth, sources: &[Source]) -> Result<(), String> {
    let rate = f64::from(GEN_RATE_HZ);
    let guard = (CHECK_GUARD_S * rate) as usize;
    for (i, piece) in truth.pieces.iter().enumerate() {
        let source = sources
            .iter()
            .find(|s| s.rel_path == piece.recording)
            .ok_or_else(|| format!("piece {i}: no source {}", piece.recording))?;
        let fade_in = if i > 0 {
            truth.splices.get(i - 1).map_or(0.0, |s| s.crossfade_s)
        } else {
            0.0
        };
        let fade_out = truth.splices.get(i).map_or(0.0, |s| s.crossfade_s);
        let lo = ((piece.clip_start_s + fade_in) * rate).ceil() as usize + guard;
        let hi = ((piece.clip_end_s - fade_out) * rate).floor() as usize;
        let hi = hi.saturating_sub(guard).min(samples.len());
        if hi <= lo + guard {
            continue; // too short to check (never generated: pieces are at least ~0.8 s)
        }
        let len = (hi - lo).min((CHECK_EXCERPT_S * rate) as usize);
        let start = lo + (hi - lo - len) / 2;
        let speed_per_mille = (piece.speed * 1000.0).round() as u32;
        let (excerpt, excerpt_clip_s) = if speed_per_mille == 1000 {
            (samples[start..start + len].to_vec(), start as f64 / rate)
        } else {
            // Output sample k of a 1000 → speed resampler lies at clip sample start + k / speed,
            // which plays source sample source_at(start) + k: the source's own pace.
            let mut resampler =
                MonoResampler::new(1000, speed_per_mille).map_err(|e| format!("piece {i}: {e}"))?;
            let mut back = Vec::new();
            resampler.push(&samples[start..start + len], &mut back);
            resampler.finish(&mut back);
            // The resampler's edges see silence around the excerpt: keep the middle.
            let edge = back.len() / 10;
            let middle = back[edge..back.len() - edge].to_vec();
            (middle, (start as f64 + edge as f64 / piece.speed) / rate)
        };
        let at = (piece.source_at(excerpt_clip_s) * rate).round() as i64;
        let from = (at - CHECK_MAX_LAG_SAMPLES as i64).max(0) as usize;
        let to = (at as usize + excerpt.len() + CHECK_MAX_LAG_SAMPLES).min(source.master.len());
        let window = without_dc(&source.master[from.min(to)..to]);
        let (lag, peak) = xcorr_peak(&window, &without_dc(&excerpt), CHECK_MAX_LAG_SAMPLES * 2);
        let offset = from as i64 + lag - at;
        let min_peak = if speed_per_mille == 1000 {
            CHECK_MIN_PEAK
        } else {
            CHECK_MIN_PEAK_RESAMPLED
        };
        if offset.abs() > 1 || peak < min_peak {
            return Err(format!(
                "piece {i} ({}, clip {:.3}–{:.3} s, speed {}, fades {fade_in}/{fade_out} s, \
                 {len} samples checked): best match {offset} samples from the stated offset, \
                 peak {peak:.4}",
                piece.recording, piece.clip_start_s, piece.clip_end_s, piece.speed
            ));
        }
    }
    Ok(())
}
