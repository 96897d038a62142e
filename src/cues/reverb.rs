//! The reverberation cue: how fast sound dies away after speech offsets, before and after each
//! instant; a change of room (or of distance to the microphone) changes it.
//!
//! When a talker stops, what the microphone hears next is the room's response decaying: in a
//! diffuse field the level falls linearly in dB at 60 / RT60 dB per second (Sabine; Schroeder
//! 1965, "New method of measuring reverberation time", JASA 37). Blind estimators find such free
//! decays in running speech and fit their slope (Ratnam et al. 2003, "Blind estimation of
//! reverberation time", JASA 114(5); Löllmann et al. 2010, "An improved algorithm for blind
//! reverberation time estimation", IWAENC, who keep only segments where the energy keeps
//! falling). Here, in four bands (groups of five mel bands), a decay is a run of frames that keeps
//! falling from a level at least 20 dB above the local floor; the frames still inside the analysis
//! window of the sound before the offset are skipped, and the slope of the rest is fitted by least
//! squares when it spans at least 10 dB (the evaluation range of the early decay time, ISO 3382-1)
//! and ends at least 10 dB above the floor. Each decay gives a rate in dB/s; the cue compares the
//! mean log2 rate of the decays in the 4 s before and after each instant, in octaves (1.0 = one
//! side decays twice as fast).
#![forbid(unsafe_code)]

use crate::cues::frames::{BAND_COUNT, FrameClass, FrameFeatures, FrameView, SlidingMin, TwoSided};
use crate::cues::noise_floor::round3;
use crate::cues::{CueKey, CueTrack, CueUsability, FrameCue, spectrogram_cue};
use crate::spectrogram::SpectrogramConfig;

/// Bands in which decays are measured: the 20 mel bands in groups of five (about 100–500 Hz,
/// 500–1300 Hz, 1.3–3 kHz and 3–7.8 kHz at 16 kHz), so each level averages enough bins to fall
/// smoothly.
const GROUPS: usize = 4;
const BANDS_PER_GROUP: usize = BAND_COUNT / GROUPS;

/// A decay starts from a frame at least this far above the local floor, in dB: room for the 10 dB
/// fit range, the skipped frames and the 10 dB end margin.
const START_MARGIN_DB: f32 = 25.0;

/// A decay ends when the level comes within this of the local floor, in dB: ISO 3382-1 (§5.3.3)
/// puts the bottom of the evaluation range at least 10 dB above the background.
const END_MARGIN_DB: f32 = 10.0;

/// A decay ends when the level rises this far above its lowest value so far, in dB: the level of a
/// noise-like decaying field fluctuates by a dB or two from frame to frame, a new sound by more.
const RISE_TOLERANCE_DB: f32 = 2.0;

/// The fitted part of a decay must fall at least this far, in dB: the range of the early decay
/// time (ISO 3382-1, EDT from 0 to −10 dB).
const MIN_FIT_DROP_DB: f32 = 10.0;

/// The fitted part of a decay must hold at least this many frames, so the slope is a fit, not a
/// difference of two noisy levels.
const MIN_FIT_FRAMES: u32 = 4;

/// A decay longer than this, in seconds, is cut here and fitted: 1 s covers the fit range of
/// reverberation times up to 6 s (10 dB at 60 dB per 6 s).
const MAX_DECAY_S: f64 = 1.0;

/// Window over which the local floor of a band group is its minimum level, in seconds (trailing;
/// the 1.5 s of minimum statistics, Martin 2001).
const FLOOR_WINDOW_S: f64 = 1.5;

/// Length of each side's window, in seconds: decays are sparse (a few per second of speech in each
/// band), so 4 s gather about ten per side.
const SIDE_S: f64 = 4.0;

/// Decays a band group needs on each side to enter the comparison.
const MIN_GROUP_DECAYS_SIDE: f64 = 2.0;

/// Decays (over all groups) each side needs for the cue to speak; the confidence reaches 1 at
/// [`FULL_DECAYS_SIDE`].
const MIN_DECAYS_SIDE: f64 = 3.0;
const FULL_DECAYS_SIDE: f64 = 12.0;

/// Decays a clip needs for the cue to be usable.
const MIN_DECAYS_TOTAL: u64 = 10;

/// The reference value of the track, in octaves of decay rate: 1.0, one side decaying twice as
/// fast. On 19 unedited LibriSpeech utterances (tuning speakers) the largest confidence-weighted
/// value had median 0.75 and 90th percentile 1.09 octaves (decay rates of read speech vary), and
/// joints of two of those readers did not score higher: their rooms are alike. The known-answer
/// change from RT60 0.25 s to 0.7 s reads 1.49 octaves.
const SCALE_OCTAVES: f32 = 1.0;

/// Histogram of log2 decay rates for the clip's RT60 fact: 8 dB/s to 8192 dB/s in 1/20 octave.
const HISTOGRAM_LOW_LOG2: f32 = 3.0;
const HISTOGRAM_BINS_PER_OCTAVE: f32 = 20.0;
const HISTOGRAM_BINS: usize = 200;

/// The percentile of decay rates taken as the room's: a decay cannot be faster than the room
/// lets it (a slow offset of the voice only makes it slower), so the room's rate lies towards the
/// fast end. The 75th percentile matched the known RT60 of synthetic rooms in the tests.
const ROOM_RATE_PERCENTILE: f64 = 0.75;

/// One band group's decay search.
struct Decay {
    floor: SlidingMin,
    previous_db: f32,
    in_run: bool,
    start_frame: u64,
    run_min_db: f32,
    /// Least-squares sums over the fitted frames: count, Σx, Σy, Σx², Σxy (x in frames from the
    /// start).
    n: u32,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    first_fit_db: f32,
    last_fit_db: f32,
}

impl Decay {
    fn new(floor_frames: usize) -> Decay {
        Decay {
            floor: SlidingMin::new(floor_frames),
            previous_db: f32::NEG_INFINITY,
            in_run: false,
            start_frame: 0,
            run_min_db: 0.0,
            n: 0,
            sx: 0.0,
            sy: 0.0,
            sxx: 0.0,
            sxy: 0.0,
            first_fit_db: 0.0,
            last_fit_db: 0.0,
        }
    }

    fn reset(&mut self) {
        self.floor.clear();
        self.previous_db = f32::NEG_INFINITY;
        self.in_run = false;
    }

    fn add_point(&mut self, x: f64, y: f32) {
        if self.n == 0 {
            self.first_fit_db = y;
        }
        self.last_fit_db = y;
        self.n += 1;
        let y = f64::from(y);
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.sxy += x * y;
    }

    /// The fitted decay rate in dB per frame, if the run qualifies.
    fn fitted_rate(&self) -> Option<f64> {
        if self.n < MIN_FIT_FRAMES || self.first_fit_db - self.last_fit_db < MIN_FIT_DROP_DB {
            return None;
        }
        let n = f64::from(self.n);
        let denominator = n * self.sxx - self.sx * self.sx;
        if denominator <= 0.0 {
            return None;
        }
        let slope = (n * self.sxy - self.sx * self.sy) / denominator;
        (slope < 0.0).then_some(-slope)
    }
}

/// Decays per band group, their rates compared before and after each instant.
pub(crate) struct Reverb {
    hop_s: f64,
    skip_frames: u64,
    max_decay_frames: u64,
    groups: Vec<Decay>,
    /// Events waiting to enter the two-sided means, ring by frame index: log2 rate and weight per
    /// group. A decay is known only when it ends, up to `max_decay_frames` after it began.
    delay_x: Vec<[f32; GROUPS]>,
    delay_w: Vec<[f32; GROUPS]>,
    frames_seen: u64,
    /// One set of two-sided means per band group (each group's decays come at their own
    /// frames).
    sides: Vec<TwoSided>,
    histogram: [u32; HISTOGRAM_BINS],
    decays: u64,
    track: CueTrack,
}

impl Reverb {
    pub fn new(hop_s: f64, sample_rate: u32, config: &SpectrogramConfig) -> Reverb {
        // Frames after the last loud frame whose window still reaches back over the offset: half
        // a window, plus the frame of the offset itself.
        let window_s = config.window_samples as f64 / f64::from(sample_rate);
        let skip_frames = (0.5 * window_s / hop_s).ceil() as u64 + 1;
        let max_decay_frames = (MAX_DECAY_S / hop_s).round() as u64;
        let floor_frames = (FLOOR_WINDOW_S / hop_s).round() as usize;
        let delay = max_decay_frames as usize + 2;
        Reverb {
            hop_s,
            skip_frames,
            max_decay_frames,
            groups: (0..GROUPS).map(|_| Decay::new(floor_frames)).collect(),
            delay_x: vec![[0.0; GROUPS]; delay],
            delay_w: vec![[0.0; GROUPS]; delay],
            frames_seen: 0,
            sides: (0..GROUPS)
                .map(|_| TwoSided::new(1, (SIDE_S / hop_s).round() as usize))
                .collect(),
            histogram: [0; HISTOGRAM_BINS],
            decays: 0,
            track: new_track(hop_s),
        }
    }

    /// Records a finished run of `group` as an event at its start frame, if it qualifies.
    fn end_run(&mut self, group: usize) {
        let decay = &mut self.groups[group];
        decay.in_run = false;
        let Some(rate_per_frame) = decay.fitted_rate() else {
            return;
        };
        let rate_db_per_s = rate_per_frame / self.hop_s;
        let log2_rate = rate_db_per_s.log2() as f32;
        let slot = (decay.start_frame % self.delay_x.len() as u64) as usize;
        self.delay_x[slot][group] = log2_rate;
        self.delay_w[slot][group] = 1.0;
        let bin = ((log2_rate - HISTOGRAM_LOW_LOG2) * HISTOGRAM_BINS_PER_OCTAVE).floor();
        let bin = (bin.max(0.0) as usize).min(HISTOGRAM_BINS - 1);
        self.histogram[bin] += 1;
        self.decays += 1;
    }

    /// Moves the frame `frame` out of the delay line into the two-sided means.
    fn release(&mut self, frame: u64) {
        let slot = (frame % self.delay_x.len() as u64) as usize;
        let (x, w) = (self.delay_x[slot], self.delay_w[slot]);
        self.delay_x[slot] = [0.0; GROUPS];
        self.delay_w[slot] = [0.0; GROUPS];
        let mut complete = false;
        for (group, sides) in self.sides.iter_mut().enumerate() {
            complete |= sides.push(&x[group..=group], w[group]).is_some();
        }
        if complete {
            self.emit();
        }
    }

    fn emit(&mut self) {
        let (mut left_total, mut right_total) = (0.0, 0.0);
        let (mut sum_sq, mut compared) = (0.0, 0);
        for group in 0..GROUPS {
            let sides = &self.sides[group];
            let (left_mean, left_n) = (sides.left_mean(0), sides.left_weight());
            let (right_mean, right_n) = (sides.right_mean(0), sides.right_weight());
            left_total += left_n;
            right_total += right_n;
            if left_n >= MIN_GROUP_DECAYS_SIDE && right_n >= MIN_GROUP_DECAYS_SIDE {
                let d = right_mean - left_mean;
                sum_sq += d * d;
                compared += 1;
            }
        }
        let decays = f64::min(left_total, right_total);
        if compared == 0 || decays < MIN_DECAYS_SIDE {
            self.track.push(0.0, 0.0);
            return;
        }
        let value = (sum_sq / f64::from(compared)).sqrt() as f32;
        let confidence = (decays / FULL_DECAYS_SIDE).min(1.0) as f32;
        self.track.push(value, confidence);
    }

    /// The clip's RT60 estimate from the histogram of decay rates, in seconds.
    fn rt60_s(&self) -> Option<f64> {
        let total: u64 = self.histogram.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return None;
        }
        let target = (ROOM_RATE_PERCENTILE * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bin, &count) in self.histogram.iter().enumerate() {
            seen += u64::from(count);
            if seen >= target {
                let log2_rate = HISTOGRAM_LOW_LOG2 + (bin as f32 + 0.5) / HISTOGRAM_BINS_PER_OCTAVE;
                return Some(60.0 / 2f64.powf(f64::from(log2_rate)));
            }
        }
        None
    }
}

fn new_track(hop_s: f64) -> CueTrack {
    CueTrack::new(
        CueKey::Reverb,
        "octaves",
        -0.5 * hop_s,
        hop_s,
        SCALE_OCTAVES,
    )
}

impl FrameCue for Reverb {
    fn reserve(&mut self, frames: usize) {
        self.track.reserve(frames);
    }

    fn push_frame(&mut self, frame: &FrameView<'_>) {
        let j = frame.index;
        let delay = self.delay_x.len() as u64;
        if j >= delay {
            self.release(j - delay);
        }
        let silent = frame.class == FrameClass::DigitalSilence;
        for group in 0..GROUPS {
            let bands = &frame.bands_db[group * BANDS_PER_GROUP..(group + 1) * BANDS_PER_GROUP];
            let y = bands.iter().sum::<f32>() / BANDS_PER_GROUP as f32;
            let decay = &mut self.groups[group];
            if !silent {
                decay.floor.push(j, y);
            }
            let floor = decay.floor.min_from(0);
            if decay.in_run {
                let offset = j - decay.start_frame;
                let ends = silent
                    || y > decay.run_min_db + RISE_TOLERANCE_DB
                    || y <= floor + END_MARGIN_DB
                    || offset > self.max_decay_frames;
                if ends {
                    self.end_run(group);
                } else {
                    decay.run_min_db = decay.run_min_db.min(y);
                    if offset >= self.skip_frames {
                        decay.add_point(offset as f64, y);
                    }
                }
            }
            let decay = &mut self.groups[group];
            if !decay.in_run
                && !silent
                && y < decay.previous_db
                && decay.previous_db >= floor + START_MARGIN_DB
            {
                decay.in_run = true;
                decay.start_frame = j - 1;
                decay.run_min_db = y;
                decay.n = 0;
                (decay.sx, decay.sy, decay.sxx, decay.sxy) = (0.0, 0.0, 0.0, 0.0);
                if self.skip_frames <= 1 {
                    decay.add_point(1.0, y);
                }
            }
            self.groups[group].previous_db = if silent { f32::NEG_INFINITY } else { y };
        }
        self.frames_seen = j + 1;
    }

    fn finish_frames(&mut self, _frames: &FrameFeatures) -> CueTrack {
        for group in 0..GROUPS {
            if self.groups[group].in_run {
                self.end_run(group);
            }
        }
        let delay = self.delay_x.len() as u64;
        for frame in self.frames_seen.saturating_sub(delay)..self.frames_seen {
            self.release(frame);
        }
        loop {
            let mut complete = false;
            for sides in &mut self.sides {
                complete |= sides.pad().is_some();
            }
            if !complete {
                break;
            }
            self.emit();
        }
        let mut track = std::mem::replace(&mut self.track, new_track(self.hop_s));
        let decays = self.decays;
        let mut usability = if decays < MIN_DECAYS_TOTAL {
            CueUsability::unusable(format!(
                "too few speech offsets to measure reverberation ({decays} decays)"
            ))
        } else {
            CueUsability::usable("")
        }
        .with_fact("decays", decays);
        if let Some(rt60) = self.rt60_s() {
            usability = usability.with_fact("decay_rt60_s", round3(rt60));
        }
        if usability.usable {
            track.usability = usability;
        } else {
            track.abstain(usability);
        }
        // Reset for the next clip.
        self.sides.iter_mut().for_each(TwoSided::reset);
        self.groups.iter_mut().for_each(Decay::reset);
        self.delay_x.iter_mut().for_each(|x| *x = [0.0; GROUPS]);
        self.delay_w.iter_mut().for_each(|w| *w = [0.0; GROUPS]);
        self.histogram = [0; HISTOGRAM_BINS];
        self.decays = 0;
        self.frames_seen = 0;
        track
    }
}

spectrogram_cue! {
    /// The reverberation cue on its own: decay rates (dB/s) fitted after speech offsets in four
    /// bands; the track is the RMS over bands of the difference of the mean log2 rates of the
    /// decays in the 4 s before and after each instant, in octaves, one value per spectrogram
    /// frame boundary (time `(i − 0.5) · hop`).
    ///
    /// Abstains where either side has fewer than 3 decays; unusable with fewer than 10 in the
    /// clip. Facts: `decays`, `decay_rt60_s` (60 dB over the 75th-percentile decay rate: a blind
    /// estimate of the room's RT60). Reference scale 1 octave.
    ReverbCue,
    Reverb
}
