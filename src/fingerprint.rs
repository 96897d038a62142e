//! Spectral fingerprints: peaks of the shared spectrogram, joined into triplet landmarks whose
//! hashes survive codecs, noise, gain, resampling and speed changes.
//!
//! The family is Shazam's (Wang 2003: spectral peaks, hashes of peak pairs with their time
//! offset) with Panako's answer to speed changes (Six & Leman 2014; Six 2022, "Panako 2.0"):
//! hash *triplets* of peaks by quantities that a change of speed leaves alone. For peaks
//! `(t1, f1)`, `(t2, f2)`, `(t3, f3)` with `t1 < t2 < t3`:
//!
//! - the time ratio `(t2 − t1) / (t3 − t1)` is unchanged by any tempo change;
//! - the log-frequency differences `log2 f2 − log2 f1` and `log2 f3 − log2 f1` are unchanged by a
//!   pitch shift, so by resampling-speed changes as well as by time-stretching;
//! - two coarse terms make the hash selective: the anchor frequency `f1` in quarter octaves and
//!   the octave class of the span `t3 − t1`. A 5 % speed change moves them by 0.07 octave, across
//!   a cell boundary only near one, and queries then look up the neighbouring cell too
//!   ([`FingerprintBuilder::expanded_for_query`]).
//!
//! The span itself is kept beside the hash, so every hit says how fast the clip plays the
//! reference: `speed = span_reference / span_clip`.
//!
//! Peaks are the maxima of a neighbourhood in time and frequency (a separable max filter), kept
//! only when they are within [`FingerprintConfig::level_range_db`] of a slowly decaying level
//! envelope: in a pause the room tone is far below the last speech, so it yields no peaks, no
//! hashes, and cannot match another pause.
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spectrogram::Spectrogram;

mod signature;

use signature::SignatureBuilder;
pub use signature::{
    SIGNATURE_BITS, SIGNATURE_FRAMES, agreement as signature_agreement, signature_count,
};
pub(crate) use signature::{reliable_agreement, reliable_count};

/// How fingerprints are made. Changing any field changes the hashes: an index records the
/// configuration it was built with and refuses queries made with another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FingerprintConfig {
    /// Lowest peak frequency in Hz. Below 250 Hz speech peaks are few and mains hum and
    /// rumble dominate.
    pub min_hz: f64,
    /// Highest peak frequency in Hz. 4 kHz keeps the band that survives telephone-grade and
    /// low-bitrate codecs (AAC at 24 kb/s low-passes near 7 kHz, Opus at 16 kb/s wideband at
    /// 8 kHz) with a margin for a +5 % speed change.
    pub max_hz: f64,
    /// A peak is the maximum of ± this many frames (96 ms at the 8 ms hop).
    pub peak_radius_frames: usize,
    /// A peak is the maximum of ± this many bins (± 188 Hz at 31.25 Hz bins).
    pub peak_radius_bins: usize,
    /// Peaks more than this far below the level envelope are dropped, in dB.
    pub level_range_db: f32,
    /// How fast the level envelope falls after a loud frame, in dB per second: after about
    /// 3 s of pause nothing but a new loud event yields peaks.
    pub envelope_decay_db_per_s: f32,
    /// Target zone: second and third peaks start this many frames after the anchor.
    pub zone_min_frames: u32,
    /// Target zone: second and third peaks end this many frames after the anchor (0.64 s at
    /// the 8 ms hop, so a 2 s piece holds many whole triplets).
    pub zone_max_frames: u32,
    /// The strongest this-many peaks of the target zone are paired: `fan_out·(fan_out−1)/2`
    /// triplets per anchor.
    pub fan_out: usize,
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        FingerprintConfig {
            min_hz: 250.0,
            max_hz: 4000.0,
            peak_radius_frames: 12,
            peak_radius_bins: 6,
            level_range_db: 35.0,
            envelope_decay_db_per_s: 12.0,
            zone_min_frames: 6,
            zone_max_frames: 80,
            fan_out: 4,
        }
    }
}

impl FingerprintConfig {
    /// Checks ranges against a spectrogram's bin spacing.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field out of range.
    pub fn validate(&self) -> Result<()> {
        if !(self.min_hz > 0.0 && self.max_hz > self.min_hz * 2.0) {
            return Err(Error::config(
                "fingerprint.max_hz",
                "the band must span at least an octave above min_hz > 0",
            ));
        }
        if self.peak_radius_frames == 0 || self.peak_radius_frames > 256 {
            return Err(Error::config(
                "fingerprint.peak_radius_frames",
                "must be in 1..=256",
            ));
        }
        if self.peak_radius_bins == 0 || self.peak_radius_bins > 256 {
            return Err(Error::config(
                "fingerprint.peak_radius_bins",
                "must be in 1..=256",
            ));
        }
        if self.zone_min_frames == 0
            || self.zone_max_frames <= self.zone_min_frames
            || self.zone_max_frames > 4096
        {
            return Err(Error::config(
                "fingerprint.zone_max_frames",
                "need 0 < zone_min_frames < zone_max_frames <= 4096",
            ));
        }
        if !(2..=16).contains(&self.fan_out) {
            return Err(Error::config("fingerprint.fan_out", "must be in 2..=16"));
        }
        if !(self.level_range_db > 0.0 && self.envelope_decay_db_per_s >= 0.0) {
            return Err(Error::config(
                "fingerprint.level_range_db",
                "must be positive",
            ));
        }
        Ok(())
    }
}

/// A spectral peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// The spectrogram frame (its centre is at `frame · hop` samples).
    pub frame: u64,
    /// log2 of the peak's frequency in Hz, interpolated between bins.
    pub log2_hz: f32,
    /// Level in dB re full scale.
    pub level_db: f32,
}

/// A triplet landmark: a hash and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Landmark {
    /// The packed hash (see [`HashFields`]).
    pub hash: u32,
    /// The anchor peak's frame.
    pub frame: u32,
    /// Frames from the anchor to the third peak.
    pub span_frames: u16,
    /// True for the triplet's own hash; false for a neighbouring cell a query also looks up
    /// (see [`FingerprintBuilder::expanded_for_query`]).
    pub primary: bool,
    /// Where the triplet's values lie inside the cells of `hash`: what a lookup compares beyond
    /// the hash.
    pub fine: FineOffsets,
}

/// Where a triplet's time ratio and frequency differences lie inside the cells its hash
/// holds, in 32nds of a cell from the cell's lower edge: 0..32 for a triplet's own hash, a
/// little below 0 or beyond 32 for a neighbouring cell a query looks up.
///
/// A hash cell is wide (a sixth of an octave, an eighth of the span) so that a value moved by a
/// codec, noise or jitter stays in it or in the neighbour a query also looks up; but then two
/// unrelated triplets share a cell across its whole width. An index stores each value's eighth
/// of its cell beside the posting ([`FineOffsets::stored`], 9 bits), and a lookup keeps only the
/// postings whose values lie within a tolerance of the query's ([`FineOffsets::admits`]): a
/// window centred on the query's value, with no cell edge inside it, narrower than the one and
/// a half cells the hash alone admits on average (see [`FineTolerance`] for how much).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FineOffsets {
    /// The time ratio `(t2 − t1)/(t3 − t1)` within its eighth.
    pub ratio: i8,
    /// `log2 f2 − log2 f1` within its sixth of an octave.
    pub d12: i8,
    /// `log2 f3 − log2 f1` within its sixth of an octave.
    pub d13: i8,
}

/// 32nds of a cell per stored step (a stored value is the eighth of the cell).
const FINE_UNITS_PER_STEP: i32 = 4;
/// Half a stored step, in 32nds of a cell: how far a value may lie from its step's centre.
const FINE_HALF_STEP: f32 = (FINE_UNITS_PER_STEP / 2) as f32;
/// Bits of one stored field, and of all three ([`FineOffsets::stored`]).
const FINE_FIELD_BITS: u32 = 3;
/// Bits of [`FineOffsets::stored`].
pub(crate) const FINE_BITS: u32 = 3 * FINE_FIELD_BITS;
/// Stored steps of one fine field.
pub(crate) const FINE_STEPS: u16 = 1 << FINE_FIELD_BITS;
/// Where the ratio step sits in [`FineOffsets::stored`] (its highest bits).
pub(crate) const FINE_RATIO_SHIFT: u32 = 2 * FINE_FIELD_BITS;

/// How far, in 32nds of a ratio cell, a stored ratio step's centre may lie from a query's
/// ratio for a triplet of `span_frames`: a ratio cell is an eighth of the span, so
/// `jitter_frames` is 256·jitter/span 32nds; half a stored step more for its width.
fn ratio_tolerance(span_frames: u16, tolerance: &FineTolerance) -> f32 {
    256.0 * tolerance.jitter_frames / f32::from(span_frames.max(1)) + FINE_HALF_STEP
}

/// How far a reference triplet's values may lie from a query's and still count as the same
/// triplet, for [`FineOffsets::admits`].
///
/// The defaults, half a difference cell (a twelfth of an octave) and 2 frames of peak-time
/// jitter, were chosen on the benchmark's training split against the 100 h archive (its 33
/// recordings among 100 h of others; pieces of at least 2 / 3 / 5 s found): without the filter
/// 0.887 / 0.933 / 0.985; at (8/32, 1.5 frames) 0.864 / 0.919 / 0.985; at (12/32, 1.5)
/// 0.872 / 0.924 / 0.985; at the defaults 0.879 / 0.927 / 0.983. Codecs at low bit rates
/// (Opus 16 kb/s, AAC 24 kb/s) move peaks the most and lose the most hits to a narrow window.
/// What the defaults save: a 30 s query of the 100 h bench archive meets 0.47 million hits
/// instead of 2.0 million, of the 1000 h one 4.7 million instead of 39.8 million
/// (`benches/README.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FineTolerance {
    /// Frequency differences, in 32nds of a sixth of an octave.
    pub diff: f32,
    /// Frames by which a peak's time may move (the time ratio's tolerance is this over the
    /// span, so a short triplet is allowed more of its ratio than a long one).
    pub jitter_frames: f32,
}

impl Default for FineTolerance {
    fn default() -> Self {
        FineTolerance {
            diff: 16.0,
            jitter_frames: 2.0,
        }
    }
}

/// The stored step of the field at `shift` of [`FineOffsets::stored`].
fn stored_step(stored: u16, shift: u32) -> u16 {
    (stored >> shift) & (FINE_STEPS - 1)
}

/// A stored step's centre, in 32nds of a cell.
fn step_centre(step: u16) -> f32 {
    (i32::from(step) * FINE_UNITS_PER_STEP) as f32 + FINE_HALF_STEP
}

/// Whether a query value lies within `reach` of a stored step's centre (32nds of a cell): the
/// test [`FineOffsets::admits`] makes of each field.
fn near_step(value: i8, step: u16, reach: f32) -> bool {
    (f32::from(value) - step_centre(step)).abs() <= reach
}

impl FineOffsets {
    /// The eighth of its cell each value lies in, packed in 9 bits: ratio high,
    /// then `d12`, then `d13`. What an index stores.
    pub fn stored(&self) -> u16 {
        let step = |v: i8| (i32::from(v).clamp(0, 31) / FINE_UNITS_PER_STEP) as u16;
        (step(self.ratio) << FINE_RATIO_SHIFT)
            | (step(self.d12) << FINE_FIELD_BITS)
            | step(self.d13)
    }

    /// The stored ratio steps (inclusive) that [`FineOffsets::admits`] may admit for a triplet
    /// of `span_frames`, or `None`: a lookup reads only the postings of these steps.
    pub fn ratio_steps(&self, span_frames: u16, tolerance: &FineTolerance) -> Option<(u16, u16)> {
        let reach = ratio_tolerance(span_frames, tolerance);
        let q = f32::from(self.ratio) - FINE_HALF_STEP;
        let step = FINE_UNITS_PER_STEP as f32;
        let lo = ((q - reach) / step).ceil().max(0.0);
        let hi = ((q + reach) / step).floor().min(f32::from(FINE_STEPS - 1));
        (lo <= hi).then_some((lo as u16, hi as u16))
    }

    /// Whether a stored posting's values ([`FineOffsets::stored`]) lie within `tolerance` of
    /// these (a query triplet's, for a triplet of `span_frames`): each stored step stands for
    /// its centre, give or take half a step.
    pub fn admits(&self, stored: u16, span_frames: u16, tolerance: &FineTolerance) -> bool {
        let diff_tolerance = tolerance.diff + FINE_HALF_STEP;
        near_step(
            self.ratio,
            stored_step(stored, FINE_RATIO_SHIFT),
            ratio_tolerance(span_frames, tolerance),
        ) && near_step(
            self.d12,
            stored_step(stored, FINE_FIELD_BITS),
            diff_tolerance,
        ) && near_step(self.d13, stored_step(stored, 0), diff_tolerance)
    }

    /// [`FineOffsets::admits`] for every stored value at once, as a table a lookup reads per
    /// posting with two shifts instead of three float comparisons.
    pub(crate) fn admitted(&self, span_frames: u16, tolerance: &FineTolerance) -> AdmittedSteps {
        let diff_tolerance = tolerance.diff + FINE_HALF_STEP;
        let ratio_reach = ratio_tolerance(span_frames, tolerance);
        // Each field's test alone, per stored step, as `admits` makes it.
        let steps = |value: i8, reach: f32| -> u8 {
            (0..FINE_STEPS).fold(0, |set, step| {
                set | (u8::from(near_step(value, step, reach)) << step)
            })
        };
        let (d12, d13) = (
            steps(self.d12, diff_tolerance),
            steps(self.d13, diff_tolerance),
        );
        let mut differences = 0u64;
        for step in 0..FINE_STEPS {
            if d12 >> step & 1 == 1 {
                differences |= u64::from(d13) << (step << FINE_FIELD_BITS);
            }
        }
        AdmittedSteps {
            ratio: steps(self.ratio, ratio_reach),
            differences,
        }
    }
}

/// Which stored fine values ([`FineOffsets::stored`]) one query triplet admits: the ratio steps
/// it admits, and the frequency-difference pairs (bit `d12 · 8 + d13`, the stored value's low
/// six bits) it admits. See [`FineOffsets::admitted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdmittedSteps {
    ratio: u8,
    differences: u64,
}

impl AdmittedSteps {
    /// Whether the stored value `stored` is admitted.
    pub(crate) fn admits(self, stored: u16) -> bool {
        let ratio = stored >> FINE_RATIO_SHIFT;
        let pair = stored & ((1 << FINE_RATIO_SHIFT) - 1);
        ratio < FINE_STEPS && (self.ratio >> ratio) & 1 == 1 && (self.differences >> pair) & 1 == 1
    }
}

/// The fingerprint of a recording: its landmarks in anchor order.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    /// The analysis sample rate of the spectrogram the fingerprint came from, in Hz.
    pub sample_rate: u32,
    /// The spectrogram hop, in samples at `sample_rate`.
    pub hop_samples: usize,
    /// Frames analysed.
    pub frames: u64,
    /// Number of peaks found (a diagnostic: peaks per second says how dense the fingerprint is).
    pub peaks: usize,
    /// Landmarks, sorted by anchor frame.
    pub landmarks: Vec<Landmark>,
    /// One 16-bit frame signature per [`SIGNATURE_FRAMES`] frames, for placing match edges (see
    /// [`signature_agreement`]).
    pub signatures: Vec<u16>,
    /// For each signature, its reliable comparison bits: those whose double difference was far
    /// enough from zero that a little noise cannot flip them (Haitsma & Kalker 2002). A clip's
    /// edges are placed by these bits alone (a reference's are not stored).
    pub signature_reliable: Vec<u16>,
    /// For each signature, the level of the loudest spectrogram bin of its two frames in the
    /// fingerprint's band, in dB: where a clip is quiet (a pause, whatever noise fills it), for
    /// placing match edges at the clip's ends (not stored in an index).
    pub signature_loudest_db: Vec<f32>,
}

impl Fingerprint {
    /// Seconds per frame.
    pub fn frame_s(&self) -> f64 {
        self.hop_samples as f64 / f64::from(self.sample_rate.max(1))
    }

    /// Duration covered, in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames as f64 * self.frame_s()
    }
}

/// The quantised parts of a triplet hash.
///
/// Bit layout of the packed `u32` (low to high): `d13` 5 bits, `d12` 5 bits, `ratio` 3 bits,
/// `span_class` 2 bits, `band` 4 bits; 19 bits in all.
///
/// Why the anchor's absolute frequency is in the hash at all: log-frequency differences alone
/// are invariant to pitch, so the harmonic stacks of *any* voice hash alike, and two speakers
/// with a similar rhythm and intonation line up (measured: 8–9 aligned hits between unrelated
/// LibriSpeech readers, enough to look like a match). Only ±5 % of speed must be tolerated, so
/// the anchor frequency is kept in quarter octaves (19 %), and the query looks up the
/// neighbouring quarter octave near a boundary.
///
/// Why the differences are counted from the band's lowest possible cell: with 4 octaves of
/// peaks a difference spans ±4 octaves (48 cells), but under an anchor of a given band only
/// 4 octaves of it can occur. Counting each difference from the lowest cell its band allows
/// keeps 32 cells enough for every difference. The first layout counted from −2⅔ octaves for
/// every band, so every high anchor (where speech has most of its peaks: the max filter is
/// linear in hertz) paired with the strong low peaks of its target zone fell into the one
/// clamped edge cell: the Rényi entropy of the hashes of real speech was 11.7 bits, and a
/// lookup met 10 times the chance hits it meets now (15.1 bits; measured on the corpus's
/// 16 minutes, clean and through pink noise, AAC and +5 % speed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashFields {
    /// Quarter-octave band of the anchor frequency above `min_hz`, 0..16 (250 Hz to 4 kHz).
    pub band: u32,
    /// Octave class of the span, 0..4.
    pub span_class: u32,
    /// The time ratio `(t2 − t1)/(t3 − t1)` in eighths, 0..8.
    pub ratio: u32,
    /// `log2 f2 − log2 f1` in sixths of an octave, counted from the lowest cell an anchor of
    /// band `band` allows (`⌊−1.5·(band + 1)⌋ − 2`, two cells of margin), 0..32.
    pub d12: u32,
    /// `log2 f3 − log2 f1` in sixths of an octave, counted as `d12`.
    pub d13: u32,
}

/// Cells per field, from the layout above.
const BANDS: u32 = 16;
/// Band cells per octave of anchor frequency.
const BAND_CELLS_PER_OCTAVE: f32 = 4.0;
const SPAN_CLASSES: u32 = 4;
const RATIO_STEPS: u32 = 8;
const DIFF_STEPS: u32 = 32;
/// Frequency-difference cell width: a sixth of an octave (12 %). Peak frequencies of the same
/// audio after a codec differ by a few hundredths of an octave (measured on the fixtures), well
/// inside one cell, and the query also looks up the neighbour near a boundary.
const DIFF_CELLS_PER_OCTAVE: f32 = 6.0;

/// The lowest difference cell (in sixths of an octave, signed) that an anchor of `band` can
/// have, less two cells of margin: a partner at the bottom of the 4-octave range (or half a bin
/// below it, by interpolation) under an anchor at the top of the band, and a query's
/// neighbouring cell below that. The highest cell, a partner at the top under an anchor at the
/// band's bottom, plus a neighbouring cell, plus a band of speed shift, is below
/// `26.5 − 1.5·band`; the 32 cells counted from here reach `27 − 1.5·band`.
fn lowest_diff_cell(band: u32) -> i32 {
    let per_band = DIFF_CELLS_PER_OCTAVE / BAND_CELLS_PER_OCTAVE;
    (-per_band * (band + 1) as f32).floor() as i32 - 2
}

/// A signed difference cell as a hash field under an anchor of `band` (clamped to the field;
/// a clamped value belongs to no stored triplet).
fn diff_field(cell: i32, band: u32) -> u32 {
    (cell - lowest_diff_cell(band)).clamp(0, DIFF_STEPS as i32 - 1) as u32
}

/// Span classes are octaves of frames counted from `SPAN_BASE_FRAMES`.
const SPAN_BASE_FRAMES: f32 = 6.0;

/// How close (as a fraction of a cell) to a boundary a query value must be for the neighbouring
/// cell to be looked up as well. Time ratios jitter by a frame in 10–80, frequency differences by
/// up to 0.04 octave; speed changes of 5 % move the band and span by 0.07 octave.
const RATIO_MARGIN: f32 = 0.25;
const DIFF_MARGIN: f32 = 0.25;
/// 0.08 octave (a 5.7 % speed change) in band cells and in span classes.
const BAND_MARGIN: f32 = 0.08 * BAND_CELLS_PER_OCTAVE;
const OCTAVE_MARGIN: f32 = 0.08;

impl HashFields {
    /// Packs the fields into a hash.
    pub fn pack(&self) -> u32 {
        self.d13
            | (self.d12 << 5)
            | (self.ratio << 10)
            | (self.span_class << 13)
            | (self.band << 15)
    }

    /// Unpacks a hash made by [`HashFields::pack`].
    pub fn unpack(hash: u32) -> HashFields {
        HashFields {
            d13: hash & 31,
            d12: (hash >> 5) & 31,
            ratio: (hash >> 10) & 7,
            span_class: (hash >> 13) & 3,
            band: (hash >> 15) & 15,
        }
    }
}

/// The continuous values behind a triplet's hash, before quantisation.
#[derive(Debug, Clone, Copy)]
struct TripletValues {
    band: f32,
    span_class: f32,
    ratio: f32,
    d12: f32,
    d13: f32,
}

impl TripletValues {
    fn of(p1: &Peak, p2: &Peak, p3: &Peak, min_log2_hz: f32) -> TripletValues {
        let span = (p3.frame - p1.frame) as f32;
        TripletValues {
            band: (p1.log2_hz - min_log2_hz) * BAND_CELLS_PER_OCTAVE,
            span_class: (span / SPAN_BASE_FRAMES).log2(),
            ratio: (p2.frame - p1.frame) as f32 / span * RATIO_STEPS as f32,
            d12: (p2.log2_hz - p1.log2_hz) * DIFF_CELLS_PER_OCTAVE,
            d13: (p3.log2_hz - p1.log2_hz) * DIFF_CELLS_PER_OCTAVE,
        }
    }

    /// Every hash this triplet may have been stored under, with the triplet's offsets inside
    /// its cells: its own cell in each field, and the neighbouring cell where the value lies
    /// within the field's margin of a boundary. The first is the own cell of every field.
    fn expanded_hashes(&self, out: &mut Vec<(u32, FineOffsets)>) {
        let mut band = [0; 2];
        let mut span = [0; 2];
        let mut ratio = [0; 2];
        let mut d12 = [0; 2];
        let mut d13 = [0; 2];
        let nb = cells_near(self.band, BANDS, BAND_MARGIN, &mut band);
        let ns = cells_near(self.span_class, SPAN_CLASSES, OCTAVE_MARGIN, &mut span);
        let nr = cells_near(self.ratio, RATIO_STEPS, RATIO_MARGIN, &mut ratio);
        let n12 = signed_cells_near(self.d12, DIFF_MARGIN, &mut d12);
        let n13 = signed_cells_near(self.d13, DIFF_MARGIN, &mut d13);
        out.clear();
        for &band in &band[..nb] {
            for &span_class in &span[..ns] {
                for &ratio in &ratio[..nr] {
                    for &d12 in &d12[..n12] {
                        for &d13 in &d13[..n13] {
                            let hash = HashFields {
                                band,
                                span_class,
                                ratio,
                                d12: diff_field(d12, band),
                                d13: diff_field(d13, band),
                            }
                            .pack();
                            out.push((hash, self.fine([ratio as i32, d12, d13])));
                        }
                    }
                }
            }
        }
    }

    /// The offsets of the ratio and the differences inside the cells `cells` (signed, as
    /// [`signed_cells_near`] gives them), in 32nds of a cell.
    fn fine(&self, cells: [i32; 3]) -> FineOffsets {
        let unit = |v: f32, c: i32| ((v - c as f32) * 32.0).floor().clamp(-128.0, 127.0) as i8;
        FineOffsets {
            ratio: unit(self.ratio, cells[0]),
            d12: unit(self.d12, cells[1]),
            d13: unit(self.d13, cells[2]),
        }
    }

    /// The triplet's own hash and its offsets inside the hash's cells.
    fn own(&self) -> (HashFields, FineOffsets) {
        let band = cell(self.band, BANDS);
        let ratio = cell(self.ratio, RATIO_STEPS);
        let (d12, d13) = (self.d12.floor() as i32, self.d13.floor() as i32);
        let fields = HashFields {
            band,
            span_class: cell(self.span_class, SPAN_CLASSES),
            ratio,
            d12: diff_field(d12, band),
            d13: diff_field(d13, band),
        };
        (fields, self.fine([ratio as i32, d12, d13]))
    }
}

/// `out[b]` = the maximum of `values[b − r ..= b + r]` (clipped to the slice), NaN ignored as
/// [`f32::max`] ignores it. Van Herk's and Gil & Werman's running maximum (1992, 1993): within
/// blocks of `2r + 1` values, a maximum from each block's start and one to its end; every window
/// spans one block boundary and is the larger of the two there, three comparisons per value
/// however wide the window (the direct maximum took 13 at the default radius, a quarter of the
/// time of fingerprinting).
fn sliding_max(values: &[f32], r: usize, out: &mut [f32], scratch: &mut Vec<f32>) {
    let n = values.len();
    let w = 2 * r + 1;
    // The values padded by r NEG_INFINITY each side and up to whole blocks.
    let len = (n + 2 * r).div_ceil(w) * w;
    scratch.clear();
    scratch.resize(3 * len, f32::NEG_INFINITY);
    let (padded, rest) = scratch.split_at_mut(len);
    let (from_start, to_end) = rest.split_at_mut(len);
    padded[r..r + n].copy_from_slice(values);
    for block in (0..len).step_by(w) {
        let mut m = f32::NEG_INFINITY;
        for i in block..block + w {
            m = m.max(padded[i]);
            from_start[i] = m;
        }
        let mut m = f32::NEG_INFINITY;
        for i in (block..block + w).rev() {
            m = m.max(padded[i]);
            to_end[i] = m;
        }
    }
    // Window b covers padded[b ..= b + 2r].
    for (b, o) in out.iter_mut().enumerate().take(n) {
        *o = to_end[b].max(from_start[b + w - 1]);
    }
}

/// The cell of a value, clamped to `0..cells`.
fn cell(value: f32, cells: u32) -> u32 {
    (value.floor().max(0.0) as u32).min(cells - 1)
}

/// Which neighbouring cell a value lies within `margin` (under half a cell) of: −1 for the cell
/// below, +1 for the one above, 0 for neither.
fn boundary_side(value: f32, margin: f32) -> i32 {
    let frac = value - value.floor();
    if frac < margin {
        -1
    } else if frac > 1.0 - margin {
        1
    } else {
        0
    }
}

/// The signed cells to look up for an unbounded value: its own, and the neighbour when within
/// `margin` of it.
fn signed_cells_near(value: f32, margin: f32, out: &mut [i32; 2]) -> usize {
    out[0] = value.floor() as i32;
    match boundary_side(value, margin) {
        0 => 1,
        side => {
            out[1] = out[0] + side;
            2
        }
    }
}

/// The cells to look up for a value: its own, and the neighbour when within `margin` of it and
/// inside `0..cells`.
fn cells_near(value: f32, cells: u32, margin: f32, out: &mut [u32; 2]) -> usize {
    let own = cell(value, cells);
    out[0] = own;
    match boundary_side(value, margin) {
        -1 if own > 0 && value >= 0.0 => {
            out[1] = own - 1;
            2
        }
        1 if own + 1 < cells && value < cells as f32 => {
            out[1] = own + 1;
            2
        }
        _ => 1,
    }
}

/// Streams spectrogram blocks into peaks and landmarks.
pub struct FingerprintBuilder {
    config: FingerprintConfig,
    sample_rate: u32,
    hop_samples: usize,
    bin_hz: f64,
    lo_bin: usize,
    hi_bin: usize,
    /// Band rows of the last `2·radius + 1` frames, and their frequency-max-filtered copies.
    rows: Vec<Vec<f32>>,
    fmax_rows: Vec<Vec<f32>>,
    /// Level envelope at each buffered frame.
    envelopes: Vec<f32>,
    envelope: f32,
    decay_per_frame_db: f32,
    /// Frames pushed so far.
    frames: u64,
    /// Peaks waiting for their target zone to fill.
    /// Frames of nothing pushed past the end by `finish`.
    tail_frames: u64,
    pending: std::collections::VecDeque<Peak>,
    peaks: usize,
    /// Emit every neighbouring-cell hash (for a query) instead of the one cell (for an index).
    expand: bool,
    expanded: Vec<(u32, FineOffsets)>,
    landmarks: Vec<Landmark>,
    zone: Vec<Peak>,
    signature: SignatureBuilder,
    /// Scratch of [`sliding_max`].
    max_scratch: Vec<f32>,
    /// Per band bin of the centre frame, whether it may be a peak (see `push_frame`).
    maybe_peak: Vec<bool>,
}

impl FingerprintBuilder {
    /// A builder for spectrogram blocks of `sample_rate` and `hop_samples` with `bins` bins of
    /// `bin_hz` each.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is out of range or the band does not fit the
    /// spectrogram.
    pub fn new(
        config: &FingerprintConfig,
        sample_rate: u32,
        hop_samples: usize,
        bins: usize,
        bin_hz: f64,
    ) -> Result<Self> {
        config.validate()?;
        let lo_bin = (config.min_hz / bin_hz).ceil() as usize;
        let hi_bin = ((config.max_hz / bin_hz).floor() as usize).min(bins.saturating_sub(2));
        if lo_bin < 1 || hi_bin <= lo_bin + 2 * config.peak_radius_bins {
            return Err(Error::config(
                "fingerprint.max_hz",
                "the band holds too few spectrogram bins",
            ));
        }
        let frame_s = hop_samples as f64 / f64::from(sample_rate);
        let window = 2 * config.peak_radius_frames + 1;
        let width = hi_bin - lo_bin + 1;
        Ok(FingerprintBuilder {
            config: config.clone(),
            sample_rate,
            hop_samples,
            bin_hz,
            lo_bin,
            hi_bin,
            rows: vec![vec![f32::NEG_INFINITY; width + 2]; window],
            fmax_rows: vec![vec![f32::NEG_INFINITY; width]; window],
            envelopes: vec![f32::NEG_INFINITY; window],
            envelope: f32::NEG_INFINITY,
            decay_per_frame_db: (f64::from(config.envelope_decay_db_per_s) * frame_s) as f32,
            frames: 0,
            tail_frames: 0,
            pending: std::collections::VecDeque::new(),
            peaks: 0,
            expand: false,
            expanded: Vec::new(),
            landmarks: Vec::new(),
            zone: Vec::with_capacity(64),
            signature: SignatureBuilder::new(lo_bin, hi_bin),
            max_scratch: Vec::new(),
            maybe_peak: Vec::new(),
        })
    }

    /// A builder matching a spectrogram's layout.
    ///
    /// # Errors
    /// As [`FingerprintBuilder::new`].
    pub fn for_spectrogram(config: &FingerprintConfig, spectrogram: &Spectrogram) -> Result<Self> {
        let bin_hz = spectrogram.bin_hz(1);
        Self::new(
            config,
            spectrogram.sample_rate,
            spectrogram.config.hop_samples,
            spectrogram.bins(),
            bin_hz,
        )
    }

    /// The highest spectrogram bin the builder reads (peaks interpolate with the bin above the
    /// band): levels above it may be left uncomputed
    /// ([`crate::spectrogram::SpectrogramStream::with_levels_up_to_bin`]).
    pub(crate) fn highest_bin_read(&self) -> usize {
        self.hi_bin + 1
    }

    /// Makes a query fingerprint: each triplet yields, besides its own hash, the hashes of the
    /// neighbouring cells it is close to, so that a value that crossed a cell boundary (a speed
    /// change, jitter) still finds the reference's landmark. Landmarks of one triplet share
    /// frame and span.
    pub fn expanded_for_query(mut self) -> Self {
        self.expand = true;
        self
    }

    /// Consumes a block of spectrogram frames (in order).
    pub fn push(&mut self, block: &Spectrogram) {
        for row in block.data.rows() {
            let row = row
                .as_slice()
                .expect("spectrogram rows are contiguous (standard layout)");
            self.push_frame(Some(row));
        }
    }

    /// Flushes the last frames and returns the fingerprint.
    pub fn finish(mut self) -> Fingerprint {
        let frames = self.frames;
        for _ in 0..self.config.peak_radius_frames {
            self.push_frame(None);
        }
        while let Some(anchor) = self.pending.pop_front() {
            self.emit_triplets(anchor);
        }
        self.landmarks
            .sort_unstable_by_key(|l| (l.frame, l.hash, l.span_frames));
        let active_above_db = self.envelope - self.config.level_range_db;
        let signatures = self.signature.finish(active_above_db);
        Fingerprint {
            sample_rate: self.sample_rate,
            hop_samples: self.hop_samples,
            frames,
            peaks: self.peaks,
            landmarks: self.landmarks,
            signatures: signatures.bits,
            signature_reliable: signatures.reliable,
            signature_loudest_db: signatures.loudest_db,
        }
    }

    /// Adds one frame (or, with `None`, one frame of nothing past the end).
    fn push_frame(&mut self, row: Option<&[f32]>) {
        let window = self.rows.len();
        let radius = self.config.peak_radius_frames;
        let slot = (self.frames_seen() % window as u64) as usize;
        let width = self.hi_bin - self.lo_bin + 1;
        {
            // Band values with one guard bin each side (for the interpolation of edge peaks).
            let dst = &mut self.rows[slot];
            match row {
                Some(row) => {
                    dst.copy_from_slice(&row[self.lo_bin - 1..=self.hi_bin + 1]);
                    let loudest = dst[1..=width]
                        .iter()
                        .copied()
                        .fold(f32::NEG_INFINITY, f32::max);
                    self.envelope = loudest.max(self.envelope - self.decay_per_frame_db);
                    self.signature
                        .push(row, self.envelope - self.config.level_range_db);
                }
                None => dst.fill(f32::NEG_INFINITY),
            }
            self.envelopes[slot] = self.envelope;
            sliding_max(
                &dst[1..=width],
                self.config.peak_radius_bins,
                &mut self.fmax_rows[slot],
                &mut self.max_scratch,
            );
        }
        let seen = self.frames_seen();
        if row.is_some() {
            self.frames += 1;
        } else {
            self.tail_frames += 1;
        }
        // The centre frame's neighbourhood is complete once `radius` frames follow it.
        if seen < radius as u64 {
            return;
        }
        let centre = seen - radius as u64;
        if centre >= self.frames {
            return;
        }
        let c_slot = (centre % window as u64) as usize;
        let threshold = self.envelopes[c_slot] - self.config.level_range_db;
        let lo_frame = centre.saturating_sub(radius as u64);
        let first_slot = (lo_frame % window as u64) as usize;
        // The tests that need the centre frame only, for every bin at once and without
        // branches (so that the loop vectorises): above the level threshold and the floor (a
        // NaN fails), strictly above the left neighbour and at least the right (one peak per
        // plateau), and the maximum of the centre frame's own neighbourhood (never NaN where
        // `v` is not: the max filter skips NaNs), where most local maxima fail before the walk
        // over the other frames.
        let (row, fmax) = (&self.rows[c_slot], &self.fmax_rows[c_slot]);
        self.maybe_peak.clear();
        self.maybe_peak.extend((0..width).map(|b| {
            let v = row[1 + b];
            (v > threshold)
                & (v > Spectrogram::FLOOR_DB)
                & (v > row[b])
                & (v >= row[2 + b])
                & (v >= fmax[b])
        }));
        for b in 0..width {
            if !self.maybe_peak[b] {
                continue;
            }
            let v = self.rows[c_slot][1 + b];
            let mut is_max = true;
            // The ring's slots in frame order, stepped instead of divided for.
            let mut s = first_slot;
            for f in lo_frame..=seen {
                let m = self.fmax_rows[s][b];
                if m > v || (m == v && f < centre) {
                    is_max = false;
                    break;
                }
                s = if s + 1 == window { 0 } else { s + 1 };
            }
            if is_max {
                let (a, c) = (self.rows[c_slot][b], self.rows[c_slot][2 + b]);
                let denominator = a - 2.0 * v + c;
                let offset = if denominator < 0.0 && a.is_finite() && c.is_finite() {
                    (0.5 * (a - c) / denominator).clamp(-0.5, 0.5)
                } else {
                    0.0
                };
                let hz = (self.lo_bin as f64 + b as f64 + f64::from(offset)) * self.bin_hz;
                self.add_peak(Peak {
                    frame: centre,
                    log2_hz: hz.log2() as f32,
                    level_db: v,
                });
            }
        }
    }

    fn frames_seen(&self) -> u64 {
        self.frames + self.tail_frames
    }

    fn add_peak(&mut self, peak: Peak) {
        self.peaks += 1;
        let horizon = u64::from(self.config.zone_max_frames);
        while let Some(anchor) = self.pending.front().copied() {
            if anchor.frame + horizon < peak.frame {
                self.pending.pop_front();
                self.emit_triplets(anchor);
            } else {
                break;
            }
        }
        self.pending.push_back(peak);
    }

    /// Forms the triplets of `anchor` with the strongest peaks of its target zone.
    fn emit_triplets(&mut self, anchor: Peak) {
        let lo = anchor.frame + u64::from(self.config.zone_min_frames);
        let hi = anchor.frame + u64::from(self.config.zone_max_frames);
        self.zone.clear();
        self.zone.extend(
            self.pending
                .iter()
                .filter(|p| p.frame >= lo && p.frame <= hi)
                .copied(),
        );
        // The strongest peaks of the zone survive noise best: pairing with the earliest peaks
        // instead was measured to lose two thirds of the agreeing landmarks at 4.5 dB SNR. The
        // price: a triplet reaches up to `zone_max_frames` ahead, so the last half second of a
        // reused piece is matched only by chance (boundary refinement is the remedy).
        self.zone
            .sort_unstable_by(|a, b| b.level_db.total_cmp(&a.level_db));
        self.zone.truncate(self.config.fan_out);
        self.zone.sort_unstable_by_key(|p| p.frame);
        let min_log2_hz = self.config.min_hz.log2() as f32;
        for i in 0..self.zone.len() {
            for j in i + 1..self.zone.len() {
                let (p2, p3) = (self.zone[i], self.zone[j]);
                if p3.frame == p2.frame {
                    continue;
                }
                let values = TripletValues::of(&anchor, &p2, &p3, min_log2_hz);
                let Ok(frame) = u32::try_from(anchor.frame) else {
                    continue;
                };
                let span_frames = (p3.frame - anchor.frame) as u16;
                if self.expand {
                    values.expanded_hashes(&mut self.expanded);
                    for (k, &(hash, fine)) in self.expanded.iter().enumerate() {
                        self.landmarks.push(Landmark {
                            hash,
                            frame,
                            span_frames,
                            primary: k == 0,
                            fine,
                        });
                    }
                } else {
                    let (fields, fine) = values.own();
                    self.landmarks.push(Landmark {
                        hash: fields.pack(),
                        primary: true,
                        frame,
                        span_frames,
                        fine,
                    });
                }
            }
        }
    }
}

/// A [`FingerprintBuilder`] on a thread of its own, fed spectrogram blocks through a channel of
/// [`PIPELINE_BLOCKS`]: the peaks, triplets and signatures then run beside the STFT (and the
/// cues) instead of after them. On two cores this took ingest of a 10-minute AAC file from 1.42
/// to 1.26 × fpcalc's wall time (`benches/README.md`). Where no thread can be started, the
/// builder runs on the caller's thread instead.
pub(crate) enum BackgroundFingerprint {
    /// The builder on its thread.
    Thread {
        blocks: std::sync::mpsc::SyncSender<Spectrogram>,
        /// Blocks the thread is done with, to copy the next ones into (a fresh quarter-megabyte
        /// block per push cost page faults: a twentieth of an ingest's time was the kernel's).
        spent: std::sync::mpsc::Receiver<Spectrogram>,
        thread: std::thread::JoinHandle<Option<Fingerprint>>,
    },
    /// The builder here.
    Inline(Box<FingerprintBuilder>),
}

/// Spectrogram blocks in flight to a [`BackgroundFingerprint`] (at most 32 blocks of 256 frames of
/// 257 bins: about 8 MB; see `signal::PIPELINE_DEPTH_BLOCKS` for why so many).
const PIPELINE_BLOCKS: usize = 32;

impl BackgroundFingerprint {
    /// Starts the thread with `builder` (or keeps `builder` here if it cannot start).
    pub(crate) fn start(builder: FingerprintBuilder) -> BackgroundFingerprint {
        let (blocks, received) = std::sync::mpsc::sync_channel::<Spectrogram>(PIPELINE_BLOCKS);
        // At most PIPELINE_BLOCKS + 2 blocks exist at once, so the returns never wait.
        let (give_back, spent) = std::sync::mpsc::sync_channel::<Spectrogram>(PIPELINE_BLOCKS + 2);
        // The builder follows the thread's start, so that it stays here if the start fails.
        let (hand_over, taken) = std::sync::mpsc::sync_channel::<FingerprintBuilder>(1);
        let started = std::thread::Builder::new()
            .name("clip-provenance-peaks".into())
            .spawn(move || {
                let mut builder = taken.recv().ok()?;
                for block in received {
                    builder.push(&block);
                    let _ = give_back.try_send(block);
                }
                Some(builder.finish())
            });
        match started {
            Ok(thread) => match hand_over.send(builder) {
                Ok(()) => BackgroundFingerprint::Thread {
                    blocks,
                    spent,
                    thread,
                },
                Err(returned) => BackgroundFingerprint::Inline(Box::new(returned.0)),
            },
            Err(_) => BackgroundFingerprint::Inline(Box::new(builder)),
        }
    }

    /// Hands a block over (a copy; it waits while [`PIPELINE_BLOCKS`] are in flight).
    pub(crate) fn push(&mut self, block: &Spectrogram) {
        match self {
            // A send fails only when the thread has panicked; `finish` passes that on.
            BackgroundFingerprint::Thread { blocks, spent, .. } => {
                let copy = match spent.try_recv() {
                    Ok(mut reused) => {
                        reused.clone_from(block);
                        reused
                    }
                    Err(_) => block.clone(),
                };
                let _ = blocks.send(copy);
            }
            BackgroundFingerprint::Inline(builder) => builder.push(block),
        }
    }

    /// The fingerprint of every block pushed.
    pub(crate) fn finish(self) -> Fingerprint {
        match self {
            BackgroundFingerprint::Thread { blocks, thread, .. } => {
                drop(blocks);
                // A panic there is a bug, and goes on as one, as it would have on this thread;
                // the builder was handed over before this value existed.
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    .expect("the builder is handed over before the thread is kept")
            }
            BackgroundFingerprint::Inline(builder) => builder.finish(),
        }
    }
}

/// Fingerprints mono samples at `sample_rate` in one go (tests and small inputs; the analyzer
/// streams).
///
/// # Errors
/// As [`Spectrogram::compute`] and [`FingerprintBuilder::new`].
pub fn fingerprint_samples(
    samples: &[f32],
    sample_rate: u32,
    spectrogram: &crate::spectrogram::SpectrogramConfig,
    config: &FingerprintConfig,
) -> Result<Fingerprint> {
    let spec = Spectrogram::compute(samples, sample_rate, spectrogram)?;
    let mut builder = FingerprintBuilder::for_spectrogram(config, &spec)?;
    builder.push(&spec);
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_max_equals_the_direct_maximum() {
        let mut state = 7u64;
        let mut scratch = Vec::new();
        for n in [1, 2, 5, 13, 14, 120, 121] {
            for r in [1, 2, 6] {
                let values: Vec<f32> = (0..n)
                    .map(|i| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        match (state >> 60, i % 7) {
                            (0, _) => f32::NAN,
                            (1, _) => f32::NEG_INFINITY,
                            _ => (state >> 40) as f32 / 1e5 - 50.0,
                        }
                    })
                    .collect();
                let mut out = vec![0.0; n];
                sliding_max(&values, r, &mut out, &mut scratch);
                for b in 0..n {
                    let direct = values[b.saturating_sub(r)..=(b + r).min(n - 1)]
                        .iter()
                        .copied()
                        .fold(f32::NEG_INFINITY, f32::max);
                    assert_eq!(out[b].to_bits(), direct.to_bits(), "n {n} r {r} b {b}");
                }
            }
        }
    }

    #[test]
    fn hash_fields_pack_unpack_round_trips_and_fits_19_bits() {
        for band in [0, 7, BANDS - 1] {
            for span_class in 0..SPAN_CLASSES {
                for ratio in [0, 3, RATIO_STEPS - 1] {
                    for d12 in [0, 16, DIFF_STEPS - 1] {
                        for d13 in [0, 9, DIFF_STEPS - 1] {
                            let f = HashFields {
                                band,
                                span_class,
                                ratio,
                                d12,
                                d13,
                            };
                            let h = f.pack();
                            assert!(h < 1 << 19);
                            assert_eq!(HashFields::unpack(h), f);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn difference_fields_hold_every_possible_triplet_unclamped() {
        // Anchors and partners anywhere in 250 Hz – 4 kHz, half a 31.25 Hz bin beyond each end
        // (interpolated edge peaks): the difference cell and its neighbours fit the field of
        // the anchor's band without clamping. (A query whose anchor a speed change moved into
        // the next band looks up this same difference there; where a stored triplet can have
        // it, this assertion on that triplet covers it.)
        let min = 250f32.log2();
        let (lo, hi) = ((250.0f32 - 15.7).log2(), (4000.0f32 + 15.7).log2());
        let steps = 400;
        for i in 0..=steps {
            let anchor = lo + (hi - lo) * i as f32 / steps as f32;
            let band = cell((anchor - min) * BAND_CELLS_PER_OCTAVE, BANDS);
            for j in 0..=steps {
                let partner = lo + (hi - lo) * j as f32 / steps as f32;
                let raw = ((partner - anchor) * DIFF_CELLS_PER_OCTAVE).floor() as i32;
                let at = raw - lowest_diff_cell(band);
                assert!(
                    (1..DIFF_STEPS as i32 - 1).contains(&at),
                    "band {band} raw {raw} at {at}"
                );
                assert_eq!(diff_field(raw, band), at as u32);
            }
        }
    }

    #[test]
    fn cells_near_adds_the_neighbour_only_near_a_boundary() {
        let mut out = [0; 2];
        assert_eq!(cells_near(3.5, 8, 0.25, &mut out), 1);
        assert_eq!(cells_near(3.1, 8, 0.25, &mut out), 2);
        assert_eq!(out, [3, 2]);
        assert_eq!(cells_near(3.9, 8, 0.25, &mut out), 2);
        assert_eq!(out, [3, 4]);
        assert_eq!(cells_near(0.1, 8, 0.25, &mut out), 1, "no cell below 0");
        assert_eq!(
            cells_near(7.9, 8, 0.25, &mut out),
            1,
            "no cell above the last"
        );
    }

    /// A triplet with the given ratio and differences (in cells).
    fn triplet(ratio: f32, d12: f32, d13: f32) -> TripletValues {
        TripletValues {
            band: 5.5,
            span_class: 1.5,
            ratio,
            d12,
            d13,
        }
    }

    /// The stored offsets of a triplet's own hash, and the query offsets under that same hash
    /// of another triplet (its own cell or the neighbour its expansion looks up), if any.
    fn stored_and_query(stored: &TripletValues, query: &TripletValues) -> (u16, Vec<FineOffsets>) {
        let (fields, fine) = stored.own();
        let mut expanded = Vec::new();
        query.expanded_hashes(&mut expanded);
        let under_same_hash = expanded
            .iter()
            .filter(|(h, _)| *h == fields.pack())
            .map(|&(_, f)| f)
            .collect();
        (fine.stored(), under_same_hash)
    }

    #[test]
    fn fine_offsets_admit_a_near_triplet_across_a_cell_edge_and_refuse_a_far_one_in_the_cell() {
        let tolerance = FineTolerance::default();
        let span = 40;
        // The same triplet: admitted.
        let a = triplet(3.5, -4.5, 2.5);
        let (stored, query) = stored_and_query(&a, &a);
        assert_eq!(query.len(), 1);
        assert!(query[0].admits(stored, span, &tolerance));
        // Moved across the d12 cell edge by 0.1 cell (from 0.95 to 1.05 of a cell): the hash
        // differs, the query's expansion looks up the stored cell, and the offsets agree.
        let (stored, query) =
            stored_and_query(&triplet(3.5, -4.05, 2.5), &triplet(3.5, -3.95, 2.5));
        assert_eq!(query.len(), 1, "the neighbour cell is looked up");
        assert!(query[0].admits(stored, span, &tolerance));
        // In the same cells but 0.8 of a d13 cell apart: the hash alone would count it, the
        // offsets do not (half a cell is allowed).
        let (stored, query) =
            stored_and_query(&triplet(3.5, -4.5, 2.05), &triplet(3.5, -4.5, 2.85));
        assert_eq!(query.len(), 1, "same hash");
        assert!(!query[0].admits(stored, span, &tolerance));
        // The time ratio's tolerance is frames over the span: 0.3 of an eighth is 1.5 frames
        // of a 40-frame span (admitted: 2 are allowed), 3.75 of a 100-frame one (refused).
        let (stored, query) = stored_and_query(&triplet(3.2, -4.5, 2.5), &triplet(3.5, -4.5, 2.5));
        assert!(query[0].admits(stored, 40, &tolerance));
        assert!(!query[0].admits(stored, 100, &tolerance));
    }

    #[test]
    fn admitted_steps_admit_exactly_what_admits_admits() {
        // Every stored value, for query offsets across and beyond their cells (a neighbouring
        // cell's lookup lies a little below 0 or past 32), short and long spans, the default
        // tolerance and a narrow and a wide one.
        let tolerances = [
            FineTolerance::default(),
            FineTolerance {
                diff: 5.0,
                jitter_frames: 0.5,
            },
            FineTolerance {
                diff: 40.0,
                jitter_frames: 6.0,
            },
        ];
        let (mut compared, mut admitted) = (0, 0);
        for tolerance in &tolerances {
            for span in [3u16, 17, 40, 80, 127] {
                for ratio in (-9i8..42).step_by(3) {
                    for (d12, d13) in [(-6i8, 0i8), (0, 31), (7, 16), (15, -2), (33, 24), (38, 38)]
                    {
                        let offsets = FineOffsets { ratio, d12, d13 };
                        let table = offsets.admitted(span, tolerance);
                        for stored in 0..1u16 << FINE_BITS {
                            assert_eq!(
                                table.admits(stored),
                                offsets.admits(stored, span, tolerance),
                                "{offsets:?} span {span} stored {stored:#011b} {tolerance:?}"
                            );
                            compared += 1;
                            admitted += usize::from(table.admits(stored));
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 3 * 5 * 17 * 6 * 512);
        assert!(
            admitted > compared / 100 && admitted < compared / 2,
            "{admitted}"
        );
    }

    #[test]
    fn fingerprint_of_silence_is_empty_and_of_a_chirp_train_is_not() {
        let spec = crate::spectrogram::SpectrogramConfig::default();
        let silence = fingerprint_samples(
            &vec![0.0; 16_000],
            16_000,
            &spec,
            &FingerprintConfig::default(),
        )
        .expect("valid");
        assert_eq!((silence.peaks, silence.landmarks.len()), (0, 0));
        // Tone bursts every 100 ms, cycling through frequencies far apart (more than the
        // ± 188 Hz peak neighbourhood): a peak at each burst, triplets among them.
        let mut x = vec![0.0f32; 32_000];
        for (k, chunk) in x.chunks_mut(1600).enumerate() {
            let hz = [400.0, 1300.0, 2600.0, 800.0][k % 4];
            for (n, v) in chunk.iter_mut().take(800).enumerate() {
                *v = 0.3 * (2.0 * std::f32::consts::PI * hz * n as f32 / 16_000.0).sin();
            }
        }
        let fp =
            fingerprint_samples(&x, 16_000, &spec, &FingerprintConfig::default()).expect("valid");
        assert!(fp.peaks >= 15, "{} peaks", fp.peaks);
        assert!(!fp.landmarks.is_empty());
        assert!(
            fp.landmarks.windows(2).all(|w| w[0].frame <= w[1].frame),
            "sorted by anchor"
        );
    }
}
