//! Where a line search is worth running: a cheap vote before [`super::matching::find_runs`].
//!
//! A 30 s clip collects tens of thousands of chance hits in every hour of reference, and the line
//! search (rounds of a (speed, offset) vote over all of a reference's hits, three at least) ran
//! over all of them for every reference: the query cost was the line search's, times the archive.
//! Here every hit casts one vote in a coarse grid of (clip window, offset `tr − tq`) cells; a
//! *box* (2 × 2 neighbouring cells) far fuller than the reference's chance hits would make any box
//! marks a region where a line may be, and only the hits in such regions go on to the line
//! search. This is the offset histogram of Shazam (Wang 2003: the matching hits of one recording
//! pile up in one time-offset bin) used as a filter, widened so that a speed change, which makes
//! the offset drift along the clip, stays inside one box.
//!
//! # Why no assertable run is lost
//! - **Geometry.** Cells are [`WINDOW_FRAMES`] of clip by [`OFFSET_BIN_FRAMES`] of offset. A
//!   line at speed `s` drifts in offset by `|s − 1| · 2 · WINDOW_FRAMES` ≤ 41 frames over two
//!   windows at the search's 8 % limit; with the support band of ± 3 frames that is 47 < 64
//!   frames, so the supports of any run no longer than one window (whatever its phase against the
//!   grid) lie in one box. A longer run of `k` windows puts at least `2 / (k + 1)` of its anchors
//!   in its best box, and an assertable long run is denser than the chance rate of speech along a
//!   line (2 anchors per second, see `matching`), so its best box still holds many.
//! - **Spans.** Only hits whose spans agree with some speed within the search's range vote
//!   (`|sr − sq| ≤ 2 + (0.08 + 0.02) · sq` frames): every support of a run passes `find_runs`'
//!   own span test at a speed within ±8 %, so this drops chance hits only.
//! - **Counting.** A cell counts distinct clip anchors, and a box adds up its four cells (an
//!   anchor with hits in two of them counts twice, which only adds): a run's anchors are distinct by
//!   definition, while a sustained sound repeats one hash at neighbouring frames of both clip and
//!   reference and makes a square of hits, one anchor per clip frame, not one per hit.
//! - **Threshold.** A box marks a region when it holds at least `min(n_chance, n_assert)` anchors:
//!   - `n_chance` is the fewest that any of the reference's `B` boxes would reach by chance with
//!     probability at most [`CHANCE_CANDIDATES`]: `N` voting hits spread uniformly over the
//!     `clip × reference` plane put `λ = N · box area / plane area` in a box (Poisson), and
//!     `n_chance` is the smallest `n` with `B · P(Poisson(λ) ≥ n) ≤ CHANCE_CANDIDATES` (a
//!     Bonferroni bound over the boxes). Chance hits of speech are burstier than uniform, so more
//!     boxes than that pass: it costs time, never a match.
//!   - `n_assert` is the fewest anchors with which `find_runs` could assert a run of
//!     [`SHORTEST_RUN_S`] against this reference at all (its chance floor, see
//!     `LineSearch::fewest_assertable_anchors`), and the fewest grows with a run's length. Taking
//!     the smaller keeps every run that `find_runs` would assert, from `SHORTEST_RUN_S` to one
//!     window long, whatever `n_chance` says.
//! - **Regions.** A box past the threshold marks a region: its two clip windows and
//!   [`REGION_WINDOWS`] more on each side, and its offsets widened by the drift of a line at the
//!   speed limit across that region plus the distance to which `find_runs` looks beside a line
//!   (its control region). The line search sees every hit of the region's lines there. A run
//!   that reaches beyond the region is long, and dense where it is assertable, so the boxes
//!   further along its line pass too and their regions continue it. (Until session 4 a box
//!   marked a band of offsets across the *whole* clip, `0.08 · clip` frames wide: for a
//!   10-minute clip that was ±6 000 frames per box, and against hours of speech every hit of a
//!   reference ended up in some band, so the vote saved nothing.)
//!
//! Checked on the accuracy benchmark (every clip against every reference, the line search run on
//! all hits and on the selected ones): the asserted runs were the same except two runs of about
//! half a second (below `SHORTEST_RUN_S`), one of them a false match.
//!
//! Counters live in a ring of [`RING_ROWS`] rows, one per clip window, each holding every
//! offset bin: hits come in clip order, so a window's row is complete once a later window
//! opens, its boxes are read when the row after it is complete too, and its counters are zeroed
//! and the row reused once no box reads it. (Until session 15 the table held every window,
//! 16 MiB for a 10-minute clip against an hour of reference: each reference's votes missed the
//! cache at almost every hit, a fifth of a long query's time. The ring's few rows stay in the
//! core's cache.) Beyond [`MAX_TABLE_CELLS`] counters (a reference of over 200 hours) bins share
//! counters and count hits instead of anchors, which can only add to a count: more regions,
//! none lost, and memory stays bounded.
#![forbid(unsafe_code)]

use super::matching::{Hit, LineSearch, log10_poisson_tail};

/// Clip frames per cell: 2.05 s at 125 frames per second, about the shortest piece the issue
/// asks for (2 s). A power of two, so a hit's window is a shift.
const WINDOW_FRAMES: u32 = 256;
/// A box's region reaches this many windows (4.1 s) beyond the box on each side of the clip:
/// the hits of a line there go to the line search with the box's. A run longer than that is
/// dense enough to pass the threshold in the boxes further along (see the module docs).
const REGION_WINDOWS: u32 = 2;
/// Offset frames per cell (0.51 s): wide enough for the drift of a line at the search's speed
/// limit over a box (two windows) plus its support band; see the module docs.
const OFFSET_BIN_FRAMES: u32 = 64;
/// Expected boxes per reference past the threshold by chance alone, under the uniform model.
const CHANCE_CANDIDATES: f64 = 0.01;
/// The shortest run whose assertion the threshold guarantees (seconds): half the issue's
/// shortest piece of 2 s, as the edges of a short piece in noise lose their anchors first.
const SHORTEST_RUN_S: f64 = 1.0;
/// Most cell counters (16 MiB of `u32`); a larger ring shares them.
const MAX_TABLE_CELLS: usize = 1 << 22;
/// Clip windows whose counters are held at once: a box reads its cell's row and the rows on
/// both sides, and one more row fills while they are read.
const RING_ROWS: u64 = 4;
/// A counter holds the anchors counted in its high half and the low 16 bits of the last anchor
/// counted in its low half (hits come in clip order, so an anchor's hits follow each other; two
/// anchors of one cell are less than a window apart, so 16 bits tell them apart).
const LAST_ANCHOR_BITS: u32 = 16;

/// The vote, with its counters kept between references so that a query allocates them once.
#[derive(Debug, Default)]
pub(crate) struct CandidateVote {
    /// Cell counters (see [`LAST_ANCHOR_BITS`]), all zero between references.
    cells: Vec<u32>,
    /// Cells whose count reached a quarter of the threshold: a box past the threshold holds one.
    full: Vec<(u64, u64)>,
    /// Clip window and offset range `[lo, hi)` (of `tr − tq`) around the boxes past the
    /// threshold: one entry per window of each box's region.
    regions: Vec<(u64, i64, i64)>,
}

impl CandidateVote {
    /// [`CandidateVote::select_parts`] with the hits in one list.
    #[cfg(test)]
    pub(crate) fn select(
        &mut self,
        hits: &[Hit],
        clip_frames: u32,
        ref_frames: u32,
        search: &LineSearch,
        near: &mut Vec<Hit>,
    ) {
        self.select_parts(&[hits], clip_frames, ref_frames, search, near);
    }

    /// Puts into `near` (emptied first) the hits of one reference (`ref_frames` long; the clip is
    /// `clip_frames` long) that lie in the region of a box far fuller than chance: every hit in
    /// the clip windows around such a box whose offset `tr − tq` is within the drift of a line
    /// across them, plus the line search's neighbourhood (see the module docs). `near` stays
    /// empty when no box is. `parts`, one after another, are the reference's hits in clip order
    /// (a query collects them in parts on several threads), those whose spans fit a speed
    /// searched, as the query's lookups give them (`for_each_posting` keeps no other).
    pub(crate) fn select_parts<H: AsRef<[Hit]>>(
        &mut self,
        parts: &[H],
        clip_frames: u32,
        ref_frames: u32,
        search: &LineSearch,
        near: &mut Vec<Hit>,
    ) {
        near.clear();
        let hits = || parts.iter().flat_map(|part| part.as_ref());
        let voting: usize = parts.iter().map(|part| part.as_ref().len()).sum();
        if voting < search.min_support {
            return;
        }
        // Every hit votes: its spans fit a speed searched (`for_each_posting` keeps no other).
        let grid = Grid::new(clip_frames, ref_frames);
        let (windows, bins) = (grid.windows, grid.bins);
        // One spare column and row, so that the neighbours of every cell exist.
        let columns = bins + 1;
        let threshold = threshold(voting, grid.boxes(), clip_frames, ref_frames, search);
        // The counters of the last RING_ROWS clip windows voted in, one row of `width` each:
        // exact when a row holds every offset bin, else bins share counters.
        let exact = columns.saturating_mul(RING_ROWS) <= MAX_TABLE_CELLS as u64;
        let width = if exact {
            columns
        } else {
            (MAX_TABLE_CELLS / RING_ROWS as usize) as u64
        };
        let ring = (RING_ROWS * width) as usize;
        if self.cells.len() < ring {
            self.cells.resize(ring, 0);
        }
        let cells = &mut self.cells[..ring];
        // A box past the threshold has a cell with at least a quarter of it.
        let quarter = threshold.div_ceil(4) as u32;
        let slot_of = |window: u64, bin: u64| {
            let column = if exact { bin } else { bin & (width - 1) };
            ((window % RING_ROWS) * width + column) as usize
        };
        let margin = region_margin(search);
        // The boxes holding each of `full`'s cells, read once the rows on both sides of the
        // cell's are complete; each past the threshold marks its region.
        let boxes = |cells: &[u32], full: &[(u64, u64)], regions: &mut Vec<(u64, i64, i64)>| {
            let count_at = |window: u64, bin: u64| cells[slot_of(window, bin)] >> LAST_ANCHOR_BITS;
            for &(window, bin) in full {
                // The four boxes holding this cell: first window and first bin one back or here.
                for first_window in window.saturating_sub(1)..=window {
                    for first_bin in bin.saturating_sub(1)..=bin {
                        let anchors = count_at(first_window, first_bin) as usize
                            + count_at(first_window + 1, first_bin) as usize
                            + count_at(first_window, first_bin + 1) as usize
                            + count_at(first_window + 1, first_bin + 1) as usize;
                        if anchors >= threshold {
                            grid.push_region(first_window, first_bin, margin, regions);
                        }
                    }
                }
            }
        };
        self.full.clear();
        self.regions.clear();
        // Hits come in clip order, so windows only grow: when a hit opens window `w`, the rows
        // before it are complete, the boxes of full cells up to `w − 2` can be read, and the
        // rows up to `w − 3` are read no more and are zeroed (their hits' cells, walked by
        // `trailing`) before row `w` takes their place in the ring. Out of order (not from a
        // query), counts mix but every counter is still zeroed at the end.
        let (mut open, mut read) = (0u64, 0usize);
        let mut trailing = hits().peekable();
        for h in hits() {
            let (window, bin) = grid.cell_of(h);
            if window > open {
                let ready = self.full[read..].partition_point(|&(w, _)| w + 2 <= window);
                boxes(cells, &self.full[read..read + ready], &mut self.regions);
                read += ready;
                while let Some(old) = trailing.next_if(|old| grid.cell_of(old).0 + 3 <= window) {
                    let (w, b) = grid.cell_of(old);
                    cells[slot_of(w, b)] = 0;
                }
                open = window;
            }
            let cell = &mut cells[slot_of(window, bin)];
            let last = h.tq & ((1 << LAST_ANCHOR_BITS) - 1);
            let count = *cell >> LAST_ANCHOR_BITS;
            if exact && count > 0 && *cell & ((1 << LAST_ANCHOR_BITS) - 1) == last {
                continue;
            }
            // Shared counters (not `exact`) count every hit, which can only add to a count.
            let count = (count + 1).min((1 << (32 - LAST_ANCHOR_BITS)) - 1);
            *cell = (count << LAST_ANCHOR_BITS) | last;
            if count == quarter {
                self.full.push((window, bin));
            }
        }
        boxes(cells, &self.full[read..], &mut self.regions);
        // Zero the counters still set for the next reference.
        for old in trailing {
            let (w, b) = grid.cell_of(old);
            cells[slot_of(w, b)] = 0;
        }
        if self.regions.is_empty() {
            return;
        }
        // Merge each window's offset ranges; `starts[w]` is where window w's ranges begin.
        self.regions.sort_unstable();
        let mut merged: Vec<(u64, i64, i64)> = Vec::with_capacity(self.regions.len());
        for &(w, lo, hi) in &self.regions {
            match merged.last_mut() {
                Some(last) if last.0 == w && lo <= last.2 => last.2 = last.2.max(hi),
                _ => merged.push((w, lo, hi)),
            }
        }
        let starts: Vec<usize> = (0..=windows)
            .map(|w| merged.partition_point(|&(mw, _, _)| mw < w))
            .collect();
        near.extend(hits().filter(|h| {
            let w = grid.window(h) as usize;
            let ranges = &merged[starts[w]..starts[w + 1]];
            let offset = i64::from(h.tr) - i64::from(h.tq);
            let at = ranges.partition_point(|&(_, _, hi)| hi <= offset);
            ranges.get(at).is_some_and(|&(_, lo, _)| lo <= offset)
        }));
    }
}

/// The vote's grid for one clip and reference: clip windows by offset bins.
#[derive(Debug, Clone, Copy)]
struct Grid {
    clip_frames: u32,
    windows: u64,
    bins: u64,
}

impl Grid {
    fn new(clip_frames: u32, ref_frames: u32) -> Grid {
        Grid {
            clip_frames,
            windows: u64::from(clip_frames / WINDOW_FRAMES) + 1,
            // Offsets tr − tq lie in (−clip, ref]; shifted by the clip length they are ≥ 0.
            bins: u64::from(ref_frames.saturating_add(clip_frames) / OFFSET_BIN_FRAMES) + 1,
        }
    }

    /// Boxes of the grid, with its spare row and column (the threshold's Bonferroni count).
    fn boxes(self) -> u64 {
        (self.windows + 1) * (self.bins + 1)
    }

    /// The clip window of a hit.
    fn window(self, h: &Hit) -> u64 {
        u64::from(h.tq / WINDOW_FRAMES).min(self.windows - 1)
    }

    /// The cell (clip window, offset bin) a hit votes in.
    fn cell_of(self, h: &Hit) -> (u64, u64) {
        let offset = i64::from(h.tr) - i64::from(h.tq) + i64::from(self.clip_frames);
        // A hit past the stated lengths (a caller's fingerprint) votes at the grid's edge.
        let bin = (offset.max(0) as u64 / u64::from(OFFSET_BIN_FRAMES)).min(self.bins - 1);
        (self.window(h), bin)
    }

    /// Pushes the region of the box whose first cell is (`first_window`, `first_bin`): its two
    /// clip windows and [`REGION_WINDOWS`] more on each side, each with the box's offsets
    /// widened by `margin` (see [`region_margin`]).
    fn push_region(
        self,
        first_window: u64,
        first_bin: u64,
        margin: i64,
        regions: &mut Vec<(u64, i64, i64)>,
    ) {
        let lo = first_bin as i64 * i64::from(OFFSET_BIN_FRAMES) - i64::from(self.clip_frames);
        let hi = lo + 2 * i64::from(OFFSET_BIN_FRAMES);
        let last = (first_window + 1 + u64::from(REGION_WINDOWS)).min(self.windows - 1);
        for w in first_window.saturating_sub(u64::from(REGION_WINDOWS))..=last {
            regions.push((w, lo - margin, hi + margin));
        }
    }
}

/// How far beyond a box's offsets its region reaches: a line through the box reaches at most
/// this far from it, in offset, within the clip windows its region spans, and find_runs looks
/// this much further for its control region.
fn region_margin(search: &LineSearch) -> i64 {
    let reach = 2 * u64::from(REGION_WINDOWS) + 2;
    (search.max_speed_deviation * (reach * u64::from(WINDOW_FRAMES)) as f64
        + search.neighbourhood_frames())
    .ceil() as i64
}

/// The fewest anchors in a box that mark a region (see the module docs), for `voting` hits and
/// `boxes` boxes.
fn threshold(
    voting: usize,
    boxes: u64,
    clip_frames: u32,
    ref_frames: u32,
    search: &LineSearch,
) -> usize {
    let clip = f64::from(clip_frames.max(1));
    let reference = f64::from(ref_frames.max(1));
    let box_area = (2.0 * f64::from(WINDOW_FRAMES)).min(clip)
        * (2.0 * f64::from(OFFSET_BIN_FRAMES)).min(reference);
    let lambda = voting as f64 * box_area / (clip * reference);
    let budget = CHANCE_CANDIDATES.log10() - (boxes as f64).log10();
    let n_assert = search.fewest_assertable_anchors(
        SHORTEST_RUN_S * search.frames_per_s,
        clip_frames,
        ref_frames,
    );
    // Counted up to n_assert only: with many hits on a tiny plane λ is large, and so would be
    // the count.
    let mut n = search.min_support.max(1);
    while n < n_assert && log10_poisson_tail(lambda, n) > budget {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::super::matching::{Run, find_runs};
    use super::*;

    /// A fixed-seed stream of u32 (a linear congruential generator, Knuth's MMIX constants).
    fn stream(seed: u64) -> impl FnMut() -> u32 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        }
    }

    /// Uniform chance hits with agreeing spans, in clip order as a query makes them.
    fn chance_hits(count: usize, clip_frames: u32, ref_frames: u32, seed: u64) -> Vec<Hit> {
        let mut next = stream(seed);
        (0..count)
            .map(|_| {
                let sq = 10 + (next() % 60) as u16;
                Hit {
                    tq: next() % clip_frames,
                    sq,
                    tr: next() % ref_frames,
                    sr: sq,
                }
            })
            .collect()
    }

    /// The hits of a piece at `speed` from clip frame `from` to `to`, one anchor every `step`.
    fn line(from: u32, to: u32, step: usize, speed: f64, offset: f64) -> Vec<Hit> {
        (from..to)
            .step_by(step)
            .map(|tq| {
                let sq = 20 + (tq % 40) as u16;
                Hit {
                    tq,
                    sq,
                    tr: (speed * f64::from(tq) + offset).round() as u32,
                    sr: (f64::from(sq) * speed).round() as u16,
                }
            })
            .collect()
    }

    fn in_clip_order(mut hits: Vec<Hit>) -> Vec<Hit> {
        hits.sort_by_key(|h| h.tq);
        hits
    }

    /// Selects from `hits` (against an hour of reference) and runs the line search on all of
    /// them and on the selection; checks that every hit of `piece` is selected and that at most
    /// `1 / max_fraction` of the hits are.
    fn select_and_search(
        hits: &[Hit],
        piece: &[Hit],
        clip: u32,
        max_fraction: usize,
    ) -> (Vec<Hit>, Vec<Run>, Vec<Run>) {
        let search = LineSearch::default();
        let mut near = Vec::new();
        CandidateVote::default().select(hits, clip, HOUR, &search, &mut near);
        assert!(piece.iter().all(|h| near.contains(h)), "the piece is kept");
        assert!(
            near.len() < hits.len() / max_fraction,
            "{} of {}",
            near.len(),
            hits.len()
        );
        let all = find_runs(hits.to_vec(), hits.len(), clip, HOUR, &search);
        let selected = find_runs(near.clone(), hits.len(), clip, HOUR, &search);
        (near, all, selected)
    }

    /// An hour of reference (450 000 frames) against a 30 s clip (3750 frames).
    const HOUR: u32 = 450_000;
    const CLIP: u32 = 3750;

    #[test]
    fn select_of_chance_hits_alone_is_empty() {
        let hits = in_clip_order(chance_hits(40_000, CLIP, HOUR, 7));
        let mut near = Vec::new();
        CandidateVote::default().select(&hits, CLIP, HOUR, &LineSearch::default(), &mut near);
        assert!(near.is_empty(), "{} hits selected", near.len());
    }

    #[test]
    fn select_keeps_a_piece_at_speed_and_the_line_search_finds_it_alike() {
        // A 3 s piece at speed 1.05 among 40 000 chance hits of an hour.
        let mut hits = chance_hits(40_000, CLIP, HOUR, 11);
        let piece = line(1000, 1375, 9, 1.05, 200_000.0);
        hits.extend(&piece);
        let hits = in_clip_order(hits);
        let (near, all, selected) = select_and_search(&hits, &piece, CLIP, 100);
        assert!(
            near.len() < hits.len() / 100,
            "{} of {}",
            near.len(),
            hits.len()
        );
        assert!(all[0].log10_chance < -5.0, "{:?}", all[0]);
        assert_eq!(all[0], selected[0]);
    }

    #[test]
    fn select_keeps_the_shortest_assertable_run_across_cell_edges() {
        // A run of one second with the fewest anchors find_runs could assert, at the speed limit,
        // straddling a window edge (frame 256) and offset-bin edges: its box still passes.
        let search = LineSearch::default();
        let n = search.fewest_assertable_anchors(SHORTEST_RUN_S * search.frames_per_s, CLIP, HOUR);
        let step = (125 / (n - 1)).max(1);
        let piece = line(200, 200 + (step * (n - 1)) as u32 + 1, step, 0.92, 90_030.0);
        assert_eq!(piece.len(), n);
        let hits = in_clip_order([chance_hits(40_000, CLIP, HOUR, 3), piece.clone()].concat());
        let mut near = Vec::new();
        CandidateVote::default().select(&hits, CLIP, HOUR, &search, &mut near);
        assert!(piece.iter().all(|h| near.contains(h)), "the run is kept");
    }

    #[test]
    fn select_in_a_long_clip_keeps_a_long_piece_whole_and_only_around_it() {
        // A 10-minute clip against an hour: a 60 s piece at speed 1.04 with 5 anchors per
        // second (crossing 29 windows), and 40 000 chance hits. Every hit of the piece is kept and
        // the line search finds the same run in the selection as in all hits; a hit at the
        // piece's offset but 20 windows later in the clip is not selected.
        let clip = 75_000;
        let piece = line(10_000, 17_500, 25, 1.04, 100_000.0);
        let far = Hit {
            tq: 30_000,
            sq: 30,
            tr: (1.04 * 30_000.0 + 100_000.0) as u32 - 4_000,
            sr: 31,
        };
        let hits = in_clip_order(
            [
                chance_hits(40_000, clip, HOUR, 17),
                piece.clone(),
                vec![far],
            ]
            .concat(),
        );
        let (near, all, selected) = select_and_search(&hits, &piece, clip, 20);
        assert!(!near.contains(&far));
        // The same run; the line fit may differ by a chance hit near the line.
        let (a, b) = (&all[0], &selected[0]);
        assert_eq!(
            (a.tq_start, a.tq_end, a.support),
            (b.tq_start, b.tq_end, b.support)
        );
        assert!((a.speed - b.speed).abs() < 1e-3 && (a.offset - b.offset).abs() < 1.0);
        assert!(a.tq_start == 10_000 && a.tq_end >= 17_450, "{a:?}");
    }

    #[test]
    fn threshold_never_exceeds_the_fewest_assertable_anchors() {
        // Many hits on a tiny plane (λ in the hundreds of thousands) stop at n_assert, at once.
        let search = LineSearch::default();
        let n_assert = search.fewest_assertable_anchors(SHORTEST_RUN_S * search.frames_per_s, 8, 8);
        assert_eq!(threshold(1_000_000, 4, 8, 8, &search), n_assert);
        // Few hits on an hour: the chance bound is the lower one.
        assert!(threshold(100, 20_000, CLIP, HOUR, &search) < n_assert);
    }

    /// The selection rule read off its definition (module docs), with a map of every cell's
    /// distinct anchors: every box of 2 × 2 cells, each holding at least the threshold marks
    /// its region, and the hits inside the regions are selected, in their order. The grid's
    /// geometry and a box's region are the vote's own (`Grid`); the counting, the order in which
    /// boxes are read and the counters' reuse are what this checks.
    fn select_by_definition(
        hits: &[Hit],
        clip: u32,
        reference: u32,
        search: &LineSearch,
    ) -> Vec<Hit> {
        use std::collections::{HashMap, HashSet};
        let grid = Grid::new(clip, reference);
        let threshold = threshold(hits.len(), grid.boxes(), clip, reference, search);
        let mut anchors: HashMap<(u64, u64), HashSet<u32>> = HashMap::new();
        for h in hits {
            anchors.entry(grid.cell_of(h)).or_default().insert(h.tq);
        }
        let count = |w: u64, b: u64| anchors.get(&(w, b)).map_or(0, HashSet::len);
        let margin = region_margin(search);
        let mut regions = Vec::new();
        for &(w, b) in anchors.keys() {
            for first_window in w.saturating_sub(1)..=w {
                for first_bin in b.saturating_sub(1)..=b {
                    let sum = count(first_window, first_bin)
                        + count(first_window + 1, first_bin)
                        + count(first_window, first_bin + 1)
                        + count(first_window + 1, first_bin + 1);
                    if sum >= threshold {
                        grid.push_region(first_window, first_bin, margin, &mut regions);
                    }
                }
            }
        }
        hits.iter()
            .filter(|h| {
                let w = grid.window(h);
                let offset = i64::from(h.tr) - i64::from(h.tq);
                regions
                    .iter()
                    .any(|&(r, lo, hi)| r == w && lo <= offset && offset < hi)
            })
            .copied()
            .collect()
    }

    #[test]
    fn the_ring_of_rows_selects_what_the_definition_selects_whole_or_in_parts() {
        let search = LineSearch::default();
        // Chance hits with pieces at several speeds and places, in clips of 30 s to 10 minutes
        // (windows opening one by one, and gaps of many windows in the sparse cases).
        let cases = [
            (3_750, 4_000, vec![line(500, 900, 6, 1.0, 9_000.0)]),
            (
                75_000,
                40_000,
                vec![
                    line(1_000, 2_000, 8, 0.95, 120_000.0),
                    line(30_000, 30_400, 5, 1.04, 7_000.0),
                    line(74_000, 74_990, 9, 1.0, 400_000.0),
                ],
            ),
            (75_000, 400, vec![line(10_000, 10_300, 4, 1.0, 200_000.0)]),
            // Many short pieces of 3 to 14 anchors, about the threshold: a count read from an
            // incomplete or a reused row changes which of them are selected.
            (
                75_000,
                40_000,
                (0..150u32)
                    .map(|j| {
                        let from = j * 490 + 37 * (j % 7);
                        let step = 20 + (j * 13) as usize % 70;
                        line(from, from + 260, step, 1.0, f64::from(j * 2_900 + 1_000))
                    })
                    .collect(),
            ),
        ];
        let mut vote = CandidateVote::default();
        let mut selected_any = false;
        for (case, (clip, chance, pieces)) in cases.into_iter().enumerate() {
            let hits = in_clip_order(
                [
                    chance_hits(chance, clip, HOUR, 40 + case as u64),
                    pieces.concat(),
                ]
                .concat(),
            );
            let expected = select_by_definition(&hits, clip, HOUR, &search);
            if case < 3 {
                assert!(pieces.iter().flatten().all(|h| expected.contains(h)));
            } else {
                // Some of the short pieces are selected, some not.
                let kept = pieces.iter().filter(|p| expected.contains(&p[0])).count();
                assert!(
                    kept > 10 && kept < 140,
                    "{kept} of 150 short pieces selected"
                );
            }
            selected_any |= !expected.is_empty();
            let mut near = Vec::new();
            vote.select(&hits, clip, HOUR, &search, &mut near);
            assert_eq!(near, expected, "case {case}");
            // The same hits cut into consecutive parts, as the threads of a query hold them.
            for cuts in [
                vec![hits.len() / 2],
                vec![1, hits.len() / 3, hits.len() - 1],
            ] {
                let mut parts = Vec::new();
                let mut from = 0;
                for cut in cuts.into_iter().chain([hits.len()]) {
                    parts.push(&hits[from..cut]);
                    from = cut;
                }
                vote.select_parts(&parts, clip, HOUR, &search, &mut near);
                assert_eq!(near, expected, "case {case} in {} parts", parts.len());
            }
            // The vote leaves its counters at zero for the next reference.
            assert!(vote.cells.iter().all(|&c| c == 0));
        }
        assert!(selected_any);
    }

    #[test]
    fn select_with_shared_counters_still_keeps_a_piece() {
        // A clip of 3 hours against a reference of 400 hours: a row of every offset bin exceeds
        // the table, so bins share counters; the piece must still be found, and the vote stays
        // bounded.
        let (clip, reference) = (1_350_000, 180_000_000);
        let search = LineSearch::default();
        let piece = line(700_000, 700_500, 10, 0.97, 5_000_000.0);
        let hits = in_clip_order([chance_hits(20_000, clip, reference, 5), piece.clone()].concat());
        let mut vote = CandidateVote::default();
        let mut near = Vec::new();
        vote.select(&hits, clip, reference, &search, &mut near);
        assert!(piece.iter().all(|h| near.contains(h)), "the piece is kept");
        assert!(vote.cells.len() <= MAX_TABLE_CELLS);
        // The counters are left at zero for the next reference.
        assert!(vote.cells.iter().all(|&c| c == 0));
    }
}
