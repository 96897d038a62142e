//! The decimated spectrogram that a picture is drawn from, filled block by block.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};
use crate::spectrogram::{Spectrogram, SpectrogramConfig};

/// How the frames of a column (and the bins of a row) are pooled into one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Pooling {
    /// The mean of the levels in dB: shows the typical spectrum, pauses and background noise.
    #[default]
    Mean,
    /// The maximum level: shows the loudest moment, so clicks and short bursts stay visible.
    Max,
}

/// A spectrogram decimated for drawing, accumulated from blocks as they stream.
///
/// Memory stays fixed whatever the clip's length (DESIGN.md: consumers keep "a decimated
/// picture"): at most `max_columns` columns of at most [`Picture::MAX_ROWS`] rows.
///
/// **Pooling.** Each column pools `frames_per_column` consecutive frames, and each row a run of
/// adjacent bins, two ways at once, and [`Pooling`] picks one when drawing: the mean of the
/// levels in dB (the default: in a long overview it keeps the pauses and the background noise
/// visible, whose changes betray splices) or their maximum (keeps a click or a short burst
/// visible, which the mean averages away).
///
/// **Adaptive width.** The total duration need not be known up front (a stream's length may be
/// unknown until it ends): the picture starts at one frame per column, and whenever the columns
/// reach `max_columns` it merges them in pairs and doubles `frames_per_column`. Merging maxima is
/// exact for maxima and for sums, so the result equals pooling with the final `frames_per_column`
/// from the start. A
/// finished picture has between `max_columns / 2` and `max_columns` columns (fewer when the clip
/// has fewer frames); [`Picture::render`] stretches them to the plot's width.
#[derive(Debug, Clone)]
pub struct Picture {
    pub(super) sample_rate: u32,
    pub(super) config: SpectrogramConfig,
    max_columns: usize,
    /// Rows stored per column, lowest frequency first.
    pub(super) rows: usize,
    /// For each bin, the row it is pooled into.
    bin_rows: Vec<usize>,
    /// For each row, how many bins are pooled into it.
    row_bins: Vec<u32>,
    pub(super) frames_per_column: u64,
    /// Complete columns, column after column, `rows` values each: the maximum level in dB.
    complete_max_db: Vec<f32>,
    /// Likewise, the sum of the levels in dB over the column's frames and the row's bins.
    complete_sum_db: Vec<f32>,
    /// The column being filled, from `pending_frames` frames: maximum and sum as above.
    pending_max_db: Vec<f32>,
    pending_sum_db: Vec<f32>,
    pending_frames: u64,
    /// Frames pushed so far.
    pub(super) frames: u64,
}

impl Picture {
    /// The default for `max_columns`: 1600 px fits a laptop screen and a report page at a
    /// readable scale, and after adaptive halving the width stays above 800 columns.
    pub const DEFAULT_MAX_COLUMNS: usize = 1600;

    /// The most columns a picture accepts; past a few screen widths more detail is invisible.
    pub const MAX_COLUMNS: usize = 16_384;

    /// The most frequency rows kept per column. 512 rows keep every bin of a 1024-sample window
    /// and are more than a picture shows; larger windows are pooled down to it.
    pub const MAX_ROWS: usize = 512;

    /// An empty picture for the spectrogram of a signal at `sample_rate` Hz framed by `config`,
    /// at most `max_columns` columns wide (rounded down to an even number).
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid ([`SpectrogramConfig::validate`]) or
    /// `max_columns` is outside 2 ..= [`Picture::MAX_COLUMNS`].
    pub fn new(
        sample_rate: u32,
        config: &SpectrogramConfig,
        max_columns: usize,
    ) -> Result<Picture> {
        config.validate(sample_rate)?;
        if !(2..=Self::MAX_COLUMNS).contains(&max_columns) {
            return Err(Error::config(
                "picture.max_columns",
                format!("{max_columns} is outside 2..={}", Self::MAX_COLUMNS),
            ));
        }
        let bins = config.bins();
        let rows = bins.min(Self::MAX_ROWS);
        let bin_rows: Vec<usize> = (0..bins).map(|bin| bin * rows / bins).collect();
        let mut row_bins = vec![0_u32; rows];
        for &row in &bin_rows {
            row_bins[row] += 1;
        }
        Ok(Picture {
            sample_rate,
            config: *config,
            // Even, so that merging pairs leaves the pending column on a column boundary.
            max_columns: max_columns & !1,
            rows,
            bin_rows,
            row_bins,
            frames_per_column: 1,
            complete_max_db: Vec::with_capacity(max_columns * rows),
            complete_sum_db: Vec::with_capacity(max_columns * rows),
            pending_max_db: vec![Spectrogram::FLOOR_DB; rows],
            pending_sum_db: vec![0.0; rows],
            pending_frames: 0,
            frames: 0,
        })
    }

    /// The picture of a whole spectrogram (one that starts at frame 0).
    ///
    /// # Errors
    /// As [`Picture::new`] and [`Picture::push`].
    pub fn from_spectrogram(spectrogram: &Spectrogram, max_columns: usize) -> Result<Picture> {
        let mut picture = Picture::new(spectrogram.sample_rate, &spectrogram.config, max_columns)?;
        picture.push(spectrogram)?;
        Ok(picture)
    }

    /// Adds the next block of the spectrogram.
    ///
    /// # Errors
    /// [`Error::Config`] when the block's sample rate or configuration differ from the picture's,
    /// or when it does not start at the frame after the last one pushed.
    pub fn push(&mut self, block: &Spectrogram) -> Result<()> {
        if block.sample_rate != self.sample_rate || block.config != self.config {
            return Err(Error::config(
                "picture block",
                format!(
                    "block at {} Hz with {:?} pushed to a picture made for {} Hz with {:?}",
                    block.sample_rate, block.config, self.sample_rate, self.config
                ),
            ));
        }
        if block.first_frame != self.frames {
            return Err(Error::config(
                "picture block",
                format!(
                    "block starts at frame {}, expected frame {}",
                    block.first_frame, self.frames
                ),
            ));
        }
        for frame in block.data.rows() {
            if self.pending_frames == 0
                && self.complete_max_db.len() == self.max_columns * self.rows
            {
                // A frame is about to open column `max_columns + 1`.
                self.merge_column_pairs();
            }
            for (&level_db, &row) in frame.iter().zip(&self.bin_rows) {
                let max = &mut self.pending_max_db[row];
                *max = max.max(level_db);
                self.pending_sum_db[row] += level_db;
            }
            self.pending_frames += 1;
            self.frames += 1;
            if self.pending_frames == self.frames_per_column {
                self.complete_max_db.extend_from_slice(&self.pending_max_db);
                self.complete_sum_db.extend_from_slice(&self.pending_sum_db);
                self.pending_max_db.fill(Spectrogram::FLOOR_DB);
                self.pending_sum_db.fill(0.0);
                self.pending_frames = 0;
            }
        }
        Ok(())
    }

    /// Frames pushed so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Columns held, counting a partly filled last column.
    pub fn columns(&self) -> usize {
        self.complete_columns() + usize::from(self.pending_frames > 0)
    }

    /// Frequency rows per column, lowest frequency first.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Frames pooled into each column (a power of two).
    pub fn frames_per_column(&self) -> u64 {
        self.frames_per_column
    }

    /// The time the picture spans, in seconds: `frames · hop_samples / sample_rate`, the signal's
    /// duration rounded up to a whole hop.
    pub fn duration_s(&self) -> f64 {
        (self.frames * self.config.hop_samples as u64) as f64 / f64::from(self.sample_rate)
    }

    /// The level of `row` in `column` pooled as `pooling` says, in dB re full scale; `None`
    /// outside the picture.
    pub fn level_db(&self, column: usize, row: usize, pooling: Pooling) -> Option<f32> {
        if row >= self.rows {
            return None;
        }
        let complete = self.complete_columns();
        let (max_db, sum_db, frames) = if column < complete {
            let index = column * self.rows + row;
            (
                self.complete_max_db[index],
                self.complete_sum_db[index],
                self.frames_per_column,
            )
        } else if column == complete && self.pending_frames > 0 {
            (
                self.pending_max_db[row],
                self.pending_sum_db[row],
                self.pending_frames,
            )
        } else {
            return None;
        };
        Some(match pooling {
            Pooling::Max => max_db,
            Pooling::Mean => sum_db / (frames as f32 * self.row_bins[row] as f32),
        })
    }

    /// The loudest level in the picture pooled as `pooling` says, in dB;
    /// [`Spectrogram::FLOOR_DB`] when it is empty.
    pub(super) fn max_db(&self, pooling: Pooling) -> f32 {
        (0..self.columns())
            .flat_map(|column| (0..self.rows).map(move |row| (column, row)))
            .filter_map(|(column, row)| self.level_db(column, row, pooling))
            .fold(Spectrogram::FLOOR_DB, f32::max)
    }

    fn complete_columns(&self) -> usize {
        self.complete_max_db.len() / self.rows
    }

    /// Halves the number of complete columns by pooling them in pairs (called only with an empty
    /// pending column, which then starts on a boundary of the doubled columns).
    fn merge_column_pairs(&mut self) {
        let rows = self.rows;
        let pairs = self.complete_columns() / 2;
        for pair in 0..pairs {
            for row in 0..rows {
                let (left, right) = (2 * pair * rows + row, (2 * pair + 1) * rows + row);
                let max_db = self.complete_max_db[left].max(self.complete_max_db[right]);
                let sum_db = self.complete_sum_db[left] + self.complete_sum_db[right];
                self.complete_max_db[pair * rows + row] = max_db;
                self.complete_sum_db[pair * rows + row] = sum_db;
            }
        }
        self.complete_max_db.truncate(pairs * rows);
        self.complete_sum_db.truncate(pairs * rows);
        self.frames_per_column *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn block(first_frame: u64, frames: usize, level_of: impl Fn(u64) -> f32) -> Spectrogram {
        let config = SpectrogramConfig {
            window_samples: 8,
            hop_samples: 4,
            ..SpectrogramConfig::default()
        };
        let data = Array2::from_shape_fn((frames, config.bins()), |(i, _)| {
            level_of(first_frame + i as u64)
        });
        Spectrogram {
            sample_rate: 1000,
            config,
            first_frame,
            data,
        }
    }

    #[test]
    fn picture_adaptive_pooling_equals_pooling_with_final_factor() {
        let level = |frame: u64| ((frame * 7919) % 101) as f32 - 100.0;
        let mut picture = Picture::new(1000, &block(0, 0, level).config, 10).unwrap();
        let total = 173_u64;
        let mut first = 0;
        for size in [1, 5, 30, 2, 100, 35] {
            picture.push(&block(first, size, level)).unwrap();
            first += size as u64;
        }
        assert_eq!(first, total);
        let per = picture.frames_per_column();
        assert_eq!(per, 32); // 173 frames into at most 10 columns: 16 gives 11, 32 gives 6.
        assert_eq!(picture.columns(), total.div_ceil(per) as usize);
        for column in 0..picture.columns() {
            let frames = column as u64 * per..((column as u64 + 1) * per).min(total);
            let expected_max = frames.clone().map(level).fold(f32::MIN, f32::max);
            let expected_mean = frames.clone().map(level).sum::<f32>() / frames.count() as f32;
            let max = picture.level_db(column, 0, Pooling::Max).unwrap();
            let mean = picture.level_db(column, 0, Pooling::Mean).unwrap();
            assert_eq!(max, expected_max, "column {column}");
            assert!(
                (mean - expected_mean).abs() < 1e-3,
                "column {column}: {mean}"
            );
        }
        assert_eq!(picture.level_db(picture.columns(), 0, Pooling::Max), None);
    }

    #[test]
    fn picture_push_gap_is_config_error() {
        let level = |_| 0.0;
        let mut picture = Picture::new(1000, &block(0, 0, level).config, 10).unwrap();
        picture.push(&block(0, 3, level)).unwrap();
        assert!(matches!(
            picture.push(&block(4, 3, level)),
            Err(Error::Config { .. })
        ));
    }
}
