//! Tick spacing and labels for the time and frequency axes.
#![forbid(unsafe_code)]

use super::canvas::GLYPH_PX;

/// Candidate time steps, in seconds: 1–2–5 below a second, then 1, 2, 5, 10, 30 s, 1, 2, 5, 10,
/// 30 min, 1, 2, 5, 10 h — the steps a reader counts in on a clock face or a media player.
const TIME_STEPS_S: [f64; 20] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    3600.0, 7200.0, 18_000.0, 36_000.0,
];

/// Candidate frequency steps, in Hz (1–2–5 series).
const FREQUENCY_STEPS_HZ: [f64; 9] = [
    50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0,
];

/// The smallest blank between two neighbouring time labels: two glyphs, so that "1:00 1:30"
/// reads as two numbers.
const MIN_LABEL_GAP_PX: f64 = 2.0 * GLYPH_PX as f64;

/// The smallest distance between time ticks, whatever the labels' width: eight glyphs, so a
/// 1600-px plot has at most 25 ticks and a reader is not asked to count dense ones.
const MIN_TIME_TICK_SPACING_PX: f64 = 8.0 * GLYPH_PX as f64;

/// The smallest distance between frequency ticks: a label's height plus two thirds of one, so
/// labels stacked on the axis never touch.
const MIN_FREQUENCY_TICK_SPACING_PX: f64 = 24.0;

/// How time labels are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeFormat {
    /// Seconds with this many decimals, for clips under a minute: `12`, `2.5`.
    Seconds { decimals: usize },
    /// `m:ss`, for clips under an hour.
    MinutesSeconds,
    /// `h:mm:ss`.
    HoursMinutesSeconds,
}

impl TimeFormat {
    /// The unit shown next to the axis.
    pub(crate) fn unit(self) -> &'static str {
        match self {
            TimeFormat::Seconds { .. } => "s",
            TimeFormat::MinutesSeconds => "m:ss",
            TimeFormat::HoursMinutesSeconds => "h:mm:ss",
        }
    }

    /// `time_s` written in this format.
    pub(crate) fn format(self, time_s: f64) -> String {
        match self {
            TimeFormat::Seconds { decimals } => format!("{time_s:.decimals$}"),
            TimeFormat::MinutesSeconds => {
                let total = time_s.round() as u64;
                format!("{}:{:02}", total / 60, total % 60)
            }
            TimeFormat::HoursMinutesSeconds => {
                let total = time_s.round() as u64;
                format!("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
            }
        }
    }
}

/// The time ticks chosen for an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TimeTicks {
    /// Seconds between ticks.
    pub(crate) step_s: f64,
    /// How their labels are written.
    pub(crate) format: TimeFormat,
}

/// The smallest step from [`TIME_STEPS_S`] whose labels, for an axis of `duration_s` seconds drawn
/// `width_px` pixels wide, keep [`MIN_LABEL_GAP_PX`] between them and lie at least
/// [`MIN_TIME_TICK_SPACING_PX`] apart. The format follows the
/// duration: seconds under a minute, `m:ss` under an hour, `h:mm:ss` beyond.
pub(crate) fn choose_time_ticks(duration_s: f64, width_px: f64) -> TimeTicks {
    let px_per_s = if duration_s > 0.0 {
        width_px / duration_s
    } else {
        f64::INFINITY
    };
    let format_for = |step_s: f64| {
        if duration_s >= 3600.0 {
            TimeFormat::HoursMinutesSeconds
        } else if duration_s >= 60.0 {
            TimeFormat::MinutesSeconds
        } else if step_s >= 1.0 {
            TimeFormat::Seconds { decimals: 0 }
        } else if step_s >= 0.1 {
            TimeFormat::Seconds { decimals: 1 }
        } else {
            TimeFormat::Seconds { decimals: 2 }
        }
    };
    let fits = |&step_s: &f64| {
        let format = format_for(step_s);
        // m:ss and h:mm:ss show whole seconds only.
        let whole_seconds = matches!(format, TimeFormat::Seconds { .. }) || step_s >= 1.0;
        let widest = format.format(duration_s.max(step_s)).len() as f64 * GLYPH_PX as f64;
        let spacing_px = step_s * px_per_s;
        whole_seconds
            && spacing_px >= widest + MIN_LABEL_GAP_PX
            && spacing_px >= MIN_TIME_TICK_SPACING_PX
    };
    let step_s = TIME_STEPS_S
        .iter()
        .copied()
        .find(|step| fits(step))
        .unwrap_or(TIME_STEPS_S[TIME_STEPS_S.len() - 1]);
    TimeTicks {
        step_s,
        format: format_for(step_s),
    }
}

/// The tick times for `ticks` on an axis from 0 to `duration_s` seconds, inclusive of the ends
/// where a tick falls on them.
pub(crate) fn tick_times_s(ticks: TimeTicks, duration_s: f64) -> impl Iterator<Item = f64> {
    // A millionth of a step absorbs rounding in `k · step` so a tick at the very end is kept.
    let last = (duration_s / ticks.step_s + 1e-6).floor().max(0.0) as u64;
    (0..=last).map(move |k| k as f64 * ticks.step_s)
}

/// The smallest frequency step from [`FREQUENCY_STEPS_HZ`] whose ticks, on an axis spanning
/// `top_hz` over `height_px` pixels, lie at least [`MIN_FREQUENCY_TICK_SPACING_PX`] apart.
pub(crate) fn choose_frequency_step_hz(top_hz: f64, height_px: f64) -> f64 {
    let px_per_hz = height_px / top_hz.max(1.0);
    FREQUENCY_STEPS_HZ
        .iter()
        .copied()
        .find(|step| step * px_per_hz >= MIN_FREQUENCY_TICK_SPACING_PX)
        .unwrap_or(FREQUENCY_STEPS_HZ[FREQUENCY_STEPS_HZ.len() - 1])
}

/// A frequency label in kHz with as many decimals as `step_hz` needs: `4`, `0.5`, `0.05`.
pub(crate) fn format_khz(frequency_hz: f64, step_hz: f64) -> String {
    let decimals = if step_hz >= 1000.0 {
        0
    } else if step_hz >= 100.0 {
        1
    } else {
        2
    };
    format!("{:.decimals$}", frequency_hz / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ticks_ten_seconds_are_whole_seconds() {
        let ticks = choose_time_ticks(10.0, 1250.0);
        assert_eq!(ticks.step_s, 1.0);
        assert_eq!(ticks.format, TimeFormat::Seconds { decimals: 0 });
        let labels: Vec<String> = tick_times_s(ticks, 10.0)
            .map(|t| ticks.format.format(t))
            .collect();
        assert_eq!(labels.first().map(String::as_str), Some("0"));
        assert_eq!(labels.last().map(String::as_str), Some("10"));
        assert_eq!(labels.len(), 11);
    }

    #[test]
    fn time_ticks_ten_seconds_narrow_uses_larger_step() {
        // 2 s would be 40 px apart, under MIN_TIME_TICK_SPACING_PX.
        let ticks = choose_time_ticks(10.0, 200.0);
        assert_eq!(ticks.step_s, 5.0);
    }

    #[test]
    fn time_ticks_two_hours_are_minutes_in_h_mm_ss() {
        let ticks = choose_time_ticks(7200.0, 900.0);
        assert_eq!(ticks.step_s, 600.0);
        assert_eq!(ticks.format, TimeFormat::HoursMinutesSeconds);
        assert_eq!(ticks.format.format(5400.0), "1:30:00");
        assert_eq!(tick_times_s(ticks, 7200.0).count(), 13);
        let wide = choose_time_ticks(7200.0, 3200.0);
        assert_eq!(wide.step_s, 300.0);
        let minutes = choose_time_ticks(1800.0, 1600.0);
        assert_eq!(minutes.step_s, 120.0);
        assert_eq!(minutes.format, TimeFormat::MinutesSeconds);
    }

    #[test]
    fn time_ticks_labels_never_collide() {
        for duration_s in [
            0.3, 1.0, 7.5, 59.0, 61.0, 600.0, 3599.0, 3600.0, 10_800.0, 86_400.0,
        ] {
            for width_px in [200.0, 800.0, 1600.0] {
                let ticks = choose_time_ticks(duration_s, width_px);
                let spacing_px = ticks.step_s * width_px / duration_s;
                let widest = tick_times_s(ticks, duration_s)
                    .map(|t| ticks.format.format(t).len())
                    .max()
                    .unwrap_or(0) as f64
                    * GLYPH_PX as f64;
                let is_last_step = ticks.step_s == TIME_STEPS_S[TIME_STEPS_S.len() - 1];
                assert!(
                    spacing_px >= widest || is_last_step,
                    "{duration_s} s over {width_px} px: step {} s",
                    ticks.step_s
                );
            }
        }
    }

    #[test]
    fn time_format_minutes_and_short_clips() {
        assert_eq!(TimeFormat::MinutesSeconds.format(90.0), "1:30");
        assert_eq!(TimeFormat::Seconds { decimals: 1 }.format(0.5), "0.5");
        let short = choose_time_ticks(0.5, 800.0);
        assert!(short.step_s < 0.1, "{short:?}");
    }

    #[test]
    fn frequency_step_speech_band_is_one_khz() {
        assert_eq!(choose_frequency_step_hz(8000.0, 320.0), 1000.0);
        assert_eq!(choose_frequency_step_hz(22_050.0, 320.0), 2000.0);
        assert_eq!(format_khz(500.0, 500.0), "0.5");
        assert_eq!(format_khz(4000.0, 1000.0), "4");
    }
}
