//! Placing a match's edges with frame signatures.
//!
//! A run found by the landmarks has its line (`tr = speed · tq + offset`) right but its edges
//! blurred by the peak radius and the triplet spans (see `crate::fingerprint`'s signatures). Along
//! the line, each clip signature is compared with the reference signature the line maps it to;
//! inside the piece most bits agree, outside about half do. Each edge is then the split point
//! that best separates agreeing from disagreeing pairs within a second of the landmark edge: the
//! maximum of the cumulative sum of `weight · (agreement − threshold)` (a one-change CUSUM, Page
//! 1954), with a threshold and a weight for each level class of the clip's signatures (see
//! [`LEVEL_EDGES_DB`]): the threshold halfway between the class's agreement inside the run and its
//! chance agreement, the weight the log-likelihood ratio of one agreeing bit.
//! Pairs where both sides are pauses carry no evidence, so an edge in a pause lands in the middle
//! of the pause's stretch of equal evidence.
//!
//! Three things keep this working in noise: the level classes, only the clip's *reliable* bits
//! compared (those whose band-energy change is far enough from zero that noise rarely flips
//! them, see `crate::fingerprint`'s signatures), and a window whose best split lies at its far
//! edge widened, up to [`MAX_REACH_S`], because in noise the landmarks of a piece's first and last
//! words are lost and its landmark edges can lie seconds inside it. And a piece whose edge is
//! separated from the clip's start or end by nothing but a quiet stretch of the clip (see
//! [`QUIET_DB`]) runs to it: a reused clip that opens in a pause keeps the pause, which added
//! noise would otherwise set against the reference's room tone.
#![forbid(unsafe_code)]

use crate::fingerprint::{SIGNATURE_FRAMES, reliable_agreement, reliable_count};

use super::matching::Run;

/// Frames by which a split between signatures `k − 1` and `k` lies before frame `k ·`
/// [`SIGNATURE_FRAMES`]: 1.5. Signature `k` is the double difference of frame pair `k` (frames
/// 2k and 2k + 1) and pair `k − 1` (frames 2k − 2 and 2k − 1), so its evidence is centred on
/// frame 2k − 0.5, and the split between it and signature `k − 1` on frame 2k − 1.5. A split
/// read as frame 2k (until session 19) put every signature-placed edge 1.5 frames (12 ms)
/// late: joins of two recordings of noise lay 12.1 ms after the cut on average over 96 clips
/// (the test `joins_of_two_noise_recordings_are_placed_at_the_cut`; 3.4 ms now), and on the
/// benchmark's training split the signed median errors of match starts and ends were +15 and
/// +12 ms (+4 and +3 ms now). An edge placed alone is a whole frame, so there this half-frame
/// split rounds up (4 ms late); joins keep it.
pub(crate) const SPLIT_LAG_FRAMES: f64 = 1.5;

/// The clip frame (fractional) of the split before signature `k`; the clip's start for `k = 0`.
pub(crate) fn split_frame(k: usize) -> f64 {
    if k == 0 {
        0.0
    } else {
        k as f64 * SIGNATURE_FRAMES as f64 - SPLIT_LAG_FRAMES
    }
}

/// The signature split (fractional) at clip frame `frame`: the inverse of [`split_frame`].
pub(crate) fn split_index(frame: f64) -> f64 {
    if frame <= 0.0 {
        0.0
    } else {
        (frame + SPLIT_LAG_FRAMES) / SIGNATURE_FRAMES as f64
    }
}

/// How far from a landmark edge the signature edge is searched, in seconds: the landmark edges
/// were off by up to 0.88 s (95th percentile on the benchmark's training split).
const SEARCH_S: f64 = 1.0;

/// How long a pause at the end of the search window is followed to the evidence beyond it, in
/// seconds. Measured on the training split: a piece's last words after a pause of over a second
/// were cut off its match (end errors of 1.2–1.6 s in every condition of a clip).
const MAX_PAUSE_S: f64 = 2.0;

/// How far from a landmark edge a widening window may search, in seconds. On the training
/// split, with 1 s (the fixed window before) 0.934 of the pieces of at least 3 s were found,
/// with 4 s 0.938.
const MAX_REACH_S: f64 = 4.0;

/// A window is also widened when the stretch between its best split and its far edge holds no
/// more than this much evidence against the piece, in the CUSUM's units (log-likelihood ratio,
/// nats): the window ended in a stretch that says nothing, a pause under added noise, and the
/// piece may go on beyond it (a reused clip in white noise at 10 dB SNR that opens with 0.3 s of
/// speech and a 1.5 s pause started after the pause). Measured on the benchmark's training
/// split: 2 more pieces of at least 3 s found at 8, 15 or 30 (none lost), none at 3; starts
/// within 100 ms 0.905 → 0.907.
const NEUTRAL_NATS: f64 = 15.0;

/// A split this close to a window's far edge, in seconds, widens the window.
const EDGE_GUARD_S: f64 = 0.25;

/// Inside the piece, the agreement rate (agreeing bits per reliable bit) must exceed the chance
/// rate by this much for the signatures to place its edges: a bit in 15. Clean or coded speech
/// agrees on about 12 bits of 15, unrelated pairs on about 8.6 (the better of two neighbouring
/// reference pairs of random bits); where noise leaves the inside near chance, the landmark
/// edges are kept.
const MIN_MARGIN_RATE: f64 = 1.0 / 15.0;

/// The reference is shifted by this many signatures (0.6 s) to measure chance agreement along
/// the run: the same clip pairs against unrelated reference pairs of the same recording.
const CHANCE_SHIFT: f64 = 37.0;

/// A clip's signatures with each one's reliable bits (all bits when `reliable` is empty), and
/// which of them are quiet (see [`quiet_signatures`]; none when `quiet` is empty).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClipSignatures<'a> {
    pub(crate) bits: &'a [u16],
    pub(crate) reliable: &'a [u16],
    pub(crate) quiet: &'a [bool],
    /// Each signature's level class (see [`signature_levels`]); all one class when empty.
    pub(crate) levels: &'a [u8],
}

impl ClipSignatures<'_> {
    fn len(&self) -> usize {
        self.bits.len()
    }

    fn reliable(&self, i: usize) -> u16 {
        self.reliable.get(i).copied().unwrap_or(u16::MAX)
    }

    /// Signature `i`'s level class, in `0..LEVELS` (0 when the clip has none).
    fn level(&self, i: usize) -> usize {
        usize::from(self.levels.get(i).copied().unwrap_or(0)).min(LEVELS - 1)
    }

    /// True when every signature of `range` is quiet (and the range is not empty).
    fn quiet_over(&self, range: std::ops::Range<usize>) -> bool {
        !range.is_empty()
            && self
                .quiet
                .get(range)
                .is_some_and(|q| q.iter().all(|&quiet| quiet))
    }
}

/// A signature is quiet when its loudest bin lies this far below the clip's loud level (the
/// 95th percentile of its signatures' loudest bins), in dB: a pause, whether room tone, added
/// noise or a gate's silence fills it. Only a stretch quiet all the way to the clip's start or
/// end counts (see [`refine_edges`]), so a quiet syllable inside speech never does. On the
/// benchmark's training split, pieces of at least 3 s found: 0.937 without the rule, 0.941 at
/// 15 dB, 0.946 at 12, 0.949 at 10, 0.950 at 8 (pink noise 0.778 → 0.857 at 10 dB, babble
/// 0.794 → 0.841, white 0.810 → 0.825), false splices and matches unchanged (none).
const QUIET_DB: f32 = 10.0;

/// Which of a clip's signatures are quiet (see [`QUIET_DB`]), from their loudest bins.
pub(crate) fn quiet_signatures(loudest_db: &[f32]) -> Vec<bool> {
    let Some(loud) = finite_quantile(loudest_db, 0.95) else {
        return vec![true; loudest_db.len()];
    };
    loudest_db
        .iter()
        .map(|&v| v < loud - QUIET_DB || v.is_nan())
        .collect()
}

/// The `q` quantile (nearest rank) of the finite values of `values`; `None` when there is none.
fn finite_quantile(values: &[f32], q: f64) -> Option<f32> {
    let mut finite: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    let at = ((finite.len() - 1) as f64 * q).round() as usize;
    Some(*finite.select_nth_unstable_by(at, f32::total_cmp).1)
}

/// Edges of the level classes of a clip's signatures, in dB above the clip's floor (see
/// [`LEVEL_FLOOR_QUANTILE`]: the room tone, or the noise that fills the pauses). In noise the
/// speech near a piece's edge is often soft, a few dB above the noise, where clip and reference
/// agree on fewer bits than in loud speech but on more than chance; one threshold for the whole
/// run (set by its loud speech) counted such signatures against the piece and stopped its edge
/// at the first loud word (a cut 0.5 s before a pause, in white noise at 10 dB SNR: the start
/// placed 1.2 s late, after the pause). Each class gets its own rates instead (see
/// [`refine_edges`]). Measured on the benchmark's training split: pieces of at least 3 s found
/// 0.963 → 0.967 with these edges (white, pink and babble noise 54, 54, 56 → 54, 55, 58 of
/// 64), starts within 100 ms 0.898 → 0.905, ends 0.889 → 0.895; edges at 4, 8, 14 dB or 8, 16,
/// 24 dB, a prior of 30 or 300 bits, a floor at the 25th percentile, a class margin over chance
/// of a bit in 15 or 30, or chance never below the run's: each within two pieces of these.
const LEVEL_EDGES_DB: [f32; 3] = [6.0, 12.0, 20.0];

/// The clip's floor for the level classes: this quantile of its signatures' loudest bins.
const LEVEL_FLOOR_QUANTILE: f64 = 0.10;

/// The highest agreement rate a level class is given (and one minus it the lowest chance rate).
const MAX_RATE: f64 = 0.995;

/// Level classes (see [`LEVEL_EDGES_DB`]).
const LEVELS: usize = LEVEL_EDGES_DB.len() + 1;

/// Reliable bits of pseudo-evidence that pull a level class's rates toward the run's overall
/// rates: a class with few signatures inside the run keeps about the run's threshold.
const LEVEL_PRIOR_BITS: f64 = 100.0;

/// The level class of each of a clip's signatures (see [`LEVEL_EDGES_DB`]), from their loudest
/// bins; a signature without a level (no energy) is in the lowest class.
pub(crate) fn signature_levels(loudest_db: &[f32]) -> Vec<u8> {
    let Some(floor) = finite_quantile(loudest_db, LEVEL_FLOOR_QUANTILE) else {
        return vec![0; loudest_db.len()];
    };
    loudest_db
        .iter()
        .map(|&v| {
            if v.is_finite() {
                LEVEL_EDGES_DB.iter().filter(|&&e| v - floor >= e).count() as u8
            } else {
                0
            }
        })
        .collect()
}

/// The agreement of clip signature `i` with the reference along the run's line, over the clip
/// signature's reliable bits: how many agree and how many there are, for the better of the
/// reference pair the line points into and its nearer neighbour. `None` where there is no
/// evidence: both are pauses, or no bit of the clip's is reliable. Off the reference's ends no
/// bit agrees.
fn agreement_at(
    i: usize,
    run: &Run,
    clip: ClipSignatures<'_>,
    reference: &[u16],
    shift: f64,
) -> Option<(u32, u32)> {
    let j = reference_pair(i, run) + shift;
    let nearest = j.round();
    let neighbour = if j >= nearest {
        nearest + 1.0
    } else {
        nearest - 1.0
    };
    let reliable = clip.reliable(i);
    let at = |j: f64| {
        if j < 0.0 || j >= reference.len() as f64 {
            Some((0, reliable_count(reliable)))
        } else {
            reliable_agreement(clip.bits[i], reliable, reference[j as usize])
        }
    };
    let best = match (at(nearest), at(neighbour)) {
        (Some(a), Some(b)) => Some(if a.0 >= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    best.filter(|&(_, n)| n > 0)
}

/// Reliable signature bits that count as one independent trial in [`signature_log10_chance`].
/// Measured on the benchmark archive's 33 recordings (the ignored test
/// `signature_bits_of_unrelated_recordings_agree_at_a_half_within_the_trial_size`): over
/// 3 200–3 900 windows of 10 to 160 signatures, each against another recording at a random
/// offset, bits agree at 0.50 and their agreement counts vary 1.17–1.29 times as much as
/// independent bits would, with a heavier tail than a normal one (z 4.0–4.6 at the 99.9th
/// percentile in the first probe, 3.3 expected). Three bits a trial leaves that tail well
/// inside the bound.
const BITS_PER_TRIAL: f64 = 3.0;

/// The agreement rate the signature evidence is tested against: not the half that unrelated
/// audio agrees on, but what another rendering of the same words may reach. The false-match
/// hunt's synthetic voices (espeak-ng `en-gb` at 120 words a minute against the archive's
/// `en-us` at 100, `benches/false_match_hunt.sh`) agree on 0.68–0.85 of their reliable bits
/// over runs of 1–1.5 s; against a half, 82 such runs of the hunt's even-numbered query files
/// (the half it was chosen on) would have been asserted, against 0.60 five, 0.62 one, 0.65 none
/// (and none of the odd-numbered half's). A copy agrees on 0.8–1.0 (clean and coded speech).
const NULL_AGREEMENT: f64 = 0.65;

/// log10 of a bound on the probability that the clip's signatures agree with the reference along
/// the run's line as often as they do without being a copy (0 when they agree no more than
/// [`NULL_AGREEMENT`]). The Chernoff bound on the upper tail of a binomial count (Hoeffding
/// 1963, *JASA* 58: 13–30, eq. 2.1) is exp(−n · D(a ‖ p)), with `a` the agreeing fraction, `p`
/// the null rate, `n` the trials (reliable bits over [`BITS_PER_TRIAL`]) and D the
/// Kullback–Leibler divergence. Each clip signature is compared with the one reference signature
/// the line points into (not the better of two, as the edges are placed, which would lift
/// chance above a half). Signatures where either side pauses say nothing. The caller adds the
/// multiple-test correction of the lines searched.
pub(crate) fn signature_log10_chance(
    run: &Run,
    clip: ClipSignatures<'_>,
    reference: &[u16],
) -> f64 {
    let first = split_index(f64::from(run.tq_start)).ceil() as usize;
    let end = (split_index(f64::from(run.tq_end)).floor() as usize).min(clip.len());
    let (mut agree, mut bits) = (0u64, 0u64);
    for i in first..end {
        let j = reference_pair(i, run).round();
        if j < 0.0 || j >= reference.len() as f64 {
            continue;
        }
        if let Some((a, n)) =
            reliable_agreement(clip.bits[i], clip.reliable(i), reference[j as usize])
        {
            agree += u64::from(a);
            bits += u64::from(n);
        }
    }
    if bits == 0 {
        return 0.0;
    }
    let a = agree as f64 / bits as f64;
    let p = NULL_AGREEMENT;
    if a <= p {
        return 0.0;
    }
    // D(a ‖ p), with 0 · ln 0 = 0 when every bit agrees.
    let disagree = if a < 1.0 {
        (1.0 - a) * ((1.0 - a) / (1.0 - p)).ln()
    } else {
        0.0
    };
    let divergence = a * (a / p).ln() + disagree;
    -(bits as f64 / BITS_PER_TRIAL) * divergence / std::f64::consts::LN_10
}

/// The clip signatures a run's frames touch, `first..end`; `None` when there are none, or
/// either side has no signatures.
fn signature_span(
    run: &Run,
    clip: ClipSignatures<'_>,
    reference: &[u16],
) -> Option<(usize, usize)> {
    if clip.bits.is_empty() || reference.is_empty() {
        return None;
    }
    let first = split_index(f64::from(run.tq_start)).floor() as usize;
    let end = (split_index(f64::from(run.tq_end)).ceil() as usize).min(clip.len());
    (first < end).then_some((first, end))
}

/// The running sums of `values`, from 0: `sums[k]` is the sum of the first `k`.
fn prefix_sums(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut sums = Vec::with_capacity(values.size_hint().0 + 1);
    let mut sum = 0.0;
    sums.push(sum);
    for v in values {
        sum += v;
        sums.push(sum);
    }
    sums
}

/// What one clip signature says for or against a run's piece: per level class of the clip's
/// signatures, a threshold halfway between the class's agreement inside the run (between its
/// current edges) and its chance agreement (against the reference shifted away), and a weight,
/// the log-likelihood ratio one agreeing bit carries over a disagreeing one — so that a sum of
/// [`PieceEvidence::score`] is a likelihood-ratio CUSUM (Page 1954) whose rates depend on the
/// level, and a soft stretch counts for what it can tell. A class that agrees inside no more
/// than by chance carries no evidence.
pub(crate) struct PieceEvidence {
    /// Per level class: (weight, threshold).
    classes: [(f64, f64); LEVELS],
}

impl PieceEvidence {
    /// The evidence of `run`'s piece; `None` when either side has no signatures or the inside
    /// agrees no better than chance by [`MIN_MARGIN_RATE`] (noise leaves nothing to place edges
    /// by).
    pub(crate) fn of(run: &Run, clip: ClipSignatures<'_>, reference: &[u16]) -> Option<Self> {
        let (first, end) = signature_span(run, clip, reference)?;
        // The agreement inside the piece and by chance, both measured on this run and tallied
        // per level class (agreeing bits, reliable bits): the inside between the run's edges,
        // chance against the reference shifted away.
        let tally = |shift: f64| {
            let mut classes = [(0u64, 0u64); LEVELS];
            for i in first..end {
                if let Some((a, n)) = agreement_at(i, run, clip, reference, shift) {
                    let class = &mut classes[clip.level(i)];
                    class.0 += u64::from(a);
                    class.1 += u64::from(n);
                }
            }
            classes
        };
        let rate = |(agree, bits): (u64, u64)| (bits > 0).then(|| agree as f64 / bits as f64);
        let total = |classes: &[(u64, u64); LEVELS]| {
            classes
                .iter()
                .fold((0, 0), |(a, n), &(ca, cn)| (a + ca, n + cn))
        };
        let inside_classes = tally(0.0);
        let (ahead, behind) = (tally(CHANCE_SHIFT), tally(-CHANCE_SHIFT));
        let inside = rate(total(&inside_classes))?;
        let chance = match (rate(total(&ahead)), rate(total(&behind))) {
            (Some(a), Some(b)) => 0.5 * (a + b),
            (a, b) => a.or(b)?,
        };
        if inside - chance < MIN_MARGIN_RATE {
            return None;
        }
        // Each class's rates are pulled toward the run's by LEVEL_PRIOR_BITS.
        let shrink = |(agree, bits): (u64, u64), toward: f64| {
            (agree as f64 + LEVEL_PRIOR_BITS * toward) / (bits as f64 + LEVEL_PRIOR_BITS)
        };
        let mut classes = [(0.0, 0.0); LEVELS];
        for (c, class) in classes.iter_mut().enumerate() {
            // Rates kept off 0 and 1, where the weight has no bound: a run whose every bit
            // agrees (a clean copy) weighs as one agreeing in 199 of 200.
            let p = shrink(inside_classes[c], inside).min(MAX_RATE);
            let q =
                (0.5 * (shrink(ahead[c], chance) + shrink(behind[c], chance))).max(1.0 - MAX_RATE);
            if p > q {
                let weight = (p / q).ln() + ((1.0 - q) / (1.0 - p)).ln();
                *class = (weight, 0.5 * (p + q));
            }
        }
        Some(PieceEvidence { classes })
    }

    /// What clip signature `i` says for the piece (positive) or against it, in nats; 0 where it
    /// says nothing (a pause on both sides, no reliable bit).
    pub(crate) fn score(
        &self,
        i: usize,
        run: &Run,
        clip: ClipSignatures<'_>,
        reference: &[u16],
    ) -> f64 {
        agreement_at(i, run, clip, reference, 0.0).map_or(0.0, |(a, n)| {
            let (weight, threshold) = self.classes[clip.level(i)];
            weight * (f64::from(a) - threshold * f64::from(n))
        })
    }
}

/// Where clip signature `i` falls on the reference along the run's line, in (fractional)
/// reference signatures: each signature stands at the middle of its pair of frames.
fn reference_pair(i: usize, run: &Run) -> f64 {
    let pair = SIGNATURE_FRAMES as f64;
    let tq = pair * i as f64 + 0.5 * (pair - 1.0);
    (run.speed * tq + run.offset - 0.5 * (pair - 1.0)) / pair
}

/// The run's edges, in clip frames, placed by the signatures; `None` when either side has no
/// signatures (a reference too short for one).
pub(crate) fn refine_edges(
    run: &Run,
    clip: ClipSignatures<'_>,
    reference: &[u16],
    frames_per_s: f64,
) -> Option<(u32, u32)> {
    let (first, end) = signature_span(run, clip, reference)?;
    let pair = SIGNATURE_FRAMES as f64;
    let reach = (SEARCH_S * frames_per_s / pair).round() as usize;
    let middle = (first + end) / 2;
    let evidence = PieceEvidence::of(run, clip, reference)?;
    let score = |i: usize| evidence.score(i, run, clip, reference);
    let pause = |i: usize| agreement_at(i, run, clip, reference, 0.0).is_none();
    // A window that ends in a pause goes on through it (up to MAX_PAUSE_S) and as far again
    // beyond: the piece may go on after the pause, with too few landmarks there to say so
    // (speech after a long pause, whose triplets reach into the next piece and match nothing).
    let beyond_pause = |edge: usize, forward: bool| {
        let limit = (MAX_PAUSE_S * frames_per_s / pair).round() as usize;
        let mut k = edge;
        if forward {
            while k < clip.len() && k - edge < limit && pause(k) {
                k += 1;
            }
            if k > edge {
                (k + reach).min(clip.len())
            } else {
                edge
            }
        } else {
            while k > 0 && edge - k < limit && pause(k - 1) {
                k -= 1;
            }
            if k < edge {
                k.saturating_sub(reach)
            } else {
                edge
            }
        }
    };
    // A window whose best split lies at its far edge is widened by another reach, up to
    // MAX_REACH_S from the landmark edge: the agreement goes on, so may the piece. In noise the
    // landmarks of a piece's first or last words are lost, and its landmark edges lie seconds
    // inside it. So is a window whose stretch beyond the split says nothing either way
    // (NEUTRAL_NATS).
    let max_reach = (MAX_REACH_S * frames_per_s / pair).round() as usize;
    let guard = (EDGE_GUARD_S * frames_per_s / pair).round() as usize;
    // The end: the split k in [lo, hi] maximising the sum of scores over [lo, k).
    let lo = end.saturating_sub(reach).max(middle);
    let mut hi = beyond_pause((end + reach).min(clip.len()), true);
    let new_end = loop {
        let sums = prefix_sums((lo..hi).map(score));
        // Running into the clip's end without evidence against: the piece runs to the end.
        let new_end = lo + middle_of_maximum(&sums, hi == clip.len());
        let open_beyond = sums[hi - lo] >= sums[new_end - lo] - NEUTRAL_NATS;
        if hi < clip.len() && (new_end + guard >= hi || open_beyond) && hi < end + max_reach {
            hi = beyond_pause((hi + reach).min(clip.len()).min(end + max_reach), true);
            continue;
        }
        break new_end;
    };
    // The start: the split k in [lo, hi] maximising the sum over [k, hi).
    let hi = (first + reach).min(middle).max(first);
    let mut lo = beyond_pause(first.saturating_sub(reach), false);
    let new_start = loop {
        let mut sums = vec![0.0; hi - lo + 1];
        let mut sum = 0.0;
        for i in (lo..hi).rev() {
            sum += score(i);
            sums[i - lo] = sum;
        }
        let new_start = lo + middle_of_maximum(&sums, false);
        // Likewise from the clip's start.
        if lo == 0 && sums[0] >= sums[new_start - lo] - 1e-9 {
            break 0;
        }
        let open_beyond = sums[0] >= sums[new_start - lo] - NEUTRAL_NATS;
        if lo > 0 && (new_start <= lo + guard || open_beyond) && lo + max_reach > first {
            lo = beyond_pause(
                lo.saturating_sub(reach)
                    .max(first.saturating_sub(max_reach)),
                false,
            );
            continue;
        }
        break new_start;
    };
    // A piece that reaches the clip's start or end through nothing but a quiet stretch of the
    // clip (and of the reference, which goes on there) runs to it: a pause carries no evidence
    // of its origin, but noise in it disagrees with the reference's room tone, and the
    // signatures would cut a reused clip's leading or trailing pause off its match (in noise at
    // 10 dB SNR, matches of the training split started 0.4–1.6 s late this way).
    let tr = |k: usize| run.speed * (k as f64 * pair) + run.offset;
    let new_start = if clip.quiet_over(0..new_start) && tr(0) >= 0.0 {
        0
    } else {
        new_start
    };
    let new_end = if clip.quiet_over(new_end..clip.len())
        && tr(clip.len()) <= reference.len() as f64 * pair
    {
        clip.len()
    } else {
        new_end
    };
    if new_start >= new_end {
        return None;
    }
    // The clip's end stays where it is (the last signature's pair ends there).
    let to_frame = |k: usize| {
        if k >= clip.len() {
            (k as f64 * pair).round() as u32
        } else {
            split_frame(k).round() as u32
        }
    };
    Some((to_frame(new_start), to_frame(new_end)))
}

/// How two adjacent pieces' edges are placed by [`joint_split`], in signature indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Joint {
    /// They meet in the middle of this stretch: the splits that best separate the signatures
    /// agreeing more with the first piece's reference from those agreeing more with the
    /// second's (one index wide where the evidence turns, as wide as the pause where it turns in
    /// a pause).
    Meet(std::ops::RangeInclusive<usize>),
    /// The first ends at `end`, the second starts at `start` (`end < start`): the stretch
    /// between agrees with neither reference (audio from elsewhere).
    Apart {
        /// The first piece's end (exclusive).
        end: usize,
        /// The second piece's start.
        start: usize,
    },
}

/// Where two adjacent pieces meet, within `window` (`None` when it is empty): the splits that
/// best separate the signatures agreeing more with the first piece's reference (before them)
/// from those agreeing more with the second's (after them) — the first stretch holding the
/// maximum of the cumulative difference of their agreements, one index wide where the evidence
/// turns, as wide as the pause where it turns in a pause (signatures where either reference
/// pauses say nothing, so every split inside the pause is equally good). Each edge placed alone
/// compares one piece with chance, and the two edges overlap or leave a gap (on the benchmark's
/// training split 23 % of the ends of a piece followed by a piece of another recording were
/// more than 0.1 s off); compared with each other, the two pieces' evidence decides the one
/// boundary. Measured on the training split, searching only between the two edges (the window
/// the caller gives) and 0.2 or 0.5 s beyond them: splice F1@50 ms between recordings of other
/// speakers 0.561 → 0.672, 0.658, 0.656; piece ends within 0.1 s 0.813 → 0.864, 0.861, 0.863;
/// pieces of at least 3 s found 0.949 → 0.947, 0.947, 0.945 (white noise loses 3 of 64, pink
/// gains 2). Moving a boundary only where the evidence was strong (a range of the cumulative
/// difference of 10 or 25 bits) kept the recall and lost most of the gain (ends 0.830, 0.815).
///
/// Each signature's agreement counts as the log-likelihood ratio its piece's level classes give
/// it ([`PieceEvidence::score`], the measure each edge placed alone is found by), when both
/// pieces have such evidence; the agreeing bits themselves otherwise. Counted as bits (until
/// session 19), a soft stretch in noise, which agrees with its own piece little more than by
/// chance, weighed as much as loud speech: on the benchmark's training split, splice F1@50
/// 0.686 → 0.689 (cuts inside one recording with hum 0.641 → 0.644), match edges within 100 ms
/// 0.923 / 0.910 → 0.928 / 0.918.
///
/// Unless the two edges, placed alone, leave a gap that agrees with neither reference: then
/// ([`Joint::Apart`]) the pieces keep a gap, each edge where the piece's own evidence against
/// chance ([`PieceEvidence`]) puts it, when that model of three stretches (first piece, neither,
/// second piece) beats the best single split by at least [`NEUTRAL_NATS`]. A word from another
/// recording spliced between two archived pieces was otherwise swallowed by one of them (a
/// 0.8 s piece of the training split: two edges less than a second apart are always placed
/// jointly).
pub(crate) fn joint_split(
    first: (&Run, &[u16]),
    second: (&Run, &[u16]),
    clip: ClipSignatures<'_>,
    window: std::ops::Range<usize>,
) -> Option<Joint> {
    let window = window.start.min(clip.len())..window.end.min(clip.len());
    if window.is_empty() {
        return None;
    }
    let evidence = (
        PieceEvidence::of(first.0, clip, first.1),
        PieceEvidence::of(second.0, clip, second.1),
    );
    let apart = first.0.tq_end <= second.0.tq_start;
    if let (true, Some(for_first), Some(for_second)) = (apart, &evidence.0, &evidence.1)
        && let Some(joint) = apart_split(
            (first, for_first),
            (second, for_second),
            clip,
            window.clone(),
        )
    {
        return Some(joint);
    }
    let sums = prefix_sums(window.clone().map(|i| {
        if let (Some(a), Some(b)) = &evidence {
            return a.score(i, first.0, clip, first.1) - b.score(i, second.0, clip, second.1);
        }
        let a = agreement_at(i, first.0, clip, first.1, 0.0);
        let b = agreement_at(i, second.0, clip, second.1, 0.0);
        match (a, b) {
            (Some((a, _)), Some((b, _))) => f64::from(a) - f64::from(b),
            _ => 0.0,
        }
    }));
    let (first, last) = maximum_stretch(&sums);
    Some(Joint::Meet(window.start + first..=window.start + last))
}

/// [`Joint::Apart`] when the stretch `window` between two pieces' edges is better explained as
/// belonging to neither than split between them (see [`joint_split`]); `None` otherwise. Each
/// piece comes with its evidence ([`PieceEvidence`]).
fn apart_split(
    first: ((&Run, &[u16]), &PieceEvidence),
    second: ((&Run, &[u16]), &PieceEvidence),
    clip: ClipSignatures<'_>,
    window: std::ops::Range<usize>,
) -> Option<Joint> {
    // Prefix sums over the window: the first piece's evidence up to a split, the second's.
    let prefix = |((run, reference), evidence): ((&Run, &[u16]), &PieceEvidence)| {
        prefix_sums(
            window
                .clone()
                .map(|i| evidence.score(i, run, clip, reference)),
        )
    };
    let a = prefix(first);
    let b = prefix(second);
    let n = window.len();
    // The first piece up to i, nothing from i to j, the second from j: a[i] + b[n] − b[j]
    // (b[n] left out: common to every split). One split is i = j.
    let one_split = (0..=n)
        .map(|k| a[k] - b[k])
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut best_a, mut best_i) = (f64::NEG_INFINITY, 0);
    let (mut three, mut i_j) = (f64::NEG_INFINITY, (0, 0));
    for j in 0..=n {
        if a[j] > best_a {
            (best_a, best_i) = (a[j], j);
        }
        if best_a - b[j] > three {
            (three, i_j) = (best_a - b[j], (best_i, j));
        }
    }
    let (i, j) = i_j;
    if three - one_split < NEUTRAL_NATS || i >= j {
        return None;
    }
    // Each edge in the middle of its stretch of equal evidence (a pause).
    let end = middle_of_maximum(&a[..=j], false);
    let against_second: Vec<f64> = b[i..].iter().map(|v| -v).collect();
    let start = i + middle_of_maximum(&against_second, false);
    (end < start).then(|| Joint::Apart {
        end: window.start + end,
        start: window.start + start,
    })
}

/// The first and last positions of the first stretch of positions holding the maximum of `sums`
/// (equal within a hair: pauses add exactly zero).
fn maximum_stretch(sums: &[f64]) -> (usize, usize) {
    let best = sums.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let is_best = |s: f64| s >= best - 1e-9;
    let first = sums.iter().position(|&s| is_best(s)).unwrap_or(0);
    let mut last = first;
    while last + 1 < sums.len() && is_best(sums[last + 1]) {
        last += 1;
    }
    (first, last)
}

/// The middle of the first stretch of positions holding the maximum of `sums` (see
/// [`maximum_stretch`]), or its last position when `last_if_at_end` and the stretch reaches the
/// end.
fn middle_of_maximum(sums: &[f64], last_if_at_end: bool) -> usize {
    let (first, last) = maximum_stretch(sums);
    if last_if_at_end && last + 1 == sums.len() {
        last
    } else {
        (first + last) / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVE: u16 = 1 << 15;

    /// Signatures with every bit reliable, none quiet.
    fn all(bits: &[u16]) -> ClipSignatures<'_> {
        ClipSignatures {
            bits,
            reliable: &[],
            quiet: &[],
            levels: &[],
        }
    }

    /// The edges the signatures place, in clip frames, every clip bit reliable.
    fn placed(line: &Run, clip: &[u16], reference: &[u16]) -> (i64, i64) {
        placed_by(line, all(clip), reference)
    }

    /// The edges `clip` places, in clip frames.
    fn placed_by(line: &Run, clip: ClipSignatures<'_>, reference: &[u16]) -> (i64, i64) {
        let (start, end) = refine_edges(line, clip, reference, 125.0).expect("refined");
        (i64::from(start), i64::from(end))
    }

    /// Signatures with every bit reliable, none quiet, in the given level classes.
    fn by_level<'a>(bits: &'a [u16], levels: &'a [u8]) -> ClipSignatures<'a> {
        ClipSignatures {
            levels,
            ..all(bits)
        }
    }

    /// Pseudo-random active signatures.
    fn random(n: usize, seed: u64) -> Vec<u16> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ACTIVE | (x as u16 & 0x7fff)
            })
            .collect()
    }

    fn run(speed: f64, offset: f64, tq_start: u32, tq_end: u32) -> Run {
        Run {
            speed,
            offset,
            tq_start,
            tq_end,
            support: 10,
            log10_chance: -5.0,
        }
    }

    #[test]
    fn edges_land_where_the_copied_stretch_begins_and_ends() {
        // Clip signatures 0..400 (800 frames); 150..300 copy reference signatures 500..650.
        let reference = random(1000, 1);
        let mut clip = random(400, 2);
        clip[150..300].copy_from_slice(&reference[500..650]);
        // The landmarks saw frames 340..560 (signatures 170..280): late start, early end.
        let line = run(1.0, 700.0, 340, 560);
        let (start, end) = placed(&line, &clip, &reference);
        assert!((start - 300).abs() <= 2, "{start}");
        assert!((end - 600).abs() <= 2, "{end}");
    }

    #[test]
    fn an_edge_in_a_pause_lands_in_its_middle() {
        let reference = random(1000, 3);
        let mut clip = random(400, 4);
        clip[150..300].copy_from_slice(&reference[500..650]);
        // Signatures 290..310 are a pause in both.
        for s in &mut clip[290..310] {
            *s = 0;
        }
        let reference: Vec<u16> = reference
            .iter()
            .enumerate()
            .map(|(j, &s)| if (640..660).contains(&j) { 0 } else { s })
            .collect();
        let line = run(1.0, 700.0, 340, 560);
        let (_, end) = placed(&line, &clip, &reference);
        assert!((end - 600).abs() <= 4, "{end}");
    }

    #[test]
    fn a_piece_goes_on_after_a_pause_past_the_landmark_edge() {
        // Clip signatures 100..300 copy reference 500..700, with a pause of 80 signatures
        // (1.3 s) at 200..280 in both; the landmarks saw only up to frame 380 (signature 190),
        // so the window of 1 s (62 signatures) past it ends inside the pause. The piece's end is
        // signature 300 (frame 600), after the pause.
        let mut reference = random(1000, 5);
        let mut clip = random(400, 6);
        clip[100..300].copy_from_slice(&reference[500..700]);
        for s in clip[200..280].iter_mut().chain(&mut reference[600..680]) {
            *s = 0;
        }
        let line = run(1.0, 800.0, 200, 380);
        let (_, end) = placed(&line, &clip, &reference);
        assert!((end - 600).abs() <= 2, "{end}");
    }

    #[test]
    fn a_window_widens_while_the_agreement_goes_on() {
        // Clip signatures 100..500 copy reference 300..700; the landmarks saw only signatures
        // 300..380 (frames 600..760): both edges lie over 3 s (190 signatures) from the landmark
        // edges, beyond a fixed window of 1 s.
        let reference = random(1000, 7);
        let mut clip = random(700, 8);
        clip[100..500].copy_from_slice(&reference[300..700]);
        let line = run(1.0, 400.0, 600, 760);
        let (start, end) = placed(&line, &clip, &reference);
        assert!((start - 200).abs() <= 2, "{start}");
        assert!((end - 1000).abs() <= 2, "{end}");
    }

    #[test]
    fn only_the_clips_reliable_bits_are_compared() {
        // Clip signatures 150..300 copy reference 500..650 in their 5 reliable bits only; the
        // other 10 bits are random throughout, as noise leaves them. Comparing every bit the
        // copy agrees on 10 of 15 on average, barely above chance; comparing the reliable ones
        // it agrees on all.
        let reference = random(1000, 9);
        let noise = random(400, 10);
        let mut clip = random(400, 11);
        let kept: u16 = 0b1_0010_0100_1001;
        for i in 150..300 {
            clip[i] = ACTIVE | (reference[i + 350] & kept) | (noise[i] & !kept & !ACTIVE);
        }
        let reliable = vec![kept; clip.len()];
        let line = run(1.0, 700.0, 340, 560);
        let signatures = ClipSignatures {
            reliable: &reliable,
            ..all(&clip)
        };
        let (start, end) = placed_by(&line, signatures, &reference);
        assert!((start - 300).abs() <= 4, "{start}");
        assert!((end - 600).abs() <= 4, "{end}");
    }

    #[test]
    fn soft_speech_at_a_pieces_edge_counts_for_what_its_level_agrees_on() {
        // Clip signatures 100..300 copy reference 500..700, but the first 60 of them, a soft
        // stretch a level class below the rest, keep only 6 of their 15 bits and noise the
        // others, as soft speech under added noise does; before the piece, noise at the same
        // level, after it loud noise.
        let reference = random(1000, 21);
        let noise = random(400, 22);
        let mut clip = noise.clone();
        clip[100..300].copy_from_slice(&reference[500..700]);
        let kept: u16 = 0b0000_0000_0011_1111;
        for i in 100..160 {
            clip[i] = ACTIVE | (reference[i + 400] & kept) | (noise[i] & !kept & !ACTIVE);
        }
        let mut levels = vec![1u8; clip.len()];
        levels[160..].fill(3);
        let line = run(1.0, 800.0, 200, 600);
        let (start, end) = placed_by(&line, by_level(&clip, &levels), &reference);
        assert!((start - 200).abs() <= 4, "{start}");
        assert!((end - 600).abs() <= 4, "{end}");
        // One class for all: the run's loud agreement sets the threshold, and the soft stretch
        // counts against the piece.
        let (start, end) = placed(&line, &clip, &reference);
        assert!((start - 320).abs() <= 6, "{start}");
        assert!((end - 600).abs() <= 4, "{end}");
    }

    #[test]
    fn a_start_goes_back_through_a_stretch_that_says_nothing_to_the_speech_before_it() {
        // Clip signatures 0..20 and 110..300 copy reference 400..420 and 510..700 (one piece,
        // its line offset 800 frames); 20..110 and 200..240 are a pause under added noise, in
        // the lowest level class, which inside the piece agrees about as often as by chance;
        // after the piece, loud noise. The landmarks found 110..300 only.
        let reference = random(1000, 31);
        let mut clip = random(400, 32);
        clip[0..20].copy_from_slice(&reference[400..420]);
        clip[110..200].copy_from_slice(&reference[510..600]);
        clip[240..300].copy_from_slice(&reference[640..700]);
        let mut levels = vec![3u8; clip.len()];
        levels[20..110].fill(0);
        levels[200..240].fill(0);
        let line = run(1.0, 800.0, 220, 600);
        let (start, end) = placed_by(&line, by_level(&clip, &levels), &reference);
        assert_eq!(start, 0);
        assert!((end - 600).abs() <= 4, "{end}");
    }

    #[test]
    fn signature_levels_count_decibels_above_the_clips_floor() {
        // A floor at 40 dB (the 10th percentile), then one signature in each class.
        let mut loudest = vec![40.0f32; 20];
        loudest.extend([45.0, 46.0, 51.0, 52.5, 60.5, f32::NAN, f32::NEG_INFINITY]);
        let levels = signature_levels(&loudest);
        assert_eq!(&levels[..20], &[0; 20]);
        assert_eq!(&levels[20..], &[0, 1, 1, 2, 3, 0, 0]);
        assert!(signature_levels(&[]).is_empty());
    }

    #[test]
    fn a_piece_runs_to_the_clips_start_through_a_quiet_stretch_only() {
        // Clip signatures 100..300 copy reference 500..700; before them, 0..100, the clip holds
        // noise that disagrees with the reference (a pause under added noise). Quiet, that
        // stretch joins the piece; loud, it does not. At the end (300..400) loud noise: the end
        // stays.
        let reference = random(1000, 12);
        let mut clip = random(400, 13);
        clip[100..300].copy_from_slice(&reference[500..700]);
        let line = run(1.0, 800.0, 300, 500);
        let mut quiet = vec![false; clip.len()];
        let placed_with = |quiet: &[bool]| {
            let signatures = ClipSignatures {
                quiet,
                ..all(&clip)
            };
            placed_by(&line, signatures, &reference)
        };
        let (start, end) = placed_with(&quiet);
        assert!((start - 200).abs() <= 2, "{start}");
        assert!((end - 600).abs() <= 2, "{end}");
        quiet[..100].fill(true);
        assert_eq!(placed_with(&quiet).0, 0);
        // One loud signature in the stretch: not a pause all the way to the start.
        quiet[40] = false;
        assert!((placed_with(&quiet).0 - 200).abs() <= 2);
    }

    #[test]
    fn quiet_signatures_lie_far_below_the_clips_loud_level() {
        let mut loudest = vec![-20.0_f32; 100];
        loudest[..10].fill(-35.0);
        loudest[10] = f32::NEG_INFINITY;
        loudest[11] = -25.0;
        let quiet = quiet_signatures(&loudest);
        assert!(quiet[..11].iter().all(|&q| q));
        assert!(quiet[11..].iter().all(|&q| !q));
        assert!(quiet_signatures(&[]).is_empty());
    }

    /// Two references A and B, a clip whose signatures 0..200 copy A 300..500 and 200..400 copy
    /// B 100..300, and the two pieces' runs as placed alone (the first ran on to 230, the second
    /// began at 180).
    fn two_pieces() -> (Vec<u16>, Vec<u16>, Vec<u16>, Run, Run) {
        let a = random(1000, 14);
        let b = random(1000, 15);
        let mut clip = a[300..500].to_vec();
        clip.extend_from_slice(&b[100..300]);
        let first = run(1.0, 600.0, 0, 460);
        let second = run(1.0, -200.0, 360, 800);
        (a, b, clip, first, second)
    }

    #[test]
    fn two_adjacent_pieces_meet_where_the_evidence_changes_sides() {
        // Compared with each other, the two pieces meet at 200.
        let (a, b, clip, first, second) = two_pieces();
        let Some(Joint::Meet(k)) = joint_split((&first, &a), (&second, &b), all(&clip), 170..240)
        else {
            panic!("the pieces overlap, so they meet")
        };
        assert!(
            (*k.start() as i64 - 200).abs() <= 1 && k.end() - k.start() <= 1,
            "{k:?}"
        );
    }

    #[test]
    fn two_pieces_that_meet_in_a_pause_meet_anywhere_in_it() {
        // As above, with the clip's signatures 190..215 a pause (no reliable bit): the evidence
        // changes sides somewhere in the pause, and the split is the whole stretch from its
        // first to its last signature.
        let (a, b, mut clip, first, second) = two_pieces();
        clip[190..215].fill(0);
        let reliable: Vec<u16> = (0..clip.len())
            .map(|i| if (190..215).contains(&i) { 0 } else { u16::MAX })
            .collect();
        let signatures = ClipSignatures {
            reliable: &reliable,
            ..all(&clip)
        };
        let Some(Joint::Meet(k)) = joint_split((&first, &a), (&second, &b), signatures, 170..240)
        else {
            panic!("the pieces overlap, so they meet")
        };
        assert!(
            (*k.start() as i64 - 190).abs() <= 1 && (*k.end() as i64 - 215).abs() <= 1,
            "{k:?}"
        );
    }

    #[test]
    fn two_pieces_placed_apart_meet_where_the_evidence_changes_sides() {
        // The two pieces of `two_pieces` with edges placed alone short of the cut (the first
        // ends at 180, the second starts at 220): the gap holds both, and they meet at 200.
        let (a, b, clip, _, _) = two_pieces();
        let first = run(1.0, 600.0, 0, 360);
        let second = run(1.0, -200.0, 440, 800);
        let joint = joint_split((&first, &a), (&second, &b), all(&clip), 180..220);
        let Some(Joint::Meet(k)) = joint else {
            panic!("no audio from elsewhere between them: {joint:?}")
        };
        assert!((*k.start() as i64 - 200).abs() <= 1, "{k:?}");
    }

    #[test]
    fn a_stretch_that_agrees_with_neither_piece_stays_between_them() {
        // Clip signatures 0..200 copy A 300..500, 200..250 are from elsewhere, 250..450 copy
        // B 100..300; the edges placed alone leave 195..255 between the pieces. The stretch
        // from elsewhere is left to neither: the first ends at 200, the second starts at 250.
        let a = random(1000, 14);
        let b = random(1000, 15);
        let mut clip = a[300..500].to_vec();
        clip.extend_from_slice(&random(50, 16));
        clip.extend_from_slice(&b[100..300]);
        let first = run(1.0, 600.0, 0, 390);
        let second = run(1.0, -300.0, 510, 900);
        let joint = joint_split((&first, &a), (&second, &b), all(&clip), 195..255);
        let Some(Joint::Apart { end, start }) = joint else {
            panic!("the stretch from elsewhere is nobody's: {joint:?}")
        };
        assert!((end as i64 - 200).abs() <= 1, "end {end}");
        assert!((start as i64 - 250).abs() <= 1, "start {start}");
    }

    #[test]
    fn no_signatures_no_refinement() {
        assert_eq!(
            refine_edges(&run(1.0, 0.0, 0, 100), all(&[]), &[1], 125.0),
            None
        );
    }

    #[test]
    fn signatures_copied_along_the_line_are_unlikely_by_chance_and_unrelated_ones_are_not() {
        // Clip signatures 0..100 copy reference 300..400 (1.6 s of 8 ms frames, pairs of two):
        // every one of 15 bits agrees, 1 500 bits; the Chernoff bound with 3 bits a trial is
        // exp(−500 · D(1 ‖ 0.65)) = 0.65^500, 10^−93.5.
        let reference = random(1000, 21);
        let copy = reference[300..400].to_vec();
        let line = run(1.0, 600.0, 0, 200);
        let copied = signature_log10_chance(&line, all(&copy), &reference);
        assert!(
            (copied - 500.0 * NULL_AGREEMENT.log10()).abs() < 1e-6,
            "{copied}"
        );
        // Three signatures in four agreeing (a coded copy): D(0.75 ‖ 0.65) = 0.0232, 10^−5.0.
        let coded: Vec<u16> = copy
            .iter()
            .enumerate()
            .map(|(i, &s)| if i % 4 == 0 { s ^ 0x7fff } else { s })
            .collect();
        let partly = signature_log10_chance(&line, all(&coded), &reference);
        assert!((-5.5..-4.5).contains(&partly), "{partly}");
        // The same clip one signature off the line: half the bits agree, no evidence.
        let off = run(1.0, 602.0, 0, 200);
        assert_eq!(signature_log10_chance(&off, all(&copy), &reference), 0.0);
        // Unrelated signatures: no evidence either.
        let unrelated = random(100, 22);
        assert_eq!(
            signature_log10_chance(&line, all(&unrelated), &reference),
            0.0
        );
        // Pauses on either side say nothing.
        let pauses = vec![0u16; 100];
        assert_eq!(signature_log10_chance(&line, all(&pauses), &reference), 0.0);
    }

    /// The measurement behind [`BITS_PER_TRIAL`], on a folder of real recordings (the
    /// benchmark's archive by default, `CLIP_PROVENANCE_SIGNATURE_PROBE_DIR` for another):
    /// windows of clip signatures against another recording at a random offset agree on half
    /// their reliable bits, and their agreement counts vary less than `BITS_PER_TRIAL` times as
    /// much as independent bits would. `cargo test --release --lib signature_bits -- --ignored
    /// --nocapture` after a benchmark run.
    #[test]
    #[ignore = "needs a folder of recordings (a benchmark run's archive)"]
    fn signature_bits_of_unrelated_recordings_agree_at_a_half_within_the_trial_size() {
        let dir = std::env::var_os("CLIP_PROVENANCE_SIGNATURE_PROBE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("target/evaluate/full/archive")
            });
        let settings = crate::index::IndexSettings::default();
        let fingerprints: Vec<_> = crate::decode::media_files_in(&dir)
            .expect("a folder of recordings")
            .iter()
            .map(|path| {
                let audio =
                    crate::decode_path(path, &crate::DecodeOptions::default()).expect("decodes");
                crate::index::fingerprint_audio(&audio, &settings, true).expect("fingerprints")
            })
            .collect();
        assert!(
            fingerprints.len() >= 2,
            "{} holds too few recordings",
            dir.display()
        );
        let mut state = 12_345u64;
        let mut draw = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for window in [10usize, 20, 41, 80, 160] {
            let mut counts = Vec::new();
            for _ in 0..4000 {
                let (a, b) = (draw(fingerprints.len()), draw(fingerprints.len()));
                let (a, b) = (&fingerprints[a], &fingerprints[b]);
                if std::ptr::eq(a, b)
                    || a.signatures.len() <= window
                    || b.signatures.len() <= window
                {
                    continue;
                }
                let (from_a, from_b) = (
                    draw(a.signatures.len() - window),
                    draw(b.signatures.len() - window),
                );
                let (mut agree, mut bits) = (0u64, 0u64);
                for k in 0..window {
                    if let Some((g, n)) = reliable_agreement(
                        a.signatures[from_a + k],
                        a.signature_reliable[from_a + k],
                        b.signatures[from_b + k],
                    ) {
                        agree += u64::from(g);
                        bits += u64::from(n);
                    }
                }
                if bits >= 20 {
                    counts.push((agree as f64, bits as f64));
                }
            }
            let p =
                counts.iter().map(|c| c.0).sum::<f64>() / counts.iter().map(|c| c.1).sum::<f64>();
            let z: Vec<f64> = counts
                .iter()
                .map(|&(g, n)| (g - p * n) / (p * (1.0 - p) * n).sqrt())
                .collect();
            let mean = z.iter().sum::<f64>() / z.len() as f64;
            let inflation = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / z.len() as f64;
            eprintln!(
                "{window} signatures: {} windows, agreement {p:.3}, variance {inflation:.2} x binomial",
                z.len()
            );
            assert!((p - 0.5).abs() < 0.02, "agreement {p}");
            assert!(
                inflation < BITS_PER_TRIAL,
                "variance {inflation} x binomial"
            );
        }
    }
}
