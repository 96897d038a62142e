//! The front door: a [`Config`], and an [`Analyzer`] that runs the pipeline once per clip.
//!
//! One pass over the clip: decode (on a thread of its own), mono mix, resampling to the analysis
//! rate, one streamed spectrogram, and every consumer of the spectrogram fed block by block, so
//! memory does not grow with the clip's length beyond a few numbers per frame (DESIGN.md,
//! Principles).
#![forbid(unsafe_code)]

use std::io::{Read, Seek};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cues::{CueSet, CueTrack, cue_usability};
use crate::decode::{
    Audio, AudioReader, DEFAULT_MAX_DURATION_S, DecodeOptions, MAX_SAMPLE_RATE_HZ,
};
use crate::error::{Error, Result};
use crate::fingerprint::{BackgroundFingerprint, Fingerprint};
use crate::index::{Index, IndexSettings, Match, within_clip_matches};
use crate::render::{Band, Marker, Picture, RenderOptions, Track};
use crate::report::{ArchiveInfo, Report, SCHEMA, segments_from_splices};
use crate::signal::{AnalysisStream, DEFAULT_ANALYSIS_RATE_HZ, MonoResampler, mix_to_mono};
use crate::spectrogram::{SpectrogramConfig, SpectrogramStream};
use crate::splice::{archive_boundaries, fuse_splices};
use crate::verdict::{Evidence, decide};

/// Spectrogram frames per streamed block: about 2 s at the default 8 ms hop, a few hundred
/// kilobytes of values, so consumers see blocks large enough to work on and memory stays small.
const SPECTROGRAM_BLOCK_FRAMES: usize = 256;

/// The default [`Config::splice_min_score`].
pub const DEFAULT_SPLICE_MIN_SCORE: f64 = 0.05;

/// Everything that decides what an analysis does. Serialised into every report, so a run can be
/// reproduced; read from JSON with missing fields taking their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Rate of the mono analysis signal, in Hz. Default [`DEFAULT_ANALYSIS_RATE_HZ`].
    pub analysis_rate_hz: u32,
    /// The STFT shared by every stage, at the analysis rate.
    pub spectrogram: SpectrogramConfig,
    /// The audio stream to analyse, by its 0-based index among all streams (as ffprobe counts
    /// them); `None` for the first audio stream.
    pub track: Option<usize>,
    /// Decoding stops with an error past this many seconds. Default 4 hours.
    pub max_duration_s: f64,
    /// The analysis of one clip stops with [`Error::Limit`] once it has taken this many seconds
    /// of wall-clock time (checked between blocks of about a second of audio, and once more
    /// before the report is made). `None` (the default, JSON `null`): no limit. For services that
    /// must answer in bounded time whatever the input.
    pub max_analysis_s: Option<f64>,
    /// The most columns of the report picture; longer clips are pooled to fit.
    pub picture_max_columns: usize,
    /// Splice candidates scoring below this are left out of the report. Default 0.05: weak
    /// evidence stays visible, noise does not; 0 lists every candidate (for calibration).
    pub splice_min_score: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            analysis_rate_hz: DEFAULT_ANALYSIS_RATE_HZ,
            spectrogram: SpectrogramConfig::default(),
            track: None,
            max_duration_s: DEFAULT_MAX_DURATION_S,
            max_analysis_s: None,
            picture_max_columns: Picture::DEFAULT_MAX_COLUMNS,
            splice_min_score: DEFAULT_SPLICE_MIN_SCORE,
        }
    }
}

impl Config {
    /// Reads a configuration from a JSON file; missing fields take their defaults.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Json`] for invalid JSON or an unknown
    /// field; [`Error::Config`] for a value out of range.
    pub fn from_json_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: Config = serde_json::from_str(&text).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field's range.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        if self.analysis_rate_hz < 8_000 || self.analysis_rate_hz > MAX_SAMPLE_RATE_HZ {
            // Below 8 kHz the speech band (to 4 kHz) no longer fits.
            return Err(Error::config(
                "analysis_rate_hz",
                format!(
                    "{} Hz is outside 8000..={MAX_SAMPLE_RATE_HZ}",
                    self.analysis_rate_hz
                ),
            ));
        }
        self.spectrogram.validate(self.analysis_rate_hz)?;
        if self.max_duration_s.is_nan() || self.max_duration_s <= 0.0 {
            return Err(Error::config(
                "max_duration_s",
                "must be a positive number of seconds",
            ));
        }
        if let Some(limit) = self.max_analysis_s
            && !(limit.is_finite() && limit > 0.0)
        {
            return Err(Error::config(
                "max_analysis_s",
                format!("{limit} is not a positive, finite number of seconds"),
            ));
        }
        if self.picture_max_columns < 2 || self.picture_max_columns > Picture::MAX_COLUMNS {
            return Err(Error::config(
                "picture_max_columns",
                format!(
                    "{} is outside 2..={}",
                    self.picture_max_columns,
                    Picture::MAX_COLUMNS
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.splice_min_score) {
            return Err(Error::config("splice_min_score", "must be in [0, 1]"));
        }
        Ok(())
    }

    fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            track: self.track,
            max_duration_s: self.max_duration_s,
        }
    }
}

/// A finished analysis: the report, the picture to render it on, and the splice-cue tracks.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The report.
    pub report: Report,
    /// The clip's spectrogram, pooled to at most `Config::picture_max_columns` columns.
    pub picture: Picture,
    /// One track per splice cue, in the order of [`crate::CueKey::ALL`] (raw evidence, not yet
    /// fused or calibrated). [`crate::cue_usability`] gives the report's `cues` object.
    pub cues: Vec<CueTrack>,
}

impl Analysis {
    /// Renders the report's picture: the spectrogram with a time axis, titled with the input.
    ///
    /// # Errors
    /// As [`Picture::render`].
    pub fn render(&self) -> Result<image::RgbImage> {
        // Matched segments as coloured bands labelled with the reference and where in it.
        let bands = self
            .report
            .segments
            .iter()
            .filter_map(|s| {
                let reference = s.reference.as_ref()?;
                let at = s
                    .reference_start_s
                    .map(|t| format!(" @ {}", crate::report::format_clock(t)))
                    .unwrap_or_default();
                Some(Band {
                    start_s: s.start_s,
                    end_s: s.end_s,
                    label: format!("{reference}{at}"),
                })
            })
            .collect();
        // Every reported splice as a marker (solid when asserted), labelled with its score.
        let markers = self
            .report
            .splices
            .iter()
            .map(|s| Marker {
                time_s: s.time_s,
                label: format!("{:.2}", s.score),
                strength: s.score as f32,
            })
            .collect();
        // Under the spectrogram: the fused splice score, then each usable cue's strength.
        let mut tracks = vec![splice_score_track(
            &self.report.splices,
            self.report.duration_s,
        )];
        tracks.extend(
            self.cues
                .iter()
                .filter(|t| t.usability.usable)
                .map(CueTrack::to_render_track),
        );
        let options = RenderOptions {
            title: Some(self.report.input.clone()),
            bands,
            markers,
            tracks,
            ..RenderOptions::default()
        };
        self.picture.render(&options)
    }

    /// Renders the picture and writes it as PNG to `path` (`-` for stdout), never half-written.
    ///
    /// # Errors
    /// As [`Analysis::render`] and [`crate::write_png`].
    pub fn write_png(&self, path: &Path) -> Result<()> {
        crate::render::write_png(&self.render()?, path)
    }
}

/// The fused splice score as a panel: each splice's score as a spike 50 ms wide, 0 elsewhere,
/// with the assertion threshold drawn.
fn splice_score_track(splices: &[crate::splice::Splice], duration_s: f64) -> Track {
    const STEP_S: f64 = 0.01;
    let n = (duration_s / STEP_S).ceil().max(1.0) as usize;
    let mut values = vec![0.0f32; n];
    for s in splices {
        let centre = (s.time_s / STEP_S).round() as i64;
        for i in centre - 2..=centre + 2 {
            if let Some(v) = usize::try_from(i).ok().and_then(|i| values.get_mut(i)) {
                *v = v.max(s.score as f32);
            }
        }
    }
    Track {
        name: "splice score".into(),
        start_s: 0.0,
        step_s: STEP_S,
        values,
        threshold: Some(crate::report::ASSERTED as f32),
    }
}

/// Runs the analysis pipeline on clips.
///
/// # Example
/// ```
/// use clip_provenance::{Analyzer, Config};
/// let analyzer = Analyzer::new(Config::default())?;
/// let report = analyzer.analyze_path("testdata/aac-lc-32k-mono-h264-video-first.mp4")?;
/// assert_eq!(report.audio.codec, "aac");
/// assert_eq!(report.audio.track, 1); // the video stream comes first, as in a Zoom recording
/// println!("{}", report.summary());
/// # Ok::<(), clip_provenance::Error>(())
/// ```
#[derive(Clone)]
pub struct Analyzer<'a> {
    config: Config,
    index: Option<&'a Index>,
    progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

impl std::fmt::Debug for Analyzer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("config", &self.config)
            .field("index", &self.index)
            .field("progress", &self.progress.map(|_| "callback"))
            .finish()
    }
}

/// How far the analysis of one clip has come ([`Analyzer::with_progress`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Seconds of the clip decoded and analysed so far.
    pub decoded_s: f64,
    /// The clip's duration as its container states it, when it does (a WAV, MP4 or FLAC file
    /// does; a raw ADTS or MP3 stream may not).
    pub total_s: Option<f64>,
    /// True once decoding has ended; the archive search, fusion and report follow.
    pub decoded: bool,
}

/// Seconds of audio between two progress calls while decoding.
const PROGRESS_STEP_S: f64 = 5.0;

impl<'a> Analyzer<'a> {
    /// An analyzer with `config`.
    ///
    /// # Errors
    /// [`Error::Config`] when a field is out of range.
    pub fn new(config: Config) -> Result<Analyzer<'static>> {
        config.validate()?;
        Ok(Analyzer {
            config,
            index: None,
            progress: None,
        })
    }

    /// Calls `progress` while each clip is analysed: every few seconds of decoded audio, and once
    /// when decoding has ended (for a progress bar on a long clip; clips analysed in parallel
    /// call it from their own threads).
    pub fn with_progress(self, progress: &'a (dyn Fn(Progress) + Sync)) -> Analyzer<'a> {
        Analyzer {
            progress: Some(progress),
            ..self
        }
    }

    /// Searches every clip against the archive `index` too: the report's `matches` then include
    /// archive matches, and `segments` and `archive` are filled. The index's analysis rate and
    /// spectrogram must equal the configuration's (they do with default settings); otherwise the
    /// analysis fails with [`Error::Config`].
    pub fn with_index<'b>(self, index: &'b Index) -> Analyzer<'b>
    where
        'a: 'b,
    {
        Analyzer {
            config: self.config,
            index: Some(index),
            progress: self.progress,
        }
    }

    /// The fingerprint settings: the index's, or the defaults at the configured analysis rate.
    fn fingerprint_settings(&self) -> Result<IndexSettings> {
        match self.index {
            Some(index) => {
                let s = index.settings();
                if s.analysis_rate_hz != self.config.analysis_rate_hz
                    || s.spectrogram != self.config.spectrogram
                {
                    return Err(Error::config(
                        "analysis_rate_hz",
                        format!(
                            "the index at {} was built at {} Hz with {:?}; the configuration asks for {} Hz with {:?}",
                            index.dir().display(),
                            s.analysis_rate_hz,
                            s.spectrogram,
                            self.config.analysis_rate_hz,
                            self.config.spectrogram
                        ),
                    ));
                }
                Ok(s.clone())
            }
            None => Ok(IndexSettings {
                analysis_rate_hz: self.config.analysis_rate_hz,
                spectrogram: self.config.spectrogram,
                ..IndexSettings::default()
            }),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Analyses the clip at `path`.
    ///
    /// # Errors
    /// As [`AudioReader::open_path`] and [`AudioReader::next_block`].
    pub fn analyze_path(&self, path: impl AsRef<Path>) -> Result<Report> {
        Ok(self.analyze_path_with_picture(path)?.report)
    }

    /// Analyses the clip at `path`, keeping the picture for rendering.
    ///
    /// # Errors
    /// As [`Analyzer::analyze_path`].
    pub fn analyze_path_with_picture(&self, path: impl AsRef<Path>) -> Result<Analysis> {
        let clock = Clock::start(self.config.max_analysis_s);
        let path = path.as_ref();
        let reader = AudioReader::open_path(path, &self.config.decode_options())?;
        self.run(reader, path.display().to_string(), &clock)
    }

    /// Analyses a clip from a seekable reader; `name` stands for it in the report and messages.
    ///
    /// # Errors
    /// As [`Analyzer::analyze_path`].
    pub fn analyze_reader<R>(&self, reader: R, name: &str) -> Result<Analysis>
    where
        R: Read + Seek + Send + Sync + 'static,
    {
        let clock = Clock::start(self.config.max_analysis_s);
        let reader = AudioReader::open(reader, name, &self.config.decode_options())?;
        self.run(reader, name.to_string(), &clock)
    }

    /// Analyses audio that is already decoded (or generated); `name` stands for it in the report.
    ///
    /// NaN and infinite samples are analysed as 0, with a warning in the report.
    ///
    /// # Errors
    /// [`Error::Limit`] past `max_duration_s` or `max_analysis_s`.
    pub fn analyze_audio(&self, audio: &Audio, name: &str) -> Result<Analysis> {
        let clock = Clock::start(self.config.max_analysis_s);
        let rate = self.config.analysis_rate_hz;
        if audio.duration_s() > self.config.max_duration_s {
            return Err(Error::limit(
                format!("{name}: decoded duration in seconds"),
                self.config.max_duration_s as u64,
                audio.duration_s() as u64,
            ));
        }
        let mut mono = Vec::new();
        mix_to_mono(&audio.samples, audio.info.channels, &mut mono);
        let mut warnings = audio.warnings.clone();
        let non_finite = mono.iter().filter(|x| !x.is_finite()).count();
        if non_finite > 0 {
            // As the decoder does (`AudioReader`): one NaN would spread through every spectrum.
            mono.iter_mut()
                .filter(|x| !x.is_finite())
                .for_each(|x| *x = 0.0);
            warnings.push(format!(
                "{non_finite} samples of the mono mix were NaN or infinite and are replaced by 0"
            ));
        }
        let mut resampler = MonoResampler::new(audio.info.sample_rate, rate)?;
        let mut analysis_signal = Vec::new();
        resampler.push(&mono, &mut analysis_signal);
        resampler.finish(&mut analysis_signal);
        let mut stages = Stages::new(
            &self.config,
            &self.fingerprint_settings()?,
            Some(audio.info.sample_rate),
        )?;
        stages.push(&analysis_signal)?;
        stages.cues.push_native(&mono);
        clock.check(name)?;
        let (picture, fingerprint, cues) = stages.finish()?;
        clock.check(name)?;
        let decoded = Decoded {
            input: name.to_string(),
            native_samples: audio.frames(),
            audio: audio.info.clone(),
            container: None,
            warnings,
        };
        let report = self.report(decoded, &fingerprint, &cues)?;
        Ok(Analysis {
            report,
            picture,
            cues,
        })
    }

    fn run(&self, reader: AudioReader, input: String, clock: &Clock) -> Result<Analysis> {
        let mut stream = AnalysisStream::new(reader, self.config.analysis_rate_hz)?;
        let mut stages = Stages::new(
            &self.config,
            &self.fingerprint_settings()?,
            Some(stream.info().sample_rate),
        )?;
        let total_s = stream
            .container_facts()
            .and_then(|f| f.stated_duration_s(stream.info().track));
        let rate = f64::from(self.config.analysis_rate_hz);
        let (mut analysed, mut reported) = (0usize, 0.0);
        while let Some(block) = stream.next_block()? {
            analysed += block.len();
            stages.push(block)?;
            stages.cues.push_native(stream.native_block());
            clock.check(&input)?;
            let decoded_s = analysed as f64 / rate;
            if let Some(progress) = self.progress
                && decoded_s >= reported + PROGRESS_STEP_S
            {
                reported = decoded_s;
                progress(Progress {
                    decoded_s,
                    total_s,
                    decoded: false,
                });
            }
        }
        if let Some(progress) = self.progress {
            progress(Progress {
                decoded_s: analysed as f64 / rate,
                total_s,
                decoded: true,
            });
        }
        let (picture, fingerprint, cues) = stages.finish()?;
        clock.check(&input)?;
        let facts = stream.container_facts().cloned();
        let info = stream.info().clone();
        let warnings = stream.take_warnings();
        let decoded = Decoded {
            input,
            native_samples: stream.native_samples(),
            audio: info,
            container: facts,
            warnings,
        };
        let report = self.report(decoded, &fingerprint, &cues)?;
        Ok(Analysis {
            report,
            picture,
            cues,
        })
    }

    fn report(
        &self,
        decoded: Decoded,
        fingerprint: &Fingerprint,
        cues: &[CueTrack],
    ) -> Result<Report> {
        let Decoded {
            input,
            native_samples,
            audio,
            container,
            warnings,
        } = decoded;
        let duration_s = native_samples as f64 / f64::from(audio.sample_rate.max(1));
        let base_name = Path::new(&input)
            .file_name()
            .map_or_else(|| input.clone(), |n| n.to_string_lossy().into_owned());
        // One after the other: side by side (the query uses every thread anyway) a 3-hour clip
        // held both searches' memory at once, 1.5 GB against 1.0 GB (benches/README.md,
        // session 15).
        let mut matches = match self.index {
            Some(index) => index.query(fingerprint)?,
            None => Vec::new(),
        };
        matches.extend(within_clip_matches(fingerprint, &base_name));
        matches.sort_by(Match::strongest_first);
        let boundaries = archive_boundaries(&matches, duration_s);
        let splices = fuse_splices(cues, &boundaries, self.config.splice_min_score);
        let segments = segments_from_splices(duration_s, &splices, &matches);
        let archive = self.index.map(|i| ArchiveInfo {
            references: i.list().len(),
            duration_s: i.total_duration_s(),
        });
        let usability = cue_usability(cues);
        let verdict = decide(&Evidence {
            splices: &splices,
            matches: &matches,
            segments: &segments,
            cues: &usability,
            archive: archive.as_ref(),
            container_notes: container.as_ref().map_or(&[], |c| c.notes.as_slice()),
        });
        Ok(Report {
            schema: SCHEMA,
            crate_version: env!("CARGO_PKG_VERSION"),
            input,
            duration_s,
            audio,
            container,
            config: serde_json::to_value(&self.config)
                .expect("Config serialises: plain fields only"),
            archive,
            verdict,
            cues: Some(usability),
            splices,
            matches,
            segments,
            warnings,
        })
    }
}

/// The wall-clock budget of one analysis (`Config::max_analysis_s`).
struct Clock {
    started: Instant,
    limit: Option<Duration>,
}

impl Clock {
    fn start(limit_s: Option<f64>) -> Clock {
        Clock {
            started: Instant::now(),
            // `Config::validate` keeps the limit positive and finite; a limit too large for a
            // `Duration` is no limit.
            limit: limit_s.and_then(|s| Duration::try_from_secs_f64(s).ok()),
        }
    }

    /// [`Error::Limit`] (in milliseconds, naming `input`) once the budget is spent.
    fn check(&self, input: &str) -> Result<()> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let elapsed = self.started.elapsed();
        if elapsed > limit {
            return Err(Error::limit(
                format!("{input}: analysis time in milliseconds (max_analysis_s)"),
                limit.as_millis().try_into().unwrap_or(u64::MAX),
                elapsed.as_millis().try_into().unwrap_or(u64::MAX),
            ));
        }
        Ok(())
    }
}

/// What decoding the clip gave, for the report.
struct Decoded {
    input: String,
    native_samples: u64,
    audio: crate::decode::AudioInfo,
    container: Option<crate::container::ContainerFacts>,
    warnings: Vec<String>,
}

/// The consumers of the analysis signal, fed block by block.
struct Stages {
    spectrogram: SpectrogramStream,
    picture: Picture,
    fingerprint: BackgroundFingerprint,
    /// The splice cues; native-rate samples go straight to `cues.push_native`.
    cues: CueSet,
}

impl Stages {
    /// `native_rate_hz`: the rate of the native mono samples that will be fed, if any.
    fn new(
        config: &Config,
        settings: &IndexSettings,
        native_rate_hz: Option<u32>,
    ) -> Result<Stages> {
        let rate = config.analysis_rate_hz;
        // The settings equal the configuration's rate and spectrogram (`fingerprint_settings`).
        let fingerprint =
            BackgroundFingerprint::start(settings.fingerprint_builder()?.expanded_for_query());
        Ok(Stages {
            spectrogram: SpectrogramStream::new(
                rate,
                &config.spectrogram,
                SPECTROGRAM_BLOCK_FRAMES,
            )?,
            picture: Picture::new(rate, &config.spectrogram, config.picture_max_columns)?,
            fingerprint,
            cues: CueSet::new(rate, &config.spectrogram, native_rate_hz)?,
        })
    }

    fn push(&mut self, samples: &[f32]) -> Result<()> {
        self.cues.push_analysis(samples);
        let (picture, fingerprint, cues) =
            (&mut self.picture, &mut self.fingerprint, &mut self.cues);
        self.spectrogram.push(samples, |block| {
            fingerprint.push(block);
            picture.push(block)?;
            cues.push_spectrogram(block)
        })
    }

    fn finish(mut self) -> Result<(Picture, Fingerprint, Vec<CueTrack>)> {
        let (picture, fingerprint, cues) =
            (&mut self.picture, &mut self.fingerprint, &mut self.cues);
        self.spectrogram.finish(|block| {
            fingerprint.push(block);
            picture.push(block)?;
            cues.push_spectrogram(block)
        })?;
        Ok((self.picture, self.fingerprint.finish(), self.cues.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_default_is_valid_and_round_trips_json() {
        let config = Config::default();
        config.validate().expect("defaults are valid");
        let text = serde_json::to_string(&config).expect("serialises");
        let back: Config = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, config);
    }

    #[test]
    fn config_missing_fields_take_defaults_and_unknown_fields_are_refused() {
        let partial: Config =
            serde_json::from_str(r#"{"analysis_rate_hz": 22050}"#).expect("parses");
        assert_eq!(partial.analysis_rate_hz, 22_050);
        assert_eq!(partial.spectrogram, SpectrogramConfig::default());
        assert!(serde_json::from_str::<Config>(r#"{"analysis_rate": 1}"#).is_err());
    }

    #[test]
    fn config_max_analysis_s_defaults_to_no_limit_and_must_be_positive() {
        // A configuration written before the field existed still parses.
        let old: Config = serde_json::from_str(r#"{"max_duration_s": 60.0}"#).expect("parses");
        assert_eq!(old.max_analysis_s, None);
        let set: Config = serde_json::from_str(r#"{"max_analysis_s": 2.5}"#).expect("parses");
        assert_eq!(set.max_analysis_s, Some(2.5));
        set.validate().expect("a positive limit is valid");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let config = Config {
                max_analysis_s: Some(bad),
                ..Config::default()
            };
            assert!(
                matches!(config.validate(), Err(Error::Config { field, .. }) if field == "max_analysis_s"),
                "{bad}"
            );
        }
    }

    #[test]
    fn config_out_of_range_is_config_error() {
        let low = Config {
            analysis_rate_hz: 4_000,
            ..Config::default()
        };
        assert!(
            matches!(low.validate(), Err(Error::Config { field, .. }) if field == "analysis_rate_hz")
        );
        let duration = Config {
            max_duration_s: 0.0,
            ..Config::default()
        };
        assert!(matches!(duration.validate(), Err(Error::Config { .. })));
    }

    /// The analysis of one second of a 48 kHz tone, with the default configuration.
    fn one_second_tone_analysis() -> Analysis {
        let samples: Vec<f32> = (0..48_000).map(|n| (n as f32 * 0.05).sin() * 0.5).collect();
        let audio = Audio::from_interleaved(samples, 48_000, 1).expect("valid");
        Analyzer::new(Config::default())
            .expect("valid")
            .analyze_audio(&audio, "tone")
            .expect("runs")
    }

    #[test]
    fn analyze_audio_gives_every_cue_track_with_native_rate_cues_usable() {
        // One second of a tone: too short for most cues, but the waveform cue, fed the native
        // samples, is usable; every track is there, in the order of the report's keys.
        let analysis = one_second_tone_analysis();
        let keys: Vec<_> = analysis.cues.iter().map(|t| t.key).collect();
        assert_eq!(keys, crate::cues::CueKey::ALL.to_vec());
        let waveform = &analysis.cues[4];
        assert!(waveform.usability.usable, "{:?}", waveform.usability);
        assert!(
            !analysis.cues[2].usability.usable,
            "1 s is too short for ENF"
        );
    }

    #[test]
    fn analyze_audio_of_a_generated_tone_reports_its_duration() {
        let analysis = one_second_tone_analysis();
        assert_eq!(analysis.report.duration_s, 1.0);
        assert_eq!(
            analysis.picture.frames(),
            125,
            "1 s at 16 kHz with an 8 ms hop"
        );
    }

    #[test]
    fn progress_reports_seconds_decoded_the_stated_duration_and_the_end() {
        // An 11 s FLAC file: its header states the duration.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/speech/jfk_inaugural_1961_excerpt.flac"
        );
        let calls = std::sync::Mutex::new(Vec::new());
        let record = |p: Progress| calls.lock().expect("not poisoned").push(p);
        let report = Analyzer::new(Config::default())
            .expect("valid")
            .with_progress(&record)
            .analyze_path(path)
            .expect("analyses");
        let calls = calls.into_inner().expect("not poisoned");
        // Every 5 s while decoding, then once at the end.
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(calls.windows(2).all(|w| w[0].decoded_s < w[1].decoded_s));
        assert!(calls.iter().all(|p| {
            p.total_s
                .is_some_and(|t| (t - report.duration_s).abs() < 0.05)
        }));
        let last = calls.last().expect("called");
        assert!(last.decoded && calls[..2].iter().all(|p| !p.decoded));
        assert!(
            (last.decoded_s - report.duration_s).abs() < 0.05,
            "{last:?}"
        );
    }
}
