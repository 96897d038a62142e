//! Decoding the audio track of a media file onto ffmpeg's timeline.
//!
//! The reference timeline is ffmpeg's (DESIGN.md): sample 0 is the first sample that
//! `ffmpeg -i CLIP -map 0:a:0 -f f32le -` outputs, and the length is the length of that output.
//! Symphonia demuxes and decodes; this module adds what symphonia 0.6 leaves out so that both
//! agree, each rule measured against ffmpeg 5.1 on the fixtures in `testdata/`:
//!
//! - **MP4/MOV edit lists** (symphonia ignores `elst`): ffmpeg drops the first `media_time`
//!   samples of the first non-empty edit and keeps every *whole* packet that starts before
//!   `media_time + segment_duration`; it does not cut the last packet short. So an ffmpeg-made
//!   AAC `.m4a` (edit at 1024) loses its 1024 priming samples but keeps up to 1023 samples of
//!   encoder padding at the end. Measured by patching `elst` in an ffmpeg-made file: a segment of
//!   1.5 s at 32 kHz from 1024 gives 48128 samples (the packet holding sample 49024 ends at 49152).
//! - **Opus** (symphonia has no Opus decoder): decoded here with `ropus` at 48 kHz, the rate
//!   ffmpeg always outputs (RFC 7845 §5.1: the pre-skip and granule positions count 48 kHz
//!   samples). The pre-skip of the `OpusHead` is dropped at the start and the end trim of the last
//!   Ogg page (symphonia's packet `trim_end`) at the end.
//! - **AAC in Matroska and raw ADTS**: ffmpeg keeps the priming samples there, and so does
//!   symphonia: nothing to do. **MP3** (LAME/Xing gapless) and **Vorbis** already match.
//!
//! Decoding streams in blocks ([`AudioReader`]), so memory does not grow with the file's length;
//! [`decode_path`] collects the blocks for short clips.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::well_known::*;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use crate::container::{self, ContainerFacts};
use crate::error::{Error, Result};

/// The most channels accepted. Third-order Ambisonics has 16 and the largest broadcast layouts
/// (22.2) have 24; a header claiming more is treated as damaged rather than sizing buffers by it.
pub const MAX_CHANNELS: u16 = 64;

/// The highest sample rate accepted, in Hz: 768 kHz is the highest rate of current converters.
/// A header claiming more is treated as damaged.
pub const MAX_SAMPLE_RATE_HZ: u32 = 768_000;

/// Default limit on decoded duration, in seconds (4 hours): far beyond any clip under question,
/// and it bounds the work a hostile file can ask for.
pub const DEFAULT_MAX_DURATION_S: f64 = 4.0 * 3600.0;

/// A decode that ends this much (or [`SHORTFALL_TOLERANCE_FRACTION`] of the stated duration, if
/// more) before the duration the container states is reported as probably truncated. Containers
/// state durations that differ from the decodable length by a frame or two (priming, padding,
/// rounding to the container's time unit), far below this.
const SHORTFALL_TOLERANCE_S: f64 = 0.1;
/// See [`SHORTFALL_TOLERANCE_S`].
const SHORTFALL_TOLERANCE_FRACTION: f64 = 0.01;

/// Opus always decodes at 48 kHz in ffmpeg, and RFC 7845 §4 counts pre-skip and granule positions
/// in 48 kHz samples whatever the input rate was.
const OPUS_RATE_HZ: u32 = 48_000;

/// The longest Opus packet: 120 ms (RFC 6716 §3.2.5), 5760 samples at 48 kHz.
const OPUS_MAX_PACKET_SAMPLES: usize = 5760;

/// A jump of more than this between one packet's end and the next packet's timestamp is reported
/// as a gap (data the container reader skipped: a page with a bad checksum, a FLAC frame whose
/// header is damaged). Timestamps in milliseconds (Matroska) round by up to 1 ms per packet; a
/// real gap is a whole packet or more (2.5 ms is the shortest Opus frame).
const GAP_TOLERANCE_S: f64 = 0.002;

/// Packets that fail with "unsupported feature" before any packet decodes: then the stream uses a
/// feature the decoder lacks (AAC Main prediction, say) and the error says so. After one good
/// packet, such a failure is damage (garbage read as a feature flag) and becomes silence.
const MAX_LEADING_UNSUPPORTED_PACKETS: u64 = 16;

/// How a decode is done.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeOptions {
    /// The audio stream to decode, by its 0-based index among all of the container's streams, as
    /// ffprobe counts them (the report's `audio.track`). `None`: the first audio stream.
    pub track: Option<usize>,
    /// Decoding stops with [`Error::Limit`] past this many seconds of audio. Default
    /// [`DEFAULT_MAX_DURATION_S`].
    pub max_duration_s: f64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            track: None,
            max_duration_s: DEFAULT_MAX_DURATION_S,
        }
    }
}

/// What was decoded: the report's `audio` object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AudioInfo {
    /// The codec, by ffprobe's `codec_name` (`aac`, `mp3`, `opus`, `flac`, `pcm_s16le`, …).
    pub codec: String,
    /// Sample rate of the decoded audio, in Hz.
    pub sample_rate: u32,
    /// Number of channels of the decoded audio.
    pub channels: u16,
    /// The stream's 0-based index among all of the container's streams, as ffprobe counts them.
    pub track: usize,
}

/// One stream of a container, as the decoder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// 0-based index among all streams, as ffprobe counts them.
    pub index: usize,
    /// True for an audio stream.
    pub is_audio: bool,
    /// ffprobe's codec name for an audio stream whose codec symphonia knows.
    pub codec: Option<String>,
    /// Sample rate in Hz, for audio.
    pub sample_rate: Option<u32>,
    /// Channel count, for audio.
    pub channels: Option<u16>,
}

/// A block of decoded audio, interleaved, on the file's timeline.
#[derive(Debug, Clone, Copy)]
pub struct AudioBlock<'a> {
    /// Index of the block's first sample (per channel) on the timeline.
    pub start_samples: u64,
    /// Number of interleaved channels.
    pub channels: u16,
    /// The samples, interleaved, nominally in [-1, 1].
    pub samples: &'a [f32],
}

impl AudioBlock<'_> {
    /// Number of samples per channel in the block.
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
}

/// A whole decoded audio track.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// What was decoded.
    pub info: AudioInfo,
    /// The samples, interleaved.
    pub samples: Vec<f32>,
    /// What went wrong without stopping the decode (a truncated file, damaged packets).
    pub warnings: Vec<String>,
}

impl Audio {
    /// Audio from samples made elsewhere (generated, or decoded by other means).
    ///
    /// # Errors
    /// [`Error::Config`] when `channels` is 0 or above [`MAX_CHANNELS`], the rate is 0 or above
    /// [`MAX_SAMPLE_RATE_HZ`], or the sample count is not a multiple of `channels`.
    pub fn from_interleaved(samples: Vec<f32>, sample_rate: u32, channels: u16) -> Result<Audio> {
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(Error::config(
                "channels",
                format!("{channels} is outside 1..={MAX_CHANNELS}"),
            ));
        }
        if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE_HZ {
            return Err(Error::config(
                "sample_rate",
                format!("{sample_rate} Hz is outside 1..={MAX_SAMPLE_RATE_HZ}"),
            ));
        }
        if !samples.len().is_multiple_of(usize::from(channels)) {
            return Err(Error::config(
                "samples",
                format!(
                    "{} samples do not divide into {channels} channels",
                    samples.len()
                ),
            ));
        }
        let info = AudioInfo {
            codec: "pcm_f32le".into(),
            sample_rate,
            channels,
            track: 0,
        };
        Ok(Audio {
            info,
            samples,
            warnings: Vec::new(),
        })
    }

    /// Number of samples per channel.
    pub fn frames(&self) -> u64 {
        (self.samples.len() / usize::from(self.info.channels.max(1))) as u64
    }

    /// Duration in seconds (samples / sample rate).
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.info.sample_rate.max(1))
    }

    /// One channel's samples, de-interleaved. Empty when `channel` is out of range.
    pub fn channel(&self, channel: u16) -> Vec<f32> {
        let n = usize::from(self.info.channels.max(1));
        if channel >= self.info.channels {
            return Vec::new();
        }
        self.samples
            .iter()
            .skip(usize::from(channel))
            .step_by(n)
            .copied()
            .collect()
    }

    /// The mono mix: the mean of the channels.
    pub fn to_mono(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.frames() as usize);
        crate::signal::mix_to_mono(&self.samples, self.info.channels, &mut out);
        out
    }
}

/// Decodes the audio track of the file at `path` entirely into memory.
///
/// For long files prefer [`AudioReader`], which streams.
///
/// # Errors
/// As [`AudioReader::open_path`], and [`Error::Limit`] past `options.max_duration_s`.
///
/// # Example
/// ```
/// use clip_provenance::{decode_path, DecodeOptions};
/// let audio = decode_path("testdata/flac-24bit-48k-mono.flac", &DecodeOptions::default())?;
/// assert_eq!(audio.info.sample_rate, 48_000);
/// # Ok::<(), clip_provenance::Error>(())
/// ```
pub fn decode_path(path: impl AsRef<Path>, options: &DecodeOptions) -> Result<Audio> {
    collect(AudioReader::open_path(path, options)?)
}

/// Decodes the audio track of a seekable reader entirely into memory; `name` stands for the
/// input in messages and helps to recognise the format by its extension.
///
/// # Errors
/// As [`decode_path`].
pub fn decode_reader<R>(reader: R, name: &str, options: &DecodeOptions) -> Result<Audio>
where
    R: Read + Seek + Send + Sync + 'static,
{
    collect(AudioReader::open(reader, name, options)?)
}

fn collect(mut reader: AudioReader) -> Result<Audio> {
    let mut samples = Vec::new();
    while let Some(block) = reader.next_block()? {
        samples.extend_from_slice(block.samples);
    }
    let info = reader.info().clone();
    Ok(Audio {
        info,
        samples,
        warnings: reader.take_warnings(),
    })
}

/// A streaming decoder: opens a file, picks the audio track, and yields blocks of samples on
/// ffmpeg's timeline.
pub struct AudioReader {
    name: String,
    format: Box<dyn FormatReader>,
    decoder: TrackDecoder,
    track_id: u32,
    info: AudioInfo,
    tracks: Vec<TrackInfo>,
    facts: Option<ContainerFacts>,
    timeline: Timeline,
    /// Samples per channel the decoder produced so far, before any trimming.
    raw_pos: u64,
    /// Samples per channel handed out so far.
    emitted: u64,
    max_samples: u64,
    max_duration_s: f64,
    /// Decoded samples not yet handed out (held back for an end trim).
    pending: Vec<f32>,
    /// The block handed out last.
    out: Vec<f32>,
    /// Scratch for one decoded packet.
    scratch: Vec<f32>,
    warnings: Vec<String>,
    damaged_packets: u64,
    first_damage_s: f64,
    /// Packets that decoded.
    good_packets: u64,
    /// The decoder's first "unsupported feature" error, while no packet has decoded.
    unsupported: Option<String>,
    /// The track's time base (numerator, denominator), for [`AudioReader::note_gap`].
    time_base: Option<(u32, u32)>,
    /// Where the next packet should start, in time-base units.
    next_pts: Option<i64>,
    gaps: u64,
    gaps_total_s: f64,
    first_gap_s: f64,
    /// Samples that were NaN or infinite, replaced by 0.
    non_finite_samples: u64,
    first_non_finite_s: f64,
    finished: bool,
}

/// How raw decoder output maps onto ffmpeg's timeline.
#[derive(Debug, Clone, Copy, Default)]
struct Timeline {
    /// Samples per channel to drop at the start (edit list media time, Opus pre-skip).
    skip_samples: u64,
    /// MP4 edit end, in raw samples: packets that start at or after it are dropped.
    edit_end_samples: Option<u64>,
    /// Samples per channel held back and dropped at the end of the stream.
    end_trim_samples: u64,
}

enum TrackDecoder {
    Symphonia(Box<dyn AudioDecoder>),
    Opus(Box<OpusTrack>),
}

struct OpusTrack {
    decoder: ropus::Decoder,
}

/// A `MediaSource` over any seekable reader: symphonia needs the byte length for some formats.
///
/// For a truncated file, `len` is the length its structure claims (see
/// [`ContainerFacts::claimed_bytes`]): symphonia's MP4 reader skips a box that runs past the end
/// of the source, so a download cut inside `mdat` would yield no audio at all, where ffmpeg
/// decodes what is there. Presented at its claimed length, the reads past the real end return
/// end-of-data and the decode ends with a truncation warning.
///
/// A position past the real end (`real_len`) is kept here rather than asked of the reader: a
/// claimed length can be anything up to 2^64 (an `mdat` of 2^62 bytes), and the operating system
/// refuses to seek a file that far (EINVAL), which would turn a damaged file into an I/O error.
struct SeekableSource<R> {
    inner: R,
    len: Option<u64>,
    real_len: u64,
    /// `Some(position)` while positioned past `real_len`: reads there return end-of-data.
    beyond: Option<u64>,
    /// False for a truncated Matroska file: symphonia's reader follows the SeekHead to the Cues
    /// and Tags written after the clusters and fails when they are cut off; told that the source
    /// cannot seek, it reads from the first cluster on, as far as the data goes (as ffmpeg does).
    seekable: bool,
}

impl<R: Read + Seek> Read for SeekableSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.beyond.is_some() {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

impl<R: Read + Seek> Seek for SeekableSource<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let before =
            || std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start");
        let target = match pos {
            SeekFrom::Start(at) => at,
            SeekFrom::End(offset) => self
                .len
                .unwrap_or(self.real_len)
                .checked_add_signed(offset)
                .ok_or_else(before)?,
            SeekFrom::Current(offset) => {
                let here = match self.beyond {
                    Some(at) => at,
                    None => self.inner.stream_position()?,
                };
                here.checked_add_signed(offset).ok_or_else(before)?
            }
        };
        if target > self.real_len {
            self.beyond = Some(target);
            return Ok(target);
        }
        self.beyond = None;
        self.inner.seek(SeekFrom::Start(target))
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for SeekableSource<R> {
    fn is_seekable(&self) -> bool {
        self.seekable
    }
    fn byte_len(&self) -> Option<u64> {
        self.len
    }
}

impl AudioReader {
    /// Opens the file at `path` and prepares to decode its audio track.
    ///
    /// # Errors
    /// - [`Error::Io`] when the file cannot be opened or is a directory;
    /// - [`Error::Malformed`] for an empty or damaged file, or a header with impossible values
    ///   (0 or more than [`MAX_CHANNELS`] channels, a rate of 0 or above [`MAX_SAMPLE_RATE_HZ`]);
    /// - [`Error::Unsupported`] for an unrecognised format, a file without an audio track, or a
    ///   codec that cannot be decoded here (the message names codec and container);
    /// - [`Error::Config`] when `options.track` names a stream that is not audio.
    pub fn open_path(path: impl AsRef<Path>, options: &DecodeOptions) -> Result<AudioReader> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(Error::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a directory, not a media file",
                ),
            ));
        }
        AudioReader::open(file, &path.display().to_string(), options)
    }

    /// Opens a seekable reader; `name` stands for the input in messages, and its extension (if
    /// any) helps to recognise the format.
    ///
    /// # Errors
    /// As [`AudioReader::open_path`].
    pub fn open<R>(mut reader: R, name: &str, options: &DecodeOptions) -> Result<AudioReader>
    where
        R: Read + Seek + Send + Sync + 'static,
    {
        if options.max_duration_s.is_nan() || options.max_duration_s <= 0.0 {
            return Err(Error::config(
                "max_duration_s",
                "must be a positive number of seconds",
            ));
        }
        let io_err = |e| Error::io(name, e);
        let len = reader.seek(SeekFrom::End(0)).map_err(io_err)?;
        if len == 0 {
            return Err(Error::malformed(name, "empty file"));
        }
        reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
        let mut prefix = [0u8; 8];
        let prefix_len = read_up_to(&mut reader, &mut prefix).map_err(io_err)?;
        reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
        // Container facts first: the edit list and codec delays symphonia does not apply. A format
        // the container reader does not know is not fatal here: symphonia may still decode it.
        let read_facts = container::read_facts(&mut reader, name);
        reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
        let facts = read_facts.as_ref().ok().cloned();
        if let Some(facts) = &facts {
            check_stated_parameters(facts, options.track, name)?;
        }

        let claimed = facts
            .as_ref()
            .and_then(|f| f.claimed_bytes)
            .filter(|&c| c > len);
        let source = SeekableSource {
            inner: reader,
            len: Some(claimed.unwrap_or(len)),
            real_len: len,
            beyond: None,
            seekable: claimed.is_none()
                || !facts
                    .as_ref()
                    .is_some_and(|f| matches!(f.format.as_str(), "matroska" | "webm")),
        };
        let mss = MediaSourceStream::new(Box::new(source), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = Path::new(name).extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| probe_error(e, read_facts, claimed, len, name, &prefix[..prefix_len]))?;
        AudioReader::from_format(format, name.to_string(), facts, options)
    }

    fn from_format(
        format: Box<dyn FormatReader>,
        name: String,
        facts: Option<ContainerFacts>,
        options: &DecodeOptions,
    ) -> Result<AudioReader> {
        let container_name = format.format_info().short_name.to_string();
        let tracks: Vec<TrackInfo> = format
            .tracks()
            .iter()
            .enumerate()
            .map(|(i, t)| track_info(i, t))
            .collect();
        let audio_indices: Vec<usize> = tracks
            .iter()
            .filter(|t| t.is_audio)
            .map(|t| t.index)
            .collect();
        let index = match options.track {
            None => *audio_indices.first().ok_or_else(|| {
                Error::unsupported(format!(
                    "{name}: no audio track in {container_name} ({} stream(s), none audio)",
                    tracks.len()
                ))
            })?,
            Some(i) if audio_indices.contains(&i) => i,
            Some(i) => {
                return Err(Error::config(
                    "track",
                    format!(
                        "stream {i} of {name} is not an audio stream; audio streams: {audio_indices:?}"
                    ),
                ));
            }
        };
        let track = &format.tracks()[index];
        let track_id = track.id;
        // Gaps are looked for where packet timestamps count samples and durations are exact: native
        // FLAC (frame headers number the samples) and Ogg (granule positions). Matroska blocks
        // carry millisecond timestamps and symphonia leaves their durations unset.
        let time_base = track
            .time_base
            .filter(|_| matches!(container_name.as_str(), "flac" | "ogg"))
            .map(|tb| (tb.numer.get(), tb.denom.get()));
        let params = match &track.codec_params {
            Some(CodecParameters::Audio(p)) => p.clone(),
            _ => {
                return Err(Error::malformed(
                    &name,
                    format!("stream {index} has no audio parameters"),
                ));
            }
        };
        let codec = codec_name(params.codec).unwrap_or_else(|| format!("{}", params.codec));
        let what = || format!("{name}: codec {codec} in {container_name}");
        let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
        if channels == 0 || channels > usize::from(MAX_CHANNELS) {
            return Err(Error::malformed(
                &name,
                format!(
                    "stream {index} declares {channels} channels (accepted: 1..={MAX_CHANNELS})"
                ),
            ));
        }
        let channels = channels as u16;
        let declared_rate = params.sample_rate.unwrap_or(0);
        let mut timeline = Timeline::default();
        let (decoder, sample_rate) = if params.codec == CODEC_ID_OPUS {
            let head = OpusHead::parse(params.extra_data.as_deref()).ok_or_else(|| {
                Error::malformed(&name, "opus stream without a valid OpusHead header")
            })?;
            timeline.skip_samples = u64::from(head.pre_skip);
            (
                TrackDecoder::Opus(Box::new(OpusTrack::new(&head, channels, &what)?)),
                OPUS_RATE_HZ,
            )
        } else {
            if declared_rate == 0 || declared_rate > MAX_SAMPLE_RATE_HZ {
                return Err(Error::malformed(
                    &name,
                    format!(
                        "stream {index} declares a sample rate of {declared_rate} Hz (accepted: 1..={MAX_SAMPLE_RATE_HZ})"
                    ),
                ));
            }
            let decoder = symphonia::default::get_codecs()
                .make_audio_decoder(&params, &Default::default())
                .map_err(|e| Error::unsupported(format!("{} ({e})", what())))?;
            (TrackDecoder::Symphonia(decoder), declared_rate)
        };
        let info = AudioInfo {
            codec,
            sample_rate,
            channels,
            track: index,
        };
        let max_samples = (options.max_duration_s * f64::from(sample_rate)).ceil() as u64;
        let mut reader = AudioReader {
            name,
            format,
            decoder,
            track_id,
            info,
            tracks,
            facts,
            timeline,
            raw_pos: 0,
            emitted: 0,
            max_samples,
            max_duration_s: options.max_duration_s,
            pending: Vec::new(),
            out: Vec::new(),
            scratch: Vec::new(),
            warnings: Vec::new(),
            damaged_packets: 0,
            first_damage_s: 0.0,
            good_packets: 0,
            unsupported: None,
            time_base,
            next_pts: None,
            gaps: 0,
            gaps_total_s: 0.0,
            first_gap_s: 0.0,
            non_finite_samples: 0,
            first_non_finite_s: 0.0,
            finished: false,
        };
        if let Some(facts) = reader.facts.clone() {
            apply_edit_list(
                &mut reader.timeline,
                &facts,
                index,
                sample_rate,
                &mut reader.warnings,
            );
            if params.codec == CODEC_ID_OPUS {
                apply_matroska_opus_trims(&mut reader.timeline, &facts, index);
            }
        }
        Ok(reader)
    }

    /// What is being decoded.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// All streams of the container, audio or not, in ffprobe's order.
    pub fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    /// The container facts read before decoding, where the container reader knows the format.
    pub fn container_facts(&self) -> Option<&ContainerFacts> {
        self.facts.as_ref()
    }

    /// Samples per channel handed out so far: the timeline position of the next block.
    pub fn position_samples(&self) -> u64 {
        self.emitted
    }

    /// Warnings so far (a truncated file, damaged packets replaced by silence, …).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Takes the warnings out of the reader.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// The next block of decoded samples, or `None` at the end of the track.
    ///
    /// Damage that leaves the rest decodable (a packet that fails to decode, a file cut short)
    /// does not end in an error: damaged packets become silence of their nominal length, a
    /// truncated file ends early, data the container reader skips (a jump in the packet
    /// timestamps of FLAC or Ogg) is missing, NaN and infinite samples become 0, and each leaves
    /// a warning.
    ///
    /// # Errors
    /// [`Error::Limit`] past the maximum duration; [`Error::Malformed`] when nothing at all
    /// could be decoded (no packet, or none of them decodes); [`Error::Unsupported`] when the
    /// first packets all need a feature the decoder lacks; [`Error::Io`] when reading fails for
    /// a reason other than the end of data.
    pub fn next_block(&mut self) -> Result<Option<AudioBlock<'_>>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            if self.decode_next_packet()? {
                break;
            }
        }
        Ok(Some(AudioBlock {
            start_samples: self.emitted - (self.out.len() / usize::from(self.info.channels)) as u64,
            channels: self.info.channels,
            samples: &self.out,
        }))
    }

    /// Reads and decodes one packet; true when it produced output in `self.out`.
    fn decode_next_packet(&mut self) -> Result<bool> {
        self.out.clear();
        let packet = match unpanicked(|| self.format.next_packet()) {
            Ok(Some(packet)) => packet,
            Ok(None) => return self.end(None),
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return self.end(Some(
                    "the file is truncated: decoding stopped where the data ends".into(),
                ));
            }
            Err(SymError::ResetRequired) => {
                return self.end(Some(
                    "the stream changes its parameters (a chained stream): decoding stopped there"
                        .into(),
                ));
            }
            Err(SymError::IoError(e)) if self.raw_pos == 0 => return Err(Error::io(&self.name, e)),
            Err(e) => {
                if self.raw_pos == 0 {
                    return Err(Error::malformed(
                        &self.name,
                        format!("no audio could be read: {e}"),
                    ));
                }
                return self.end(Some(format!(
                    "the container is damaged ({e}): decoding stopped there"
                )));
            }
        };
        if packet.track_id != self.track_id {
            return Ok(false);
        }
        self.note_gap(packet.pts.get(), packet.dur.get());
        if let Some(end) = self.timeline.edit_end_samples
            && self.raw_pos >= end
        {
            // ffmpeg drops whole packets past the edit; later packets are past it too.
            return self.end(None);
        }
        let channels = usize::from(self.info.channels);
        self.scratch.clear();
        let decoded = match &mut self.decoder {
            TrackDecoder::Symphonia(decoder) => match decoder.decode(&packet) {
                Ok(buf) => {
                    if buf.spec().channels().count() == channels {
                        buf.copy_to_vec_interleaved(&mut self.scratch);
                        true
                    } else {
                        false
                    }
                }
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => false,
                Err(e) => {
                    if self.good_packets == 0 {
                        self.unsupported.get_or_insert_with(|| e.to_string());
                        if self.damaged_packets + 1 >= MAX_LEADING_UNSUPPORTED_PACKETS {
                            return Err(self.undecodable());
                        }
                    }
                    false
                }
            },
            TrackDecoder::Opus(opus) => opus.decode(&packet.data, channels, &mut self.scratch),
        };
        if decoded {
            self.good_packets += 1;
            self.replace_non_finite();
        } else {
            // Keep the timeline: replace the packet by silence of its nominal length.
            let frames = packet.dur.get().min(u64::from(self.info.sample_rate)) as usize;
            self.scratch.clear();
            self.scratch.resize(frames * channels, 0.0);
            if self.damaged_packets == 0 {
                self.first_damage_s = self.emitted as f64 / f64::from(self.info.sample_rate);
            }
            self.damaged_packets += 1;
        }
        if decoded && matches!(self.decoder, TrackDecoder::Opus(_)) {
            // Symphonia's Ogg reader marks the end trim of the last page on its packet.
            let frames = self.scratch.len() / channels;
            let trim_end = (packet.trim_end.get() as usize).min(frames);
            self.scratch.truncate((frames - trim_end) * channels);
        }
        let frames = (self.scratch.len() / channels) as u64;
        let skip = self.timeline.skip_samples.min(frames);
        self.timeline.skip_samples -= skip;
        self.raw_pos += frames;
        let hold = self.timeline.end_trim_samples as usize * channels;
        if hold == 0 && skip == 0 {
            // The common case: the packet's samples are the block, without a copy.
            std::mem::swap(&mut self.out, &mut self.scratch);
        } else {
            self.pending
                .extend_from_slice(&self.scratch[skip as usize * channels..]);
            if self.pending.len() > hold {
                let ready = self.pending.len() - hold;
                self.out.extend(self.pending.drain(..ready));
            }
        }
        self.emitted += (self.out.len() / channels) as u64;
        if self.emitted > self.max_samples {
            return Err(Error::limit(
                format!("{}: decoded duration in seconds", self.name),
                self.max_duration_s as u64,
                self.emitted / u64::from(self.info.sample_rate),
            ));
        }
        Ok(!self.out.is_empty())
    }

    /// The error for a stream whose packets all fail with "unsupported feature".
    fn undecodable(&self) -> Error {
        Error::unsupported(format!(
            "{}: codec {} cannot be decoded here ({})",
            self.name,
            self.info.codec,
            self.unsupported.as_deref().unwrap_or("no packet decodes")
        ))
    }

    /// Notes a jump from the previous packet's end to this packet's timestamp `pts` (time-base
    /// units): the container reader skipped data it could not read. ffmpeg drops such data too,
    /// so the timeline follows the packets that are there; the jump only becomes a warning.
    fn note_gap(&mut self, pts: i64, dur: u64) {
        let Some((numer, denom)) = self.time_base else {
            return;
        };
        if let Some(expected) = self.next_pts {
            let jump = i128::from(pts) - i128::from(expected);
            let jump_s = jump as f64 * f64::from(numer) / f64::from(denom);
            if jump_s > GAP_TOLERANCE_S {
                if self.gaps == 0 {
                    self.first_gap_s = self.emitted as f64 / f64::from(self.info.sample_rate);
                }
                self.gaps += 1;
                self.gaps_total_s += jump_s;
            }
        }
        // A packet without a duration says nothing of where the next starts (a Vorbis stream's
        // first packet only primes the overlap, and symphonia gives it none).
        self.next_pts = i64::try_from(dur)
            .ok()
            .filter(|&d| d > 0)
            .and_then(|d| pts.checked_add(d));
    }

    /// Replaces NaN and infinite samples of the packet just decoded (float PCM can hold them) by
    /// 0: one NaN would otherwise spread through every spectrum, cue and score after it.
    fn replace_non_finite(&mut self) {
        let channels = usize::from(self.info.channels);
        for (i, sample) in self.scratch.iter_mut().enumerate() {
            if !sample.is_finite() {
                if self.non_finite_samples == 0 {
                    let at = self.raw_pos + (i / channels) as u64;
                    self.first_non_finite_s = at as f64 / f64::from(self.info.sample_rate);
                }
                self.non_finite_samples += 1;
                *sample = 0.0;
            }
        }
    }

    /// The duration the container states for the decoded track (or the file), in seconds.
    fn stated_duration_s(&self) -> Option<f64> {
        self.facts.as_ref()?.stated_duration_s(self.info.track)
    }

    /// Ends the stream, with a warning if it ended early; false (no output) always.
    fn end(&mut self, warning: Option<String>) -> Result<bool> {
        self.finished = true;
        if self.good_packets == 0 && self.unsupported.is_some() {
            return Err(self.undecodable());
        }
        if self.good_packets == 0 && self.damaged_packets > 0 {
            return Err(Error::malformed(
                &self.name,
                format!(
                    "none of the {} audio packets could be decoded",
                    self.damaged_packets
                ),
            ));
        }
        if self.gaps > 0 {
            self.warnings.push(format!(
                "{} gap(s) in the packet timestamps, {:.3} s in all, the first at {:.3} s: data is missing or damaged there",
                self.gaps, self.gaps_total_s, self.first_gap_s
            ));
        }
        if self.non_finite_samples > 0 {
            self.warnings.push(format!(
                "{} samples were NaN or infinite and are replaced by 0, the first at {:.3} s",
                self.non_finite_samples, self.first_non_finite_s
            ));
        }
        if self.damaged_packets > 0 {
            self.warnings.push(format!(
                "{} damaged packet(s) replaced by silence, the first at {:.3} s",
                self.damaged_packets, self.first_damage_s
            ));
        }
        let decoded_s = self.emitted as f64 / f64::from(self.info.sample_rate);
        if let Some(w) = warning {
            self.warnings
                .push(format!("{w} ({decoded_s:.3} s decoded)"));
        } else if let Some(stated_s) = self.stated_duration_s()
            && decoded_s
                < stated_s - SHORTFALL_TOLERANCE_S.max(stated_s * SHORTFALL_TOLERANCE_FRACTION)
        {
            self.warnings.push(format!(
                "decoding ended at {decoded_s:.3} s but the container states {stated_s:.3} s: the file is probably truncated"
            ));
        }
        if self.raw_pos == 0 && self.damaged_packets == 0 && !self.warnings.is_empty() {
            return Err(Error::malformed(&self.name, "no audio could be decoded"));
        }
        if self.emitted == 0 && self.warnings.is_empty() {
            self.warnings.push("the audio track is empty".into());
        }
        Ok(false)
    }
}

/// Refuses a file whose container states impossible parameters for the audio stream to be
/// decoded (`track`, else the first audio stream), before symphonia sizes anything by them:
/// symphonia 0.6's WAV reader multiplies the channel count by the sample width in 16 bits, which
/// overflows (a panic in debug builds) for a header claiming 65535 channels.
fn check_stated_parameters(facts: &ContainerFacts, track: Option<usize>, name: &str) -> Result<()> {
    let stream = facts
        .tracks
        .iter()
        .filter(|t| t.kind == container::TrackKind::Audio)
        .find(|t| track.is_none_or(|i| t.index == i));
    let Some(stream) = stream else {
        return Ok(());
    };
    if let Some(channels) = stream.channels.filter(|&c| c > MAX_CHANNELS) {
        return Err(Error::malformed(
            name,
            format!(
                "stream {} declares {channels} channels (accepted: 1..={MAX_CHANNELS})",
                stream.index
            ),
        ));
    }
    if let Some(rate) = stream.sample_rate.filter(|&r| r > MAX_SAMPLE_RATE_HZ) {
        return Err(Error::malformed(
            name,
            format!(
                "stream {} declares a sample rate of {rate} Hz (accepted: 1..={MAX_SAMPLE_RATE_HZ})",
                stream.index
            ),
        ));
    }
    Ok(())
}

/// The error for a file symphonia cannot open, told with what the container reader found: its
/// own error where it failed (it names the box or element and the byte offset), truncation where
/// the structure claims more bytes than the file holds, and "not a media file" only when neither
/// recognised the format.
fn probe_error(
    error: SymError,
    facts: Result<ContainerFacts>,
    claimed: Option<u64>,
    len: u64,
    name: &str,
    prefix: &[u8],
) -> Error {
    if let SymError::IoError(io) = &error
        && io.kind() != std::io::ErrorKind::UnexpectedEof
    {
        return Error::io(name, std::io::Error::new(io.kind(), io.to_string()));
    }
    match facts {
        Err(e @ (Error::Malformed { .. } | Error::Limit { .. })) => e,
        Ok(facts) if claimed.is_some() => Error::malformed(
            name,
            format!(
                "the file is truncated: its {} structure claims {} bytes, it holds {len} ({error})",
                facts.format,
                claimed.unwrap_or(len)
            ),
        ),
        Ok(facts) => {
            let stream = facts
                .tracks
                .iter()
                .find(|t| t.kind == container::TrackKind::Audio);
            let codec = stream
                .and_then(|t| t.codec.as_deref())
                .unwrap_or("unknown codec");
            match stream {
                Some(t) if t.channels.is_none() || t.sample_rate.is_none() => Error::malformed(
                    name,
                    format!(
                        "the {codec} stream in {} states no valid channel count or sample rate ({error})",
                        facts.format
                    ),
                ),
                None => Error::unsupported(format!(
                    "{name}: no audio track in {} ({} stream(s), none audio)",
                    facts.format,
                    facts.tracks.len()
                )),
                Some(_) => match error {
                    SymError::IoError(_) => {
                        Error::malformed(name, "the file ends before its header does (truncated?)")
                    }
                    SymError::Unsupported(_) => Error::unsupported(format!(
                        "{name}: codec {codec} in {} cannot be read here ({error})",
                        facts.format
                    )),
                    _ => Error::malformed(name, format!("cannot read the container: {error}")),
                },
            }
        }
        Err(_) => match error {
            SymError::IoError(_) => {
                Error::malformed(name, "the file ends before its header does (truncated?)")
            }
            SymError::Unsupported(_) => Error::unsupported(format!(
                "{name}: not a recognised audio or video container (starts with {})",
                hex_prefix(prefix)
            )),
            other => Error::malformed(name, format!("cannot read the container: {other}")),
        },
    }
}

/// Opus in Matroska/WebM: ffmpeg drops `CodecDelay` at the start (symphonia does not expose it;
/// it usually equals the OpusHead pre-skip) and the last block's `DiscardPadding` at the end.
fn apply_matroska_opus_trims(timeline: &mut Timeline, facts: &ContainerFacts, index: usize) {
    if !matches!(facts.format.as_str(), "matroska" | "webm") {
        return;
    }
    let Some(track) = facts.tracks.iter().find(|t| t.index == index) else {
        return;
    };
    if let Some(delay) = track.encoder_delay_samples {
        timeline.skip_samples = delay;
    }
    if let Some(padding) = track.padding_samples {
        // Never more than one Opus packet: a larger claim is damage, not padding.
        timeline.end_trim_samples = padding.min(OPUS_MAX_PACKET_SAMPLES as u64);
    }
}

/// Sets the timeline from the MP4/MOV edit list of stream `index`, as ffmpeg applies it.
fn apply_edit_list(
    timeline: &mut Timeline,
    facts: &ContainerFacts,
    index: usize,
    sample_rate: u32,
    warnings: &mut Vec<String>,
) {
    let Some(track) = facts.tracks.iter().find(|t| t.index == index) else {
        return;
    };
    let non_empty: Vec<_> = track
        .edit_list
        .iter()
        .filter(|e| e.media_time >= 0)
        .collect();
    let Some(edit) = non_empty.first() else {
        return;
    };
    let (Some(media_ts), Some(movie_ts)) = (track.timescale, track.movie_timescale) else {
        return;
    };
    if media_ts == 0 || movie_ts == 0 {
        return;
    }
    let to_samples = |t: u128, ts: u32| (t * u128::from(sample_rate) / u128::from(ts)) as u64;
    let start = to_samples(edit.media_time as u128, media_ts);
    let duration = to_samples(u128::from(edit.segment_duration), movie_ts);
    timeline.skip_samples = start;
    // A segment duration of 0 means "the rest of the media" in files written by some muxers.
    timeline.edit_end_samples = (edit.segment_duration > 0).then(|| start.saturating_add(duration));
    if non_empty.len() > 1 {
        warnings.push(format!(
            "the edit list of stream {index} has {} media edits; only the first is applied",
            non_empty.len()
        ));
    }
}

fn track_info(index: usize, track: &symphonia::core::formats::Track) -> TrackInfo {
    match &track.codec_params {
        Some(CodecParameters::Audio(p)) => TrackInfo {
            index,
            is_audio: true,
            codec: codec_name(p.codec),
            sample_rate: if p.codec == CODEC_ID_OPUS {
                Some(OPUS_RATE_HZ)
            } else {
                p.sample_rate
            },
            channels: p
                .channels
                .as_ref()
                .map(|c| c.count().min(usize::from(u16::MAX)) as u16),
        },
        _ => TrackInfo {
            index,
            is_audio: false,
            codec: None,
            sample_rate: None,
            channels: None,
        },
    }
}

/// ffprobe's `codec_name` for a symphonia codec id.
fn codec_name(id: AudioCodecId) -> Option<String> {
    let name = match id {
        CODEC_ID_AAC => "aac",
        CODEC_ID_MP3 => "mp3",
        CODEC_ID_MP2 => "mp2",
        CODEC_ID_MP1 => "mp1",
        CODEC_ID_OPUS => "opus",
        CODEC_ID_VORBIS => "vorbis",
        CODEC_ID_FLAC => "flac",
        CODEC_ID_ALAC => "alac",
        CODEC_ID_PCM_S16LE => "pcm_s16le",
        CODEC_ID_PCM_S16BE => "pcm_s16be",
        CODEC_ID_PCM_S24LE => "pcm_s24le",
        CODEC_ID_PCM_S24BE => "pcm_s24be",
        CODEC_ID_PCM_S32LE => "pcm_s32le",
        CODEC_ID_PCM_S32BE => "pcm_s32be",
        CODEC_ID_PCM_U8 => "pcm_u8",
        CODEC_ID_PCM_S8 => "pcm_s8",
        CODEC_ID_PCM_F32LE => "pcm_f32le",
        CODEC_ID_PCM_F32BE => "pcm_f32be",
        CODEC_ID_PCM_F64LE => "pcm_f64le",
        CODEC_ID_PCM_F64BE => "pcm_f64be",
        CODEC_ID_PCM_ALAW => "pcm_alaw",
        CODEC_ID_PCM_MULAW => "pcm_mulaw",
        CODEC_ID_ADPCM_MS => "adpcm_ms",
        CODEC_ID_ADPCM_IMA_WAV => "adpcm_ima_wav",
        CODEC_ID_ADPCM_IMA_QT => "adpcm_ima_qt",
        CODEC_ID_AC3 => "ac3",
        CODEC_ID_EAC3 => "eac3",
        CODEC_ID_WMA => "wmav2",
        CODEC_ID_SPEEX => "speex",
        CODEC_ID_WAVPACK => "wavpack",
        _ => return None,
    };
    Some(name.to_string())
}

/// File extensions of the audio and video containers this crate reads, lower case.
pub const MEDIA_EXTENSIONS: [&str; 19] = [
    "mp4", "m4a", "m4v", "mov", "3gp", "mp3", "wav", "wave", "flac", "ogg", "oga", "opus", "mkv",
    "mka", "webm", "aac", "aif", "aiff", "caf",
];

/// Runs a call into symphonia's demuxer, a panic in it becoming a decode error (handled as
/// damage, like any other). Symphonia has panicked on damaged input: the isomp4 demuxer's sum of
/// `stts` sample counts overflows a u32 in debug builds (found by fuzz/, target decode_analyze;
/// testdata/fuzz/decode_analyze/). The library must not panic, whatever the dependency does.
fn unpanicked<T>(
    call: impl FnOnce() -> symphonia::core::errors::Result<T>,
) -> symphonia::core::errors::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or_else(|_| {
        Err(SymError::DecodeError(
            "the demuxer panicked on damaged data",
        ))
    })
}

/// True when `path`'s extension (any case) is one of [`MEDIA_EXTENSIONS`].
pub fn is_media_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The media files below `dir` (by extension, following symbolic links), in sorted path order.
///
/// # Errors
/// [`Error::Io`] naming the first directory that cannot be read.
pub fn media_files_in(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    // A bound on directories visited, against symbolic-link loops.
    let mut budget = 1_000_000usize;
    while let Some(d) = pending.pop() {
        budget = budget.checked_sub(1).ok_or_else(|| {
            Error::limit(
                format!("{}: directories walked", dir.display()),
                1_000_000,
                1_000_001,
            )
        })?;
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let path = entry.map_err(|e| Error::io(&d, e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() && is_media_path(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The fields of an Ogg Opus identification header that decoding needs (RFC 7845 §5.1).
struct OpusHead {
    channels: u8,
    pre_skip: u16,
    output_gain_q8: i16,
    mapping_family: u8,
}

impl OpusHead {
    fn parse(data: Option<&[u8]>) -> Option<OpusHead> {
        let d = data?;
        // "OpusHead", version, channel count, pre-skip (LE), input rate, output gain, family.
        if d.len() < 19 || &d[..8] != b"OpusHead" {
            return None;
        }
        Some(OpusHead {
            channels: d[9],
            pre_skip: u16::from_le_bytes([d[10], d[11]]),
            output_gain_q8: i16::from_le_bytes([d[16], d[17]]),
            mapping_family: d[18],
        })
    }
}

impl OpusTrack {
    fn new(head: &OpusHead, channels: u16, what: &dyn Fn() -> String) -> Result<OpusTrack> {
        let layout = match (head.mapping_family, head.channels) {
            (0 | 1, 1) => ropus::Channels::Mono,
            (0 | 1, 2) => ropus::Channels::Stereo,
            (family, n) => {
                return Err(Error::unsupported(format!(
                    "{} (channel mapping family {family} with {n} channels; mono and stereo are supported)",
                    what()
                )));
            }
        };
        if usize::from(channels) != layout.count() {
            return Err(Error::unsupported(format!(
                "{} (the container says {channels} channels, the OpusHead {})",
                what(),
                layout.count()
            )));
        }
        let mut decoder = ropus::Decoder::new(OPUS_RATE_HZ, layout)
            .map_err(|e| Error::unsupported(format!("{} ({e:?})", what())))?;
        if head.output_gain_q8 != 0 {
            // RFC 7845 §5.1: players must apply the output gain; ffmpeg does.
            decoder
                .set_gain(i32::from(head.output_gain_q8))
                .map_err(|e| Error::unsupported(format!("{} (output gain: {e:?})", what())))?;
        }
        Ok(OpusTrack { decoder })
    }

    /// Decodes one packet, appending interleaved samples to `out`; false when it is damaged.
    fn decode(&mut self, packet: &[u8], channels: usize, out: &mut Vec<f32>) -> bool {
        let start = out.len();
        out.resize(start + OPUS_MAX_PACKET_SAMPLES * channels, 0.0);
        match self
            .decoder
            .decode_float(packet, &mut out[start..], ropus::DecodeMode::Normal)
        {
            Ok(frames) => {
                out.truncate(start + frames * channels);
                true
            }
            Err(_) => {
                out.truncate(start);
                false
            }
        }
    }
}

/// Reads until `buf` is full or the data ends; the count read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn hex_prefix(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "unknown bytes".into();
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_head_parse_reads_pre_skip_and_gain() {
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0x00, 0x01, 0]);
        let parsed = OpusHead::parse(Some(&head)).expect("valid head");
        assert_eq!(parsed.channels, 2);
        assert_eq!(parsed.pre_skip, 312);
        assert_eq!(parsed.output_gain_q8, 256);
        assert_eq!(parsed.mapping_family, 0);
    }

    #[test]
    fn opus_head_parse_short_or_wrong_magic_is_none() {
        assert!(OpusHead::parse(Some(b"OpusHead")).is_none());
        assert!(OpusHead::parse(Some(&[0u8; 19])).is_none());
        assert!(OpusHead::parse(None).is_none());
    }

    #[test]
    fn audio_from_interleaved_bad_channels_is_config_error() {
        assert!(matches!(
            Audio::from_interleaved(vec![0.0; 4], 16_000, 0),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            Audio::from_interleaved(vec![0.0; 3], 16_000, 2),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            Audio::from_interleaved(vec![0.0; 4], 0, 1),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn audio_channel_and_mono_deinterleave() {
        let audio = Audio::from_interleaved(vec![1.0, 3.0, 2.0, 4.0], 8000, 2).expect("valid");
        assert_eq!(audio.channel(0), vec![1.0, 2.0]);
        assert_eq!(audio.channel(1), vec![3.0, 4.0]);
        assert_eq!(audio.to_mono(), vec![2.0, 3.0]);
        assert_eq!(audio.frames(), 2);
    }
}
