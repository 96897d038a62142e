//! Placeholder: the ID3v2 reader follows in a later commit.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::Source;
use super::{Tag, TrackFacts};
use crate::error::Result;

/// Not read yet: no tag.
pub(super) fn read_all<R: Read + Seek>(
    _src: &mut Source<R>,
) -> Result<(u64, Vec<Tag>, Vec<TrackFacts>)> {
    Ok((0, Vec::new(), Vec::new()))
}

/// Not read yet.
pub(super) fn encoder(_tags: &[Tag]) -> Option<String> {
    None
}
