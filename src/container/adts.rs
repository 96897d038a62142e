//! Placeholder: the ADTS reader follows in a later commit.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::ContainerFacts;
use super::source::Source;
use crate::error::Result;

/// Not read yet: never recognises a file.
pub(super) fn read<R: Read + Seek>(
    _src: &mut Source<R>,
    _start: u64,
) -> Result<Option<ContainerFacts>> {
    Ok(None)
}
