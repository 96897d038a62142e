//! clip-provenance: was this clip assembled from older audio?
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod container;
mod error;
mod render;
mod spectrogram;

pub use error::{Error, Result};
pub use render::{
    Band, ColorMap, Layout, Marker, Picture, PixelRect, Pooling, RenderOptions, Track, write_png,
};
pub use spectrogram::{Spectrogram, SpectrogramConfig, SpectrogramStream, Window};
