//! Frame signatures: a 16-bit summary of the spectrum every two frames, for placing the edges of
//! a match to a few frames once the landmarks have found it.
//!
//! Landmarks find a reused piece, but their edges are blurred: a peak within a peak radius
//! (96 ms) of a cut competes with the audio on the other side, and a triplet that straddles the
//! cut matches nothing, so a landmark match ends 0.1–0.9 s early (measured on the benchmark's
//! training split: median 0.15 s, 95th percentile 0.88 s). Signatures compare the clip with the
//! reference frame pair by frame pair along the matched line, so the edge is where they stop
//! agreeing.
//!
//! The bits follow Haitsma & Kalker, "A Highly Robust Audio Fingerprinting System" (ISMIR 2002):
//! the sign of the energy difference between neighbouring bands, differenced again over time.
//! The double difference cancels gain and any fixed equalisation (a microphone, a codec's
//! low-pass), and codec noise flips few bits. Here 16 log-spaced bands over the fingerprint's
//! band give 15 bits; the 16th says whether the pair is *active* (within the fingerprint's
//! level range of the recent loudest peak), because in a pause the bits are noise and say
//! nothing either way.
#![forbid(unsafe_code)]

/// Frames per signature.
pub const SIGNATURE_FRAMES: u64 = 2;
/// Bands of a signature; one bit per neighbouring pair.
const BANDS: usize = 16;
/// Comparison bits per signature.
pub const SIGNATURE_BITS: u32 = BANDS as u32 - 1;
/// The bit that marks an active pair.
const ACTIVE: u16 = 1 << 15;
/// The comparison bits.
const COMPARISON: u16 = ACTIVE - 1;

/// A comparison bit is *reliable* when its double difference is at least this far from zero,
/// in dB. Haitsma & Kalker (2002) rank a fingerprint's bits by this magnitude: a bit near zero
/// flips under a little noise or a codec, a bit far from it survives. Comparing a clip's
/// reliable bits only, the agreement inside a piece rose from 0.65 to 0.73 of the bits in pink
/// noise at 10 dB SNR (chance from 0.57 to 0.62) and from 0.79 to 0.91 in clean speech; on the
/// benchmark's training split 1.5, 3 and 6 dB found 0.933, 0.938 and 0.913 of the pieces of at
/// least 3 s (all bits: 0.924).
const RELIABLE_DB: f32 = 3.0;

/// Signatures at the start of a recording whose bits say nothing about a match, and so have no
/// reliable bits. The first has no pair before it: its "changes" are the band differences
/// themselves, where a reference compared at the same place has the changes from the pair
/// before it. The second differences its pair with the first pair, whose frames' windows
/// reach before the start (frames are centred, and the fingerprint's 512-sample window spans
/// four 128-sample hops: frames 0 and 1 are half and a quarter zeros). Counted as evidence,
/// they started 12 of 32 four-second excerpts of the bundled speech, cut out mid-speech, 16–64
/// ms after the clip's start (3 of 32 without them).
const LEADING_UNCOMPARABLE: usize = 2;

/// How many signatures cover `frames` frames.
pub fn signature_count(frames: u64) -> u64 {
    frames.div_ceil(SIGNATURE_FRAMES)
}

/// How many of the comparison bits of two signatures agree, or `None` unless both pairs are
/// active: in a pause the bits are noise, and whether a quiet pair counts as a pause depends on
/// the loudness just before it, which differs between a clip and its source.
pub fn agreement(a: u16, b: u16) -> Option<u32> {
    reliable_agreement(a, COMPARISON, b).map(|(agreeing, _)| agreeing)
}

/// How many of the `reliable` comparison bits of clip signature `a` agree with reference
/// signature `b`, and how many reliable bits there are; `None` unless both pairs are active.
pub(crate) fn reliable_agreement(a: u16, reliable: u16, b: u16) -> Option<(u32, u32)> {
    let mask = reliable & COMPARISON;
    (a & b & ACTIVE != 0).then(|| {
        let n = mask.count_ones();
        (n - ((a ^ b) & mask).count_ones(), n)
    })
}

/// How many comparison bits `reliable` marks.
pub(crate) fn reliable_count(reliable: u16) -> u32 {
    (reliable & COMPARISON).count_ones()
}

/// A recording's signatures, and for each the bits that are reliable (see [`RELIABLE_DB`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Signatures {
    pub(crate) bits: Vec<u16>,
    pub(crate) reliable: Vec<u16>,
    /// The loudest bin of each pair, in dB.
    pub(crate) loudest_db: Vec<f32>,
}

/// Streams spectrogram rows into signatures.
#[derive(Debug, Clone)]
pub(crate) struct SignatureBuilder {
    /// Bin range `lo..hi` of each band.
    bands: Vec<(usize, usize)>,
    /// Power summed over the current pair of frames, per bin from the first band's first bin.
    pair_power: Vec<f32>,
    /// Frames in the current pair.
    in_pair: u64,
    /// Neighbour differences of the previous pair, in dB.
    previous: [f32; BANDS - 1],
    /// Loudest band level of the current pair, in dB.
    loudest_db: f32,
    signatures: Signatures,
}

impl SignatureBuilder {
    /// Bands log-spaced between bins `lo_bin` and `hi_bin` (inclusive), each at least one bin.
    pub(crate) fn new(lo_bin: usize, hi_bin: usize) -> SignatureBuilder {
        let (lo, hi) = (lo_bin.max(1) as f64, (hi_bin + 1) as f64);
        let mut bands = Vec::with_capacity(BANDS);
        let mut start = lo_bin.max(1);
        for b in 0..BANDS {
            let edge = (lo * (hi / lo).powf((b + 1) as f64 / BANDS as f64)).round() as usize;
            let end = edge.max(start + 1);
            bands.push((start, end));
            start = end;
        }
        let span = bands.last().map_or(0, |&(_, end)| end) - bands[0].0;
        SignatureBuilder {
            pair_power: vec![0.0; span],
            bands,
            in_pair: 0,
            previous: [0.0; BANDS - 1],
            loudest_db: f32::NEG_INFINITY,
            signatures: Signatures::default(),
        }
    }

    /// Adds one spectrogram row (dB), given the level (dB) below which the pair is a pause.
    pub(crate) fn push(&mut self, row: &[f32], active_above_db: f32) {
        let first = self.bands[0].0;
        let bins = &row[first.min(row.len())..(first + self.pair_power.len()).min(row.len())];
        // Bin by bin, without calls, so that the loop vectorises (a call to `expf` per bin and
        // a double-precision sum per band were a tenth of an ingest's time); the band sums
        // are made in double once per pair.
        for (p, &db) in self.pair_power.iter_mut().zip(bins) {
            *p += if db.is_finite() { power_of_db(db) } else { 0.0 };
        }
        self.loudest_db = bins.iter().copied().fold(self.loudest_db, f32::max);
        self.in_pair += 1;
        if self.in_pair == SIGNATURE_FRAMES {
            self.emit(active_above_db);
        }
    }

    /// Emits a last, incomplete pair and returns the signatures.
    pub(crate) fn finish(mut self, active_above_db: f32) -> Signatures {
        if self.in_pair > 0 {
            self.emit(active_above_db);
        }
        self.signatures
    }

    fn emit(&mut self, active_above_db: f32) {
        let first = self.bands[0].0;
        let level: [f32; BANDS] = std::array::from_fn(|b| {
            let (lo, hi) = self.bands[b];
            let p: f64 = self.pair_power[lo - first..hi - first]
                .iter()
                .map(|&p| f64::from(p))
                .sum();
            (10.0 * (p + 1e-12).log10()) as f32
        });
        let mut bits = 0u16;
        let mut reliable = 0u16;
        for b in 0..BANDS - 1 {
            let difference = level[b] - level[b + 1];
            let change = difference - self.previous[b];
            if change > 0.0 {
                bits |= 1 << b;
            }
            if change.abs() >= RELIABLE_DB {
                reliable |= 1 << b;
            }
            self.previous[b] = difference;
        }
        if self.signatures.bits.len() < LEADING_UNCOMPARABLE {
            reliable = 0;
        }
        if self.loudest_db > active_above_db {
            bits |= ACTIVE;
        }
        self.signatures.bits.push(bits);
        self.signatures.reliable.push(reliable);
        self.signatures.loudest_db.push(self.loudest_db);
        self.pair_power.fill(0.0);
        self.in_pair = 0;
        self.loudest_db = f32::NEG_INFINITY;
    }
}

/// `10^(db/10)`, a level in dB as a power ratio, within 5e-6 of it relatively for levels from
/// −370 to +370 dB (beyond them, the value at the nearer one); the error is single precision's
/// rounding of `db · log2 10 / 10`, as with `expf`. Without calls or branches, so that a loop
/// over a row's bins vectorises. `10^(db/10) = 2^x` with `x = n + ½ + g/ln 2`, `n` an integer and
/// `|g| ≤ ½ ln 2`; `e^g` by its Taylor series to `g⁶` (the rest is below 1.3e-7), `2^n` by its
/// exponent bits.
#[inline]
fn power_of_db(db: f32) -> f32 {
    let x = (db * (std::f32::consts::LOG2_10 / 10.0)).clamp(-125.0, 125.0);
    // x + 126 ≥ 1, so truncation is the floor (and needs no rounding instruction).
    let n = (x + 126.0) as i32 - 126;
    let g = (x - n as f32 - 0.5) * std::f32::consts::LN_2;
    let e_g = 1.0
        + g * (1.0
            + g * (1.0 / 2.0
                + g * (1.0 / 6.0 + g * (1.0 / 24.0 + g * (1.0 / 120.0 + g * (1.0 / 720.0))))));
    let two_n = f32::from_bits(((n + 127) as u32) << 23);
    e_g * std::f32::consts::SQRT_2 * two_n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_of_db_agrees_with_the_library() {
        let mut worst = 0.0f64;
        let mut db = -370.0f32;
        while db <= 370.0 {
            let exact = 10f64.powf(f64::from(db) / 10.0);
            worst = worst.max((f64::from(power_of_db(db)) - exact).abs() / exact);
            db += 0.0137;
        }
        // Single precision's rounding of the exponent (up to 123 · 2^-24) dominates.
        assert!(worst < 5e-6, "worst relative error {worst}");
        assert!((power_of_db(0.0) - 1.0).abs() < 1e-6);
        assert!((power_of_db(-30.0) / 1e-3 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn agreement_counts_equal_bits_when_both_pairs_are_active() {
        assert_eq!(agreement(ACTIVE | 0b101, ACTIVE | 0b101), Some(15));
        assert_eq!(agreement(ACTIVE | 0b101, ACTIVE | 0b100), Some(14));
        assert_eq!(agreement(0b101, 0b100), None);
        assert_eq!(agreement(ACTIVE, 0), None);
    }

    #[test]
    fn a_bit_is_reliable_where_its_double_difference_is_far_from_zero() {
        // 16 bands of one bin each (bins 10..26); band 4 steps up by 10 dB at the third pair,
        // every other band moves by 0.5 dB a pair: only the bits of the pairs (3, 4) and
        // (4, 5) change by more than RELIABLE_DB.
        let mut b = SignatureBuilder::new(10, 25);
        assert!(b.bands.iter().all(|&(lo, hi)| hi == lo + 1));
        for pair in 0..3 {
            for frame in 0..SIGNATURE_FRAMES {
                let row: Vec<f32> = (0..40)
                    .map(|k| {
                        let wobble = if (k + frame as usize).is_multiple_of(2) {
                            0.5
                        } else {
                            0.0
                        };
                        let step = if k == 14 && pair == 2 { 10.0 } else { 0.0 };
                        -40.0 + wobble * pair as f32 + step
                    })
                    .collect();
                b.push(&row, -100.0);
            }
        }
        let s = b.finish(-100.0);
        assert_eq!(s.reliable.len(), 3);
        assert_eq!(
            s.reliable[2] & COMPARISON,
            (1 << 3) | (1 << 4),
            "{:016b}",
            s.reliable[2]
        );
        // Band 4 louder: band 3 minus band 4 fell, band 4 minus band 5 rose.
        assert_eq!(s.bits[2] & ((1 << 3) | (1 << 4)), 1 << 4);
        assert_eq!(
            reliable_agreement(s.bits[2], s.reliable[2], s.bits[2]),
            Some((2, 2))
        );
        assert_eq!(
            reliable_agreement(s.bits[2], s.reliable[2], s.bits[2] ^ (1 << 4)),
            Some((1, 2))
        );
    }

    #[test]
    fn the_leading_signatures_have_no_reliable_bits() {
        // A spectrum falling 6 dB a band, band 4 up 10 dB in the second pair and back in the
        // third: the first signature's band differences (6 dB) and the second's change
        // (10 dB) would read as reliable; only the third's counts.
        let mut b = SignatureBuilder::new(10, 25);
        for pair in 0..3 {
            for _ in 0..SIGNATURE_FRAMES {
                let row: Vec<f32> = (0..40)
                    .map(|k| {
                        let step = if k == 14 && pair == 1 { 10.0 } else { 0.0 };
                        -20.0 - 6.0 * k as f32 + step
                    })
                    .collect();
                b.push(&row, -400.0);
            }
        }
        let s = b.finish(-400.0);
        assert_eq!(&s.reliable[..LEADING_UNCOMPARABLE], &[0, 0]);
        assert_eq!(s.reliable[2] & COMPARISON, (1 << 3) | (1 << 4));
    }

    #[test]
    fn signatures_ignore_gain_and_see_a_change_of_spectrum() {
        // Rows of 130 bins: a sloped spectrum with a moving bump, then the same 20 dB louder.
        let rows: Vec<Vec<f32>> = (0..40)
            .map(|t| {
                (0..130)
                    .map(|k| {
                        let centre = 20.0 + 2.7 * t as f32;
                        // A fixed jitter of ±2 dB keeps every difference away from zero.
                        let jitter = ((k * 7919 + t * 104_729) % 97) as f32 / 24.0 - 2.0;
                        -30.0 - 0.2 * k as f32
                            + 15.0 * (-((k as f32 - centre) / 4.0).powi(2)).exp()
                            + jitter
                    })
                    .collect()
            })
            .collect();
        let run = |gain: f32| {
            let mut b = SignatureBuilder::new(8, 128);
            for r in &rows {
                let r: Vec<f32> = r.iter().map(|v| v + gain).collect();
                b.push(&r, -100.0);
            }
            b.finish(-100.0).bits
        };
        let (quiet, loud) = (run(0.0), run(20.0));
        assert_eq!(quiet.len(), 20);
        // Gain cancels in the differences; only a difference that is zero up to rounding can
        // flip (a tie of the synthetic spectrum), at most a few of the 300 bits.
        let flipped: u32 = quiet
            .iter()
            .zip(&loud)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert!(flipped <= 3, "{flipped} bits flipped by gain");
        // The bump moves, so the bits change from pair to pair.
        let changes = quiet.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(changes > 10, "{changes}");
        // Below the activity level, every pair is a pause.
        let mut b = SignatureBuilder::new(8, 128);
        rows.iter().for_each(|r| b.push(r, 0.0));
        assert!(b.finish(0.0).bits.iter().all(|s| s & ACTIVE == 0));
    }
}
