//! The measurements behind the cues' constants, on the project's shared corpus. Ignored by
//! default (they need the shared corpus, `../shared/corpus` or `$CLIP_PROVENANCE_CORPUS`, which is
//! not part of the crate); run with
//!
//! ```text
//! cargo test --release --test cues_tuning -- --ignored --nocapture
//! ```
//!
//! Tuning speakers only: LibriSpeech readers with IDs below 500. The committed tests in
//! `tests/cues.rs` use other readers, so the cues are not graded on the recordings that set them.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use clip_provenance::{
    ChannelCue, CueTrack, DecodeOptions, MonoResampler, NoiseFloorCue, ReverbCue, Spectrogram,
    SpectrogramConfig, SpectrogramCue, decode_path,
};

const RATE_HZ: u32 = 16_000;

/// The corpus's speech folder: `$CLIP_PROVENANCE_CORPUS/speech`, or `../shared/corpus/speech` from
/// the project root (or from one level up, for a git worktree under a folder of worktrees).
fn corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("CLIP_PROVENANCE_CORPUS").map(PathBuf::from),
        Some(root.join("../shared/corpus")),
        Some(root.join("../../shared/corpus")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|dir| dir.join("speech"))
        .find(|dir| dir.is_dir())
}

/// The tuning speakers' utterances, at 16 kHz, in name order.
fn tuning_clips(dir: &Path) -> Vec<(String, Vec<f32>)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("corpus readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("librispeech_") && n.ends_with("-0000.flac"))
        .filter(|n| {
            n["librispeech_".len()..]
                .split('-')
                .next()
                .and_then(|id| id.parse::<u32>().ok())
                .is_some_and(|id| id < 500)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let audio = decode_path(dir.join(&name), &DecodeOptions::default()).expect("decodes");
            let mut resampler = MonoResampler::new(audio.info.sample_rate, RATE_HZ).expect("ok");
            let mut samples = Vec::new();
            resampler.push(&audio.to_mono(), &mut samples);
            resampler.finish(&mut samples);
            (name, samples)
        })
        .collect()
}

fn tracks(samples: &[f32]) -> [CueTrack; 3] {
    let config = SpectrogramConfig::default();
    let spectrogram = Spectrogram::compute(samples, RATE_HZ, &config).expect("computes");
    let run = |mut cue: Box<dyn SpectrogramCue>| {
        cue.push(&spectrogram).expect("fits");
        cue.finish()
    };
    [
        run(Box::new(NoiseFloorCue::new(RATE_HZ, &config).expect("ok"))),
        run(Box::new(ChannelCue::new(RATE_HZ, &config).expect("ok"))),
        run(Box::new(ReverbCue::new(RATE_HZ, &config).expect("ok"))),
    ]
}

fn weighted_max(track: &CueTrack, from_s: f64, to_s: f64) -> f32 {
    (0..track.len())
        .filter(|&i| (from_s..=to_s).contains(&track.time_s(i)))
        .map(|i| track.values[i] * track.confidence[i])
        .fold(0.0, f32::max)
}

/// Unedited utterances against joints of consecutive utterances (6 s of one, up to 6 s of the
/// next, the cut point varied): the largest confidence-weighted value of each unedited clip,
/// and of each joined clip within 1 s of the joint. Prints, per spectrogram cue, the spread and
/// how many joints score above every unedited clip.
#[test]
#[ignore = "needs ../shared/corpus; a measurement, not a check"]
fn tuning_spectrogram_cues_joints_against_unedited_speech() {
    let Some(dir) = corpus() else {
        eprintln!("no corpus at ../shared/corpus: nothing measured");
        return;
    };
    let clips = tuning_clips(&dir);
    let names = ["noise_floor", "channel", "reverb"];
    let mut unedited = vec![Vec::new(); 3];
    let mut joints = vec![Vec::new(); 3];
    for (_, samples) in &clips {
        for (k, track) in tracks(samples).iter().enumerate() {
            unedited[k].push(weighted_max(track, 0.0, f64::INFINITY));
        }
    }
    for i in 0..clips.len() {
        let (a, b) = (&clips[i].1, &clips[(i + 1) % clips.len()].1);
        let cut = (6 * RATE_HZ as usize).min(a.len()) - 1234 * (i % 7);
        let mut joined = a[..cut].to_vec();
        joined.extend_from_slice(&b[..b.len().min(6 * RATE_HZ as usize)]);
        let joint_s = cut as f64 / f64::from(RATE_HZ);
        for (k, track) in tracks(&joined).iter().enumerate() {
            joints[k].push(weighted_max(track, joint_s - 1.0, joint_s + 1.0));
        }
    }
    for k in 0..3 {
        let mut u = unedited[k].clone();
        u.sort_by(f32::total_cmp);
        let mut j = joints[k].clone();
        j.sort_by(f32::total_cmp);
        let top = u[u.len() - 1];
        println!(
            "{}: unedited median {:.2}, p90 {:.2}, max {:.2} | joints median {:.2} | joints above \
             every unedited clip: {}/{}",
            names[k],
            u[u.len() / 2],
            u[u.len() * 9 / 10],
            top,
            j[j.len() / 2],
            j.iter().filter(|&&v| v > top).count(),
            j.len()
        );
    }
}
