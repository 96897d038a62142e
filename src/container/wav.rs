//! Placeholder: this format's header reader follows in a later commit.
#![forbid(unsafe_code)]

use std::io::{Read, Seek};

use super::ContainerFacts;
use super::source::Source;
use crate::error::{Error, Result};

/// Not read yet: always [`Error::Unsupported`].
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>) -> Result<ContainerFacts> {
    Err(Error::unsupported(format!(
        "{}: wav facts are not read yet",
        src.name
    )))
}
