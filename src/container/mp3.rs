//! Placeholder: the MP3 reader follows in a later commit.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::source::Source;
use super::{ContainerFacts, Tag};
use crate::error::Result;

/// Not read yet: never recognises a file.
pub(super) fn read<R: Read + Seek>(
    _src: &mut Source<R>,
    _start: u64,
    _tags: &[Tag],
) -> Result<Option<ContainerFacts>> {
    Ok(None)
}
