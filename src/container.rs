//! TEMPORARY shim with the contract types; replaced by the container branch at merge.
#![allow(missing_docs, dead_code)]
use crate::Result;
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContainerFacts {
    pub format: String,
    pub brand: Option<String>,
    pub encoder: Option<String>,
    pub creation_time: Option<String>,
    pub modification_time: Option<String>,
    pub tracks: Vec<TrackFacts>,
    pub notes: Vec<String>,
}
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrackFacts {
    pub index: usize,
    pub codec: Option<String>,
    pub timescale: Option<u32>,
    pub edit_list: Vec<Edit>,
    pub movie_timescale: Option<u32>,
}
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Edit {
    pub segment_duration: u64,
    pub media_time: i64,
    pub media_rate: f64,
}
pub fn read_facts<R: std::io::Read + std::io::Seek>(
    _reader: R,
    name: &str,
) -> Result<ContainerFacts> {
    Err(crate::Error::unsupported(format!("{name}: shim")))
}
