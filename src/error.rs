//! The crate's one error type.
//!
//! Variants are split by what the caller can do about the failure (as Symphonia's
//! `symphonia-core/src/errors.rs` splits them): fix the path or permissions ([`Error::Io`]), give up
//! on a damaged file ([`Error::Malformed`]), convert the file first ([`Error::Unsupported`]), raise
//! a limit or cut the input ([`Error::Limit`]), or fix a setting ([`Error::Config`]).
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
///
/// Messages are lower case, name the file where one is known and, where known, the byte offset or
/// time of the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed at the operating-system level: the path does not exist,
    /// permissions, a full disk, a directory where a file was expected.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory the operation was on.
        path: PathBuf,
        /// The error the operating system gave.
        #[source]
        source: std::io::Error,
    },
    /// The input is damaged or is not what its name says: a header that contradicts itself, a box
    /// that runs past the end of the file, a stream that no decoder can make sense of.
    #[error("{what}: {detail}")]
    Malformed {
        /// The file (or component and box) that is malformed, e.g. `clip.mp4 (elst)`.
        what: String,
        /// What is wrong with it, with the byte offset or time where known.
        detail: String,
    },
    /// The input is valid but uses something this crate cannot handle: a codec without a decoder
    /// here, a container that is not supported, a file without an audio track.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is unsupported, naming codec and container, e.g. `clip.mkv: codec ac3 in matroska`.
        what: String,
    },
    /// A resource limit was reached: the decoded duration, a count in a header past what this crate
    /// accepts, the analysis time. Raising the limit in the configuration may help.
    #[error("limit reached: {what} ({actual} > {limit})")]
    Limit {
        /// The limit that was reached, with the file, e.g. `clip.wav: decoded duration in seconds`.
        what: String,
        /// The configured or built-in limit.
        limit: u64,
        /// The value that was found or requested.
        actual: u64,
    },
    /// A configuration value is out of its range or inconsistent with another.
    #[error("invalid configuration: {field}: {detail}")]
    Config {
        /// The configuration field, e.g. `spectrogram.hop_samples`.
        field: String,
        /// What is wrong with it.
        detail: String,
    },
    /// An archive index is unusable: damaged (a checksum does not match, a file is truncated),
    /// written by a newer format version, built with other fingerprint settings, or asked for a
    /// reference it does not hold.
    #[error("index {}: {detail}", path.display())]
    Index {
        /// The index directory or the file inside it.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Writing an image failed (encoding a PNG).
    #[error("{}: cannot write image: {source}", path.display())]
    Image {
        /// The file being written.
        path: PathBuf,
        /// The error the image encoder gave.
        #[source]
        source: image::ImageError,
    },
    /// Writing or reading JSON failed (a report or a configuration file).
    #[error("{}: {source}", path.display())]
    Json {
        /// The file being written or read.
        path: PathBuf,
        /// The error serde_json gave.
        #[source]
        source: serde_json::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Malformed`] for `what`.
    pub(crate) fn malformed(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Malformed {
            what: what.into(),
            detail: detail.into(),
        }
    }

    /// An [`Error::Unsupported`] for `what`.
    pub(crate) fn unsupported(what: impl Into<String>) -> Self {
        Error::Unsupported { what: what.into() }
    }

    /// An [`Error::Limit`] for `what`.
    pub(crate) fn limit(what: impl Into<String>, limit: u64, actual: u64) -> Self {
        Error::Limit {
            what: what.into(),
            limit,
            actual,
        }
    }

    /// An [`Error::Config`] for `field`.
    pub(crate) fn config(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Config {
            field: field.into(),
            detail: detail.into(),
        }
    }

    /// An [`Error::Index`] for `path`.
    pub(crate) fn index(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Error::Index {
            path: path.into(),
            detail: detail.into(),
        }
    }

    /// True when the input itself is at fault (damaged, or not media at all), as opposed to the
    /// environment (I/O) or this crate's abilities (unsupported).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Malformed { .. } | Error::Limit { .. })
    }
}
