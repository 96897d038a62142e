//! Placeholder: the FLAC reader follows in a later commit.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::Source;
use super::{ContainerFacts, Tag};
use crate::error::{Error, Result};

/// The FLAC STREAMINFO fields used elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamInfo {
    /// Hz.
    pub(crate) sample_rate: u32,
    /// Channel count.
    pub(crate) channels: u8,
    /// Bits per sample.
    pub(crate) bits_per_sample: u8,
    /// Samples per channel, 0 when unknown.
    pub(crate) total_samples: u64,
}

/// Not parsed yet.
pub(crate) fn parse_streaminfo(_data: &[u8]) -> Option<StreamInfo> {
    None
}

/// Not read yet: always [`Error::Unsupported`].
pub(super) fn read<R: Read + Seek>(
    src: &mut Source<R>,
    _start: u64,
    _tags: Vec<Tag>,
) -> Result<ContainerFacts> {
    Err(Error::unsupported(format!(
        "{}: flac facts are not read yet",
        src.name
    )))
}
