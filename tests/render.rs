//! Pictures: size, where a tone lands, the layers, and writing PNG files safely.
#![forbid(unsafe_code)]

use std::f64::consts::PI;
use std::path::PathBuf;

use clip_provenance::{
    Band, Error, Marker, Picture, RenderOptions, Spectrogram, SpectrogramConfig, SpectrogramStream,
    Track, write_png,
};
use image::RgbImage;
use ndarray::Array2;

const RATE_HZ: u32 = 16_000;

/// `seconds` of a sine at `frequency_hz` over faint broadband noise (fixed-seed xorshift).
fn tone_over_noise(frequency_hz: f64, seconds: f64) -> Vec<f32> {
    let mut state = 0x0123_4567_89AB_CDEF_u64;
    (0..(seconds * f64::from(RATE_HZ)) as usize)
        .map(|n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
            let t = n as f64 / f64::from(RATE_HZ);
            (0.5 * (2.0 * PI * frequency_hz * t).sin() + 0.001 * noise) as f32
        })
        .collect()
}

fn picture_of(signal: &[f32]) -> Picture {
    let config = SpectrogramConfig::default();
    let spectrogram = Spectrogram::compute(signal, RATE_HZ, &config).unwrap();
    Picture::from_spectrogram(&spectrogram, Picture::DEFAULT_MAX_COLUMNS).unwrap()
}

fn brightness(image: &RgbImage, x: u32, y: u32) -> u32 {
    image.get_pixel(x, y).0.iter().map(|&c| u32::from(c)).sum()
}

/// A fresh, empty directory under the system's temporary directory.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clip-provenance-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn render_ten_second_clip_has_layout_size() {
    let picture = picture_of(&tone_over_noise(1000.0, 10.0));
    // 1250 frames fit 1600 columns at one frame per column.
    assert_eq!(picture.columns(), 1250);
    assert_eq!(picture.frames_per_column(), 1);
    assert_eq!(picture.duration_s(), 10.0);
    let options = RenderOptions::default();
    let layout = picture.layout(&options).unwrap();
    let image = picture.render(&options).unwrap();
    assert_eq!(image.dimensions(), (layout.width_px, layout.height_px));
    assert_eq!(layout.spectrogram.width, 1250);
    assert_eq!(layout.spectrogram.height, options.spectrogram_height_px);
    assert!(layout.width_px > 1250 && layout.width_px < 1400);
    assert!(layout.height_px > 320 && layout.height_px < 420);
}

#[test]
fn render_short_clip_is_stretched_to_min_width() {
    let picture = picture_of(&tone_over_noise(1000.0, 1.0));
    assert_eq!(picture.columns(), 125);
    let layout = picture.layout(&RenderOptions::default()).unwrap();
    assert_eq!(layout.spectrogram.width, 800);
}

#[test]
fn render_tone_gives_bright_row_at_its_frequency() {
    for frequency_hz in [500.0, 2000.0, 6000.0] {
        let picture = picture_of(&tone_over_noise(frequency_hz, 3.0));
        let options = RenderOptions::default();
        let layout = picture.layout(&options).unwrap();
        let image = picture.render(&options).unwrap();
        let plot = layout.spectrogram;
        let expected_y = layout.y_of_hz(frequency_hz);
        for x in [plot.x + plot.width / 4, plot.x + plot.width / 2] {
            let brightest_y = (plot.y..plot.y + plot.height)
                .max_by_key(|&y| brightness(&image, x, y))
                .unwrap();
            assert!(
                (f64::from(brightest_y) - expected_y).abs() <= 1.5,
                "{frequency_hz} Hz: brightest row {brightest_y}, expected {expected_y:.1}"
            );
        }
        // Far from the tone, only the faint noise: dark.
        let x = plot.x + plot.width / 2;
        let quiet_y = layout.y_of_hz(if frequency_hz < 4000.0 {
            7000.0
        } else {
            1000.0
        });
        assert!(brightness(&image, x, quiet_y as u32) < 200);
    }
}

#[test]
fn render_two_hour_stream_fits_max_columns() {
    // Two hours at 1 kHz, 16-sample frames: 450 000 frames pushed in blocks, never held whole.
    let config = SpectrogramConfig {
        window_samples: 16,
        hop_samples: 16,
        ..SpectrogramConfig::default()
    };
    let sample_rate = 1000;
    let mut picture = Picture::new(sample_rate, &config, Picture::DEFAULT_MAX_COLUMNS).unwrap();
    let total_frames = 2 * 3600 * 1000 / 16;
    let block_frames = 10_000;
    for first_frame in (0..total_frames).step_by(block_frames) {
        let frames = block_frames.min(total_frames - first_frame);
        let block = Spectrogram {
            sample_rate,
            config,
            first_frame: first_frame as u64,
            data: Array2::from_elem((frames, config.bins()), -30.0),
        };
        picture.push(&block).unwrap();
    }
    assert_eq!(picture.duration_s(), 7200.0);
    assert!(picture.columns() > 800 && picture.columns() <= 1600);
    let options = RenderOptions::default();
    let image = picture.render(&options).unwrap();
    let layout = picture.layout(&options).unwrap();
    assert_eq!(image.dimensions(), (layout.width_px, layout.height_px));
    assert_eq!(layout.spectrogram.width as usize, picture.columns());
}

#[test]
fn render_picture_from_stream_equals_picture_from_whole() {
    let signal = tone_over_noise(3000.0, 5.0);
    let whole = picture_of(&signal);
    let config = SpectrogramConfig::default();
    let mut picture = Picture::new(RATE_HZ, &config, Picture::DEFAULT_MAX_COLUMNS).unwrap();
    let mut stream = SpectrogramStream::new(RATE_HZ, &config, 100).unwrap();
    for chunk in signal.chunks(3333) {
        stream.push(chunk, |block| picture.push(block)).unwrap();
    }
    stream.finish(|block| picture.push(block)).unwrap();
    let options = RenderOptions::default();
    assert_eq!(
        picture.render(&options).unwrap(),
        whole.render(&options).unwrap()
    );
}

#[test]
fn render_layers_draw_markers_bands_and_tracks() {
    let picture = picture_of(&tone_over_noise(1000.0, 10.0));
    let options = RenderOptions {
        title: Some("clip.wav".into()),
        markers: vec![Marker {
            time_s: 4.0,
            label: "0.93".into(),
            strength: 0.93,
        }],
        bands: vec![
            Band {
                start_s: 0.0,
                end_s: 4.0,
                label: "speech-2019-05-01.mp3".into(),
            },
            Band {
                start_s: 3.0,
                end_s: 10.0,
                label: "interview.wav".into(),
            },
        ],
        tracks: vec![Track {
            name: "noise_floor".into(),
            start_s: 0.0,
            step_s: 0.008,
            values: (0..1250).map(|i| if i < 500 { 0.2 } else { 0.8 }).collect(),
            threshold: Some(0.5),
        }],
        ..RenderOptions::default()
    };
    let layout = picture.layout(&options).unwrap();
    let image = picture.render(&options).unwrap();
    assert_eq!(image.dimensions(), (layout.width_px, layout.height_px));
    // Overlapping bands take two lanes.
    let bands = layout.bands.unwrap();
    assert!(bands.height >= 2 * 8);
    // The marker: a green line through the spectrogram and the track at x(4 s).
    let x = layout.x_of_time_s(4.0).round() as u32;
    let plot = layout.spectrogram;
    for y in [
        plot.y + 10,
        plot.y + plot.height / 2,
        layout.tracks[0].y + 5,
    ] {
        let [r, g, b] = image.get_pixel(x, y).0;
        assert!(g > 150 && r < 60 && b < 140, "({x}, {y}): {r} {g} {b}");
    }
    // The track: its line at 0.2 before 4 s and at 0.8 after.
    let track = layout.tracks[0];
    let y_of = |value: f64| track.y + ((1.0 - value) * f64::from(track.height - 1)).round() as u32;
    let blue = |x: u32, y: u32| {
        let [r, g, b] = image.get_pixel(x, y).0;
        b > 150 && r < 80 && g < 160
    };
    let early = layout.x_of_time_s(2.0).round() as u32;
    let late = layout.x_of_time_s(7.0).round() as u32;
    assert!(blue(early, y_of(0.2)));
    assert!(blue(late, y_of(0.8)));
    // The bands: coloured, not background, inside their lanes.
    let band_x = layout.x_of_time_s(1.0).round() as u32;
    assert_ne!(image.get_pixel(band_x, bands.y + 2).0, [255, 255, 255]);
}

#[test]
fn render_bad_option_is_config_error() {
    let picture = picture_of(&tone_over_noise(1000.0, 1.0));
    for options in [
        RenderOptions {
            spectrogram_height_px: 0,
            ..RenderOptions::default()
        },
        RenderOptions {
            dynamic_range_db: f32::NAN,
            ..RenderOptions::default()
        },
        RenderOptions {
            min_plot_width_px: u32::MAX,
            ..RenderOptions::default()
        },
    ] {
        assert!(matches!(
            picture.render(&options),
            Err(Error::Config { .. })
        ));
    }
}

#[test]
fn render_empty_picture_still_draws_axes() {
    let config = SpectrogramConfig::default();
    let picture = Picture::new(RATE_HZ, &config, 1600).unwrap();
    let image = picture.render(&RenderOptions::default()).unwrap();
    assert!(image.width() >= 800);
}

/// The names of the entries of `dir`.
fn names_in(dir: &std::path::Path) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect()
}

#[test]
fn write_png_round_trips_and_leaves_no_temporary_file() {
    let dir = scratch_dir("png");
    let picture = picture_of(&tone_over_noise(1000.0, 2.0));
    let image = picture.render(&RenderOptions::default()).unwrap();
    let path = dir.join("clip.png");
    std::fs::write(&path, b"old contents").unwrap();
    write_png(&image, &path).unwrap();
    let decoded = image::open(&path).unwrap().to_rgb8();
    assert_eq!(decoded, image);
    assert_eq!(names_in(&dir), vec![std::ffi::OsString::from("clip.png")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_png_into_missing_directory_is_io_error_naming_path() {
    let dir = scratch_dir("missing");
    let path = dir.join("no-such-directory").join("clip.png");
    let image = RgbImage::new(4, 4);
    match write_png(&image, &path) {
        Err(Error::Io { path: named, .. }) => assert_eq!(named, path),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_png_to_device_writes_directly_without_renaming() {
    let image = RgbImage::new(4, 4);
    write_png(&image, "/dev/null").unwrap();
    let metadata = std::fs::metadata("/dev/null").unwrap();
    assert!(
        !metadata.is_file(),
        "/dev/null was replaced by a regular file"
    );
}

#[test]
fn write_png_to_directory_is_io_error() {
    let dir = scratch_dir("dir-target");
    let image = RgbImage::new(4, 4);
    assert!(matches!(write_png(&image, &dir), Err(Error::Io { .. })));
    assert!(dir.is_dir());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn write_png_through_symlink_replaces_target_and_keeps_link() {
    let dir = scratch_dir("symlink");
    let target = dir.join("real.png");
    let link = dir.join("link.png");
    std::fs::write(&target, b"old contents").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let image = RgbImage::from_pixel(3, 2, image::Rgb([10, 20, 30]));
    write_png(&image, &link).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(image::open(&target).unwrap().to_rgb8(), image);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_png_that_fails_to_encode_leaves_an_existing_target_untouched() {
    // The PNG encoder refuses a 0 x 0 image half-way through (the png crate reports it as an
    // I/O error of kind Other); the old file stays as it was, and no temporary file is left.
    let dir = scratch_dir("png-fails");
    let path = dir.join("clip.png");
    std::fs::write(&path, b"old contents").unwrap();
    let result = write_png(&RgbImage::new(0, 0), &path);
    assert!(
        matches!(&result, Err(Error::Io { path: named, source }) if named == &path && source.to_string().contains("Zero width")),
        "{result:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"old contents");
    assert_eq!(names_in(&dir), vec![std::ffi::OsString::from("clip.png")]);
    std::fs::remove_dir_all(&dir).unwrap();
}
