//! Decodes a clip's audio track as the analysis pipeline does, and says what came out.
//!
//! ```text
//! cargo run --release --example decode -- [--track N] [--rate HZ] [--f32le FILE] CLIP
//! ```
//! Without `--rate`, the samples are the native decode on ffmpeg's timeline (all channels,
//! interleaved), directly comparable with `ffmpeg -i CLIP -map 0:a:0 -f f32le -`; with `--rate`,
//! the mono analysis signal at that rate. `--f32le FILE` writes the samples as raw little-endian
//! f32 (`-` for stdout). Exit status: 0 on success, 1 on a decode error, 2 on a usage error.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use clip_provenance::{AnalysisStream, AudioReader, DecodeOptions};

#[derive(Parser)]
#[command(about = "Decode a clip's audio track onto ffmpeg's timeline")]
struct Args {
    /// The audio stream, by its 0-based index among all streams (as ffprobe counts them).
    #[arg(long)]
    track: Option<usize>,
    /// Mix to mono and resample to this analysis rate in Hz.
    #[arg(long)]
    rate: Option<u32>,
    /// Write the samples as raw little-endian f32 to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    f32le: Option<PathBuf>,
    /// The clip.
    clip: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", args.clip.display());
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let options = DecodeOptions {
        track: args.track,
        ..DecodeOptions::default()
    };
    let reader = AudioReader::open_path(&args.clip, &options)?;
    let info = reader.info().clone();
    let mut sink: Option<Box<dyn Write>> = match &args.f32le {
        None => None,
        Some(p) if p.as_os_str() == "-" => {
            Some(Box::new(std::io::BufWriter::new(std::io::stdout().lock())))
        }
        Some(p) => Some(Box::new(std::io::BufWriter::new(std::fs::File::create(p)?))),
    };
    let mut write = |samples: &[f32]| -> std::io::Result<()> {
        if let Some(w) = sink.as_mut() {
            for s in samples {
                w.write_all(&s.to_le_bytes())?;
            }
        }
        Ok(())
    };
    let (frames, rate, warnings) = match args.rate {
        None => {
            let mut reader = reader;
            let mut frames = 0u64;
            while let Some(block) = reader.next_block()? {
                frames += block.frames() as u64;
                write(block.samples)?;
            }
            (frames, info.sample_rate, reader.take_warnings())
        }
        Some(rate) => {
            let mut stream = AnalysisStream::new(reader, rate)?;
            let mut frames = 0u64;
            while let Some(block) = stream.next_block()? {
                frames += block.len() as u64;
                write(block)?;
            }
            (frames, rate, stream.take_warnings())
        }
    };
    if let Some(w) = sink.as_mut() {
        w.flush()?;
    }
    eprintln!(
        "codec={} track={} native_rate={} channels={} rate={} samples={} duration_s={:.6}",
        info.codec,
        info.track,
        info.sample_rate,
        info.channels,
        rate,
        frames,
        frames as f64 / f64::from(rate)
    );
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}
