//! Pictures of a clip: its spectrogram with time and frequency axes, splice markers, bands for
//! matched segments and panels of score tracks, drawn to an `RgbImage` and written as PNG.
//!
//! A [`Picture`] takes spectrogram blocks as they stream and keeps a fixed-size decimated copy;
//! [`Picture::render`] draws it with the layers of a [`RenderOptions`]; [`write_png`] writes the
//! image safely (a temporary file renamed into place).
//!
//! Layout, top to bottom: an optional title; lanes of [`Band`]s; a strip with the [`Marker`]
//! labels; the spectrogram; one panel per [`Track`]; the time axis. Markers are vertical lines
//! through the spectrogram and every track panel. [`Picture::layout`] gives the pixel positions.
#![forbid(unsafe_code)]

mod axis;
mod canvas;
mod picture;

use std::io::Write;
use std::path::Path;

use image::codecs::png::PngEncoder;
use image::{ImageError, Rgb, RgbImage};

use crate::error::{Error, Result};
use crate::spectrogram::Spectrogram;
use canvas::{GLYPH_PX, blend, fill_rect, line, text, text_clipped, text_width};

pub use picture::{Picture, Pooling};

/// Blank space around the whole image, in pixels.
const MARGIN_PX: u32 = 8;
/// Width of the left margin that holds the frequency and track labels: five glyphs ("22.05")
/// plus a tick and a gap.
const LEFT_AXIS_PX: u32 = 5 * GLYPH_PX + 8;
/// Blank space right of the plots, so the last time label is not cut (labels are also clamped).
const RIGHT_MARGIN_PX: u32 = 3 * GLYPH_PX;
/// Height of a title line plus the gap under it.
const TITLE_PX: u32 = GLYPH_PX + 6;
/// Height of the strip above the spectrogram holding marker labels, marker heads and "kHz".
const HEADER_PX: u32 = 15;
/// Height of one lane of bands: a glyph plus 3 px above and below.
const BAND_LANE_PX: u32 = GLYPH_PX + 6;
/// Most lanes of bands; bands that overlap more than this share the last lane.
const MAX_BAND_LANES: usize = 4;
/// Gap between stacked panels.
const PANEL_GAP_PX: u32 = 6;
/// Length of an axis tick mark.
const TICK_PX: u32 = 4;
/// Height of the time axis under the last panel: ticks, labels, and a line naming the unit.
const TIME_AXIS_PX: u32 = TICK_PX + 3 + GLYPH_PX + 4 + GLYPH_PX;

/// Largest accepted plot width: a few screens wide, and small enough that options read from a
/// file cannot ask for gigabytes (with [`MAX_PANEL_HEIGHT_PX`] and [`MAX_TRACKS`]: ≤ 4 GiB).
const MAX_PLOT_WIDTH_PX: u32 = 16_384;
/// Largest accepted spectrogram or track height, for the same reason.
const MAX_PANEL_HEIGHT_PX: u32 = 4096;
/// Most track panels, for the same reason; DESIGN.md names seven cues.
const MAX_TRACKS: usize = 64;

/// Page background: white, for reports and articles.
const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
/// Text: near-black, softer than pure black on white.
const INK: Rgb<u8> = Rgb([34, 34, 34]);
/// Axis lines and ticks: mid grey, so they recede behind the data.
const AXIS: Rgb<u8> = Rgb([110, 110, 110]);
/// Track panels: a light grey that sets them off from the page.
const PANEL_BACKGROUND: Rgb<u8> = Rgb([247, 247, 247]);
/// Grid lines in track panels, just darker than the panel.
const GRID: Rgb<u8> = Rgb([222, 222, 222]);
/// Track lines: Tableau 10's blue (the default line colour of matplotlib).
const TRACK_LINE: Rgb<u8> = Rgb([31, 119, 180]);
/// Track thresholds: Tableau 10's red.
const THRESHOLD: Rgb<u8> = Rgb([214, 39, 40]);

/// The perceptual colour map for levels: uniform in lightness, readable in greyscale and by
/// colour-blind readers (van der Walt & Smith, matplotlib colormaps, SciPy 2015).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ColorMap {
    /// Black through purple and orange to pale yellow. The default: silence is black and loud
    /// components glow, as in the spectrograms of Audacity and Sonic Visualiser.
    #[default]
    Magma,
    /// Black through red to yellow-white.
    Inferno,
    /// Dark blue through green to yellow.
    Viridis,
}

impl ColorMap {
    /// Markers are drawn in a hue the map lacks: green on magma and inferno (which run from black
    /// through purple, red and orange to yellow), magenta on viridis (blue through green).
    fn marker_colour(self) -> Rgb<u8> {
        match self {
            ColorMap::Magma | ColorMap::Inferno => Rgb([0, 200, 90]),
            ColorMap::Viridis => Rgb([230, 0, 140]),
        }
    }

    fn gradient(self) -> colorous::Gradient {
        match self {
            ColorMap::Magma => colorous::MAGMA,
            ColorMap::Inferno => colorous::INFERNO,
            ColorMap::Viridis => colorous::VIRIDIS,
        }
    }
}

/// A vertical line at a time of interest, such as a splice candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Where, in seconds on the clip's timeline.
    pub time_s: f64,
    /// A short label shown above the spectrogram (e.g. the score); may be empty. Labels that
    /// would overlap a stronger marker's label are left out.
    pub label: String,
    /// How strong the evidence is, in [0, 1]. At 0.5 and above (asserted, DESIGN.md) the line
    /// is solid; below, it is dashed and fainter the weaker the evidence.
    pub strength: f32,
}

/// A labelled stretch of time drawn as a coloured bar above the spectrogram, such as a segment
/// matched in a reference recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Start, in seconds on the clip's timeline.
    pub start_s: f64,
    /// End, in seconds; not before `start_s`.
    pub end_s: f64,
    /// The text in the bar, e.g. the reference's name; bands with the same label share a colour.
    pub label: String,
}

/// A score track drawn as a line plot in its own panel under the spectrogram.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Shown at the panel's top left, e.g. `noise_floor`.
    pub name: String,
    /// Time of `values[0]`, in seconds.
    pub start_s: f64,
    /// Time between consecutive values, in seconds (e.g. the spectrogram's hop).
    pub step_s: f64,
    /// Values in [0, 1] (clamped); a NaN leaves a gap, e.g. where a cue is unusable.
    pub values: Vec<f32>,
    /// A value drawn as a dashed line across the panel, e.g. 0.5 for "asserted".
    pub threshold: Option<f32>,
}

/// What to draw and how big: the dynamic range, sizes and the layers over the spectrogram.
///
/// Start from `RenderOptions::default()` and set what differs.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// A line of text at the top, e.g. the clip's file name.
    pub title: Option<String>,
    /// Smallest width of the plots in pixels; a picture with more columns than this is drawn one
    /// pixel per column. At most 16 384.
    pub min_plot_width_px: u32,
    /// Height of the spectrogram in pixels, 32 ..= 4096.
    pub spectrogram_height_px: u32,
    /// Height of each track panel in pixels, 16 ..= 4096.
    pub track_height_px: u32,
    /// Levels from `top_db − dynamic_range_db` to `top_db` span the colour map; lower levels are
    /// drawn as its darkest colour. In (0, 200] dB.
    pub dynamic_range_db: f32,
    /// The level drawn as the brightest colour, in dB re full scale; `None` takes the loudest
    /// level in the picture as pooled for drawing. Fix it (e.g. at 0 dB) to compare the levels of several pictures.
    pub top_db: Option<f32>,
    /// The colour map for levels.
    pub color_map: ColorMap,
    /// How columns that pool many frames are drawn (see [`Picture`]); it makes no difference
    /// while a column holds one frame (clips under about 13 s with the default framing).
    pub pooling: Pooling,
    /// Vertical lines at times of interest.
    pub markers: Vec<Marker>,
    /// Labelled stretches of time.
    pub bands: Vec<Band>,
    /// Score panels under the spectrogram, in this order. At most 64.
    pub tracks: Vec<Track>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            title: None,
            // Half of Picture::DEFAULT_MAX_COLUMNS: the narrowest an adaptively pooled picture
            // gets, so long clips come out at about the same width as short ones.
            min_plot_width_px: 800,
            // 320 px give each of the 257 bins of the default framing at least one pixel row.
            spectrogram_height_px: 320,
            // Enough for a line plot to show the 0.1 steps of a score (6 px each).
            track_height_px: 64,
            // 80 dB: the range of Audacity's default spectrogram view; everything between the
            // loudest speech and a quiet room's noise floor, with hiss below it dark.
            dynamic_range_db: 80.0,
            top_db: None,
            color_map: ColorMap::default(),
            pooling: Pooling::default(),
            markers: Vec::new(),
            bands: Vec::new(),
            tracks: Vec::new(),
        }
    }
}

/// A rectangle of pixels: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    /// Left edge, in pixels from the image's left.
    pub x: u32,
    /// Top edge, in pixels from the image's top.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl PixelRect {
    fn bottom(&self) -> u32 {
        self.y + self.height
    }
}

/// Where [`Picture::render`] puts things, for drawing more on the image or for locating them in
/// it (as the tests do).
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The image's width in pixels.
    pub width_px: u32,
    /// The image's height in pixels.
    pub height_px: u32,
    /// The spectrogram.
    pub spectrogram: PixelRect,
    /// The lanes of bands, if there are bands.
    pub bands: Option<PixelRect>,
    /// The track panels, in the order of [`RenderOptions::tracks`].
    pub tracks: Vec<PixelRect>,
    /// The time at the plots' right edge, in seconds ([`Picture::duration_s`]).
    pub duration_s: f64,
    /// Bins per frame and the spacing of bins in Hz, for the frequency axis.
    bins: usize,
    bin_spacing_hz: f64,
}

impl Layout {
    /// The horizontal pixel position of `time_s` (fractional; the left edge of the plots is
    /// time 0, the right edge [`Layout::duration_s`]).
    pub fn x_of_time_s(&self, time_s: f64) -> f64 {
        let plot = self.spectrogram;
        let fraction = if self.duration_s > 0.0 {
            time_s / self.duration_s
        } else {
            0.0
        };
        f64::from(plot.x) + fraction * f64::from(plot.width)
    }

    /// The vertical pixel position of the centre of the bin at `frequency_hz` in the spectrogram
    /// (fractional; bins are stacked in equal strips, bin 0 at the bottom).
    pub fn y_of_hz(&self, frequency_hz: f64) -> f64 {
        let plot = self.spectrogram;
        let fraction = (frequency_hz / self.bin_spacing_hz + 0.5) / self.bins as f64;
        f64::from(plot.bottom()) - fraction * f64::from(plot.height)
    }

    /// The highest frequency on the axis: the centre of the last bin (Nyquist for an even window).
    fn top_hz(&self) -> f64 {
        (self.bins - 1) as f64 * self.bin_spacing_hz
    }
}

impl Picture {
    /// Where [`Picture::render`] will put each part of the image for `options`.
    ///
    /// # Errors
    /// [`Error::Config`] when an option is out of its range (see [`RenderOptions`]).
    pub fn layout(&self, options: &RenderOptions) -> Result<Layout> {
        check_options(options)?;
        let plot_width = (self.columns() as u32).max(options.min_plot_width_px);
        let mut y = MARGIN_PX;
        if options.title.is_some() {
            y += TITLE_PX;
        }
        let bands = if options.bands.is_empty() {
            None
        } else {
            let lanes = band_lanes(&options.bands).1 as u32;
            let rect = PixelRect {
                x: MARGIN_PX + LEFT_AXIS_PX,
                y,
                width: plot_width,
                height: lanes * BAND_LANE_PX,
            };
            y += rect.height;
            Some(rect)
        };
        y += HEADER_PX;
        let spectrogram = PixelRect {
            x: MARGIN_PX + LEFT_AXIS_PX,
            y,
            width: plot_width,
            height: options.spectrogram_height_px,
        };
        y = spectrogram.bottom();
        let mut tracks = Vec::with_capacity(options.tracks.len());
        for _ in &options.tracks {
            y += PANEL_GAP_PX;
            tracks.push(PixelRect {
                x: spectrogram.x,
                y,
                width: plot_width,
                height: options.track_height_px,
            });
            y += options.track_height_px;
        }
        Ok(Layout {
            width_px: spectrogram.x + plot_width + RIGHT_MARGIN_PX,
            height_px: y + TIME_AXIS_PX + MARGIN_PX,
            spectrogram,
            bands,
            tracks,
            duration_s: self.duration_s(),
            bins: self.config.bins(),
            bin_spacing_hz: f64::from(self.sample_rate) / self.config.window_samples as f64,
        })
    }

    /// Draws the picture with the axes and the layers of `options`.
    ///
    /// Levels are mapped linearly from `top_db − dynamic_range_db` (darkest) to `top_db`
    /// (brightest) onto the colour map; the frequency axis is linear from 0 to Nyquist, labelled
    /// in kHz; the time axis is labelled in seconds under a minute, `m:ss` under an hour and
    /// `h:mm:ss` beyond, with ticks every 1, 2, 5, 10 or 30 s, 1, 2, 5, 10 or 30 min, or hours,
    /// spaced so labels never collide.
    ///
    /// # Errors
    /// [`Error::Config`] when an option is out of its range (see [`RenderOptions`]).
    pub fn render(&self, options: &RenderOptions) -> Result<RgbImage> {
        let layout = self.layout(options)?;
        let mut image = RgbImage::from_pixel(layout.width_px, layout.height_px, BACKGROUND);
        if let Some(title) = &options.title {
            text(
                &mut image,
                i64::from(MARGIN_PX),
                i64::from(MARGIN_PX),
                title,
                INK,
            );
        }
        self.draw_levels(&mut image, &layout, options);
        draw_frequency_axis(&mut image, &layout);
        for (track, rect) in options.tracks.iter().zip(&layout.tracks) {
            draw_track(&mut image, &layout, track, *rect);
        }
        if let Some(rect) = layout.bands {
            draw_bands(&mut image, &layout, &options.bands, rect);
        }
        draw_markers(
            &mut image,
            &layout,
            &options.markers,
            options.color_map.marker_colour(),
        );
        draw_time_axis(&mut image, &layout);
        Ok(image)
    }

    /// Fills the spectrogram's rectangle, pooling columns and rows onto pixels by their maximum.
    fn draw_levels(&self, image: &mut RgbImage, layout: &Layout, options: &RenderOptions) {
        let plot = layout.spectrogram;
        let gradient = options.color_map.gradient();
        // A lookup table: 256 steps are finer than the colour map's own resolution.
        let palette: Vec<Rgb<u8>> = (0..256)
            .map(|i| Rgb(gradient.eval_rational(i, 256).into_array()))
            .collect();
        let top_db = options
            .top_db
            .unwrap_or_else(|| self.max_db(options.pooling));
        let bottom_db = top_db - options.dynamic_range_db;
        let colour_of = |level_db: f32| {
            let fraction = (level_db - bottom_db) / options.dynamic_range_db;
            palette[(fraction.clamp(0.0, 1.0) * 255.0).round() as usize]
        };
        let columns = self.columns();
        let frames = self.frames;
        let rows = self.rows;
        let height = plot.height as usize;
        // For each pixel row (from the bottom), the picture rows it covers.
        let row_ranges: Vec<(usize, usize)> = (0..height)
            .map(|pixel| {
                let first = pixel * rows / height;
                let end = ((pixel + 1) * rows / height).max(first + 1);
                (first, end)
            })
            .collect();
        for pixel_x in 0..plot.width {
            // The frames under this pixel column, and so the picture columns.
            let width = u64::from(plot.width);
            let first_frame = u64::from(pixel_x) * frames / width;
            let end_frame = (u64::from(pixel_x + 1) * frames / width).max(first_frame + 1);
            let first_column = (first_frame / self.frames_per_column) as usize;
            let end_column =
                ((end_frame - 1) / self.frames_per_column + 1).min(columns as u64) as usize;
            for (pixel_from_bottom, &(first_row, end_row)) in row_ranges.iter().enumerate() {
                // Where the picture has more rows than the plot has pixels, rows are pooled the
                // way the columns were. Several columns per pixel cannot occur, as the
                // plot is at least as wide as the picture.
                let (mut max_db, mut sum_db, mut count) = (Spectrogram::FLOOR_DB, 0.0, 0);
                for column in first_column..end_column {
                    for row in first_row..end_row {
                        if let Some(level) = self.level_db(column, row, options.pooling) {
                            max_db = max_db.max(level);
                            sum_db += level;
                            count += 1;
                        }
                    }
                }
                let level_db = match options.pooling {
                    Pooling::Max => max_db,
                    _ if count == 0 => Spectrogram::FLOOR_DB,
                    _ => sum_db / count as f32,
                };
                let y = plot.bottom() - 1 - pixel_from_bottom as u32;
                image.put_pixel(plot.x + pixel_x, y, colour_of(level_db));
            }
        }
    }
}

/// Checks the ranges documented on [`RenderOptions`].
fn check_options(options: &RenderOptions) -> Result<()> {
    let out_of_range = |field: &str, value: String, range: &str| {
        Err(Error::config(
            format!("render.{field}"),
            format!("{value} is outside {range}"),
        ))
    };
    if options.min_plot_width_px > MAX_PLOT_WIDTH_PX {
        return out_of_range(
            "min_plot_width_px",
            options.min_plot_width_px.to_string(),
            &format!("0..={MAX_PLOT_WIDTH_PX}"),
        );
    }
    if !(32..=MAX_PANEL_HEIGHT_PX).contains(&options.spectrogram_height_px) {
        return out_of_range(
            "spectrogram_height_px",
            options.spectrogram_height_px.to_string(),
            &format!("32..={MAX_PANEL_HEIGHT_PX}"),
        );
    }
    if !(16..=MAX_PANEL_HEIGHT_PX).contains(&options.track_height_px) {
        return out_of_range(
            "track_height_px",
            options.track_height_px.to_string(),
            &format!("16..={MAX_PANEL_HEIGHT_PX}"),
        );
    }
    if !(options.dynamic_range_db > 0.0 && options.dynamic_range_db <= 200.0) {
        return out_of_range(
            "dynamic_range_db",
            options.dynamic_range_db.to_string(),
            "(0, 200]",
        );
    }
    if options.top_db.is_some_and(|top| !top.is_finite()) {
        return out_of_range("top_db", format!("{:?}", options.top_db), "finite values");
    }
    if options.tracks.len() > MAX_TRACKS {
        return out_of_range(
            "tracks",
            format!("{} tracks", options.tracks.len()),
            &format!("0..={MAX_TRACKS}"),
        );
    }
    Ok(())
}

/// Frequency ticks and kHz labels left of the spectrogram, and "kHz" above them.
fn draw_frequency_axis(image: &mut RgbImage, layout: &Layout) {
    let plot = layout.spectrogram;
    let top_hz = layout.top_hz();
    let step_hz = axis::choose_frequency_step_hz(top_hz, f64::from(plot.height));
    let right = i64::from(plot.x) - 1;
    let glyph = i64::from(GLYPH_PX);
    let mut k = 0_u32;
    while f64::from(k) * step_hz <= top_hz + 1e-9 {
        let frequency_hz = f64::from(k) * step_hz;
        let y = layout.y_of_hz(frequency_hz).round() as i64;
        line(image, right - i64::from(TICK_PX), y, right, y, AXIS);
        let label = axis::format_khz(frequency_hz, step_hz);
        let x = right - i64::from(TICK_PX) - 2 - text_width(&label);
        text(image, x, y - glyph / 2, &label, INK);
        k += 1;
    }
    let unit = "kHz";
    let x = right - i64::from(TICK_PX) - 2 - text_width(unit);
    text(
        image,
        x,
        i64::from(plot.y) - i64::from(HEADER_PX),
        unit,
        INK,
    );
}

/// Ticks and labels under the last panel, and a line naming the unit.
fn draw_time_axis(image: &mut RgbImage, layout: &Layout) {
    let plot = layout.spectrogram;
    let bottom = layout
        .tracks
        .last()
        .map_or(plot.bottom(), PixelRect::bottom);
    let axis_y = i64::from(bottom);
    let left = i64::from(plot.x);
    let right = left + i64::from(plot.width) - 1;
    line(image, left, axis_y, right, axis_y, AXIS);
    let ticks = axis::choose_time_ticks(layout.duration_s, f64::from(plot.width));
    let label_y = axis_y + i64::from(TICK_PX) + 3;
    let max_x = i64::from(layout.width_px) - 1;
    for time_s in axis::tick_times_s(ticks, layout.duration_s) {
        let x = layout.x_of_time_s(time_s).round().min(right as f64) as i64;
        line(image, x, axis_y, x, axis_y + i64::from(TICK_PX), AXIS);
        let label = ticks.format.format(time_s);
        let width = text_width(&label);
        let label_x = (x - width / 2).clamp(0, (max_x - width).max(0));
        text(image, label_x, label_y, &label, INK);
    }
    let unit = format!("time ({})", ticks.format.unit());
    let unit_y = label_y + i64::from(GLYPH_PX) + 4;
    text(image, right + 1 - text_width(&unit), unit_y, &unit, INK);
}

/// A track panel: background, grid at 0, ½ and 1, labels, threshold, and the line plot.
fn draw_track(image: &mut RgbImage, layout: &Layout, track: &Track, rect: PixelRect) {
    let (x, y) = (i64::from(rect.x), i64::from(rect.y));
    let (width, height) = (i64::from(rect.width), i64::from(rect.height));
    fill_rect(image, x, y, width, height, PANEL_BACKGROUND);
    let y_of = |value: f32| {
        y + ((1.0 - f64::from(value.clamp(0.0, 1.0))) * (height - 1) as f64).round() as i64
    };
    for grid in [0.0, 0.5, 1.0] {
        let gy = y_of(grid);
        line(image, x, gy, x + width - 1, gy, GRID);
    }
    for (value, label) in [(1.0, "1"), (0.0, "0")] {
        let gy = y_of(value);
        line(image, x - 1 - i64::from(TICK_PX), gy, x - 1, gy, AXIS);
        let label_x = x - 1 - i64::from(TICK_PX) - 2 - text_width(label);
        let label_y = (gy - i64::from(GLYPH_PX) / 2).clamp(y, y + height - i64::from(GLYPH_PX));
        text(image, label_x, label_y, label, INK);
    }
    if let Some(threshold) = track.threshold {
        let ty = y_of(threshold);
        // Dashes of 6 px every 10 px.
        for dash in (x..x + width).step_by(10) {
            line(
                image,
                dash,
                ty,
                (dash + 5).min(x + width - 1),
                ty,
                THRESHOLD,
            );
        }
    }
    let x_range = x..x + width;
    let mut previous: Option<(i64, i64)> = None;
    for (index, &value) in track.values.iter().enumerate() {
        let time_s = track.start_s + index as f64 * track.step_s;
        let px = layout.x_of_time_s(time_s).floor();
        let point = (value.is_finite() && px.is_finite() && x_range.contains(&(px as i64)))
            .then(|| (px as i64, y_of(value)));
        match (previous, point) {
            (Some((x0, y0)), Some((x1, y1))) => line(image, x0, y0, x1, y1, TRACK_LINE),
            (None, Some((x1, y1))) => line(image, x1, y1, x1, y1, TRACK_LINE),
            _ => {}
        }
        previous = point;
    }
    text_clipped(image, x + 4, y + 3, &track.name, INK, width - 8);
}

/// Assigns each band a lane so that bands in one lane do not overlap; returns the lanes and
/// their count (at least 1, at most [`MAX_BAND_LANES`]).
fn band_lanes(bands: &[Band]) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..bands.len()).collect();
    order.sort_by(|&a, &b| bands[a].start_s.total_cmp(&bands[b].start_s));
    let mut lane_ends_s: Vec<f64> = Vec::new();
    let mut lanes = vec![0; bands.len()];
    for index in order {
        let band = &bands[index];
        let free = lane_ends_s.iter().position(|&end_s| end_s <= band.start_s);
        let lane = match free {
            Some(lane) => lane,
            None if lane_ends_s.len() < MAX_BAND_LANES => {
                lane_ends_s.push(f64::NEG_INFINITY);
                lane_ends_s.len() - 1
            }
            None => MAX_BAND_LANES - 1,
        };
        lane_ends_s[lane] = lane_ends_s[lane].max(band.end_s);
        lanes[index] = lane;
    }
    (lanes, lane_ends_s.len().max(1))
}

/// Bands as coloured bars with their labels, one colour per distinct label.
fn draw_bands(image: &mut RgbImage, layout: &Layout, bands: &[Band], rect: PixelRect) {
    let (lanes, _) = band_lanes(bands);
    let mut labels: Vec<&str> = Vec::new();
    let plot_left = i64::from(rect.x);
    let plot_right = plot_left + i64::from(rect.width);
    for (band, lane) in bands.iter().zip(lanes) {
        let colour_index = match labels.iter().position(|&l| l == band.label) {
            Some(index) => index,
            None => {
                labels.push(&band.label);
                labels.len() - 1
            }
        };
        // Tableau 10: ten categorical colours designed to stay distinct for colour-blind readers.
        let colour = colorous::TABLEAU10[colour_index % colorous::TABLEAU10.len()];
        let fill = Rgb(colour.into_array());
        let x0 = (layout.x_of_time_s(band.start_s).round() as i64).max(plot_left);
        let x1 = (layout.x_of_time_s(band.end_s).round() as i64).min(plot_right);
        if x1 <= x0 {
            continue;
        }
        let y = i64::from(rect.y) + (lane as u32 * BAND_LANE_PX) as i64;
        let height = i64::from(BAND_LANE_PX) - 2;
        fill_rect(image, x0, y + 1, x1 - x0 - 1, height, fill);
        // Black or white text, whichever contrasts more (Rec. 709 luma weights).
        let luma = 0.2126 * f32::from(colour.r)
            + 0.7152 * f32::from(colour.g)
            + 0.0722 * f32::from(colour.b);
        let ink = if luma > 140.0 { INK } else { BACKGROUND };
        text_clipped(image, x0 + 3, y + 4, &band.label, ink, x1 - x0 - 6);
    }
}

/// Marker lines through every panel, heads and labels in the header strip.
fn draw_markers(image: &mut RgbImage, layout: &Layout, markers: &[Marker], colour: Rgb<u8>) {
    let plot = layout.spectrogram;
    let top = i64::from(plot.y);
    let bottom = i64::from(
        layout
            .tracks
            .last()
            .map_or(plot.bottom(), PixelRect::bottom),
    );
    let plot_left = i64::from(plot.x);
    let plot_right = plot_left + i64::from(plot.width) - 1;
    // Strongest first, so that when labels would overlap the strongest one keeps its label.
    let mut order: Vec<&Marker> = markers.iter().filter(|m| m.time_s.is_finite()).collect();
    order.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    let mut placed: Vec<(i64, i64)> = Vec::new();
    for marker in order {
        let x = layout.x_of_time_s(marker.time_s).round() as i64;
        if x < plot_left || x > plot_right {
            continue;
        }
        // At 0.5 and above (asserted, DESIGN.md) a marker is a solid line; weaker candidates are
        // dashed (3 px on, 3 off) and fade with their strength, so they never pass for asserted.
        let asserted = marker.strength >= 0.5;
        let alpha = if asserted {
            1.0
        } else {
            0.35 + 0.9 * marker.strength.clamp(0.0, 0.5)
        };
        for y in top..bottom {
            if asserted || (y - top) % 6 < 3 {
                blend(image, x, y, colour, alpha);
            }
        }
        // A downward triangle, 5 px tall, just above the spectrogram.
        for step in 0..5_i64 {
            for dx in -(4 - step)..=(4 - step) {
                blend(image, x + dx, top - 6 + step, colour, alpha);
            }
        }
        if marker.label.is_empty() {
            continue;
        }
        let width = text_width(&marker.label);
        let label_x = (x - width / 2).clamp(plot_left, (plot_right + 1 - width).max(plot_left));
        let span = (label_x - 2, label_x + width + 2);
        if placed.iter().all(|&(a, b)| span.1 <= a || span.0 >= b) {
            let label_y = top - i64::from(HEADER_PX);
            text(image, label_x, label_y, &marker.label, INK);
            placed.push(span);
        }
    }
}

/// Writes `image` as PNG to `path`.
///
/// A regular file (or a new path) is written to a temporary file in the same directory, then
/// renamed over `path`, so a reader never sees a half-written image and a failed write leaves the
/// old file intact; a symbolic link to a regular file has its target replaced. A target that
/// exists and is not a regular file — `/dev/stdout`, a named pipe — is written directly and never
/// renamed over, and `-` means standard output.
///
/// # Errors
/// [`Error::Io`] naming `path` when the directory does not exist, cannot be written, or the write
/// or rename fails; [`Error::Image`] when the PNG encoder fails for another reason.
pub fn write_png(image: &RgbImage, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    crate::output::write_with(path, |w| encode_png(image, w, path))
}

/// Encodes `image` as PNG into `writer`; errors name `path`.
fn encode_png(image: &RgbImage, writer: &mut dyn Write, path: &Path) -> Result<()> {
    image
        .write_with_encoder(PngEncoder::new(writer))
        .map_err(|e| match e {
            ImageError::IoError(source) => Error::io(path, source),
            source => Error::Image {
                path: path.to_path_buf(),
                source,
            },
        })
}
