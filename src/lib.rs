//! clip-provenance: was this clip assembled from older audio?
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod container;
mod error;
mod render;
mod spectrogram;

pub use container::{
    ContainerFacts, Edit, Tag, TrackFacts, TrackKind, read_facts, read_facts_path,
};
pub use error::{Error, Result};
