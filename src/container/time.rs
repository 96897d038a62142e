//! Timestamps: the epochs containers count from, and RFC 3339 text in UTC.
#![forbid(unsafe_code)]

/// Seconds from 1904-01-01T00:00:00Z (the QuickTime and ISO BMFF epoch, ISO/IEC 14496-12 §8.2.2.3
/// "creation_time … in seconds since midnight, Jan. 1, 1904, in UTC time") to the Unix epoch.
pub(crate) const MAC_EPOCH_TO_UNIX_S: i64 = 2_082_844_800;

/// Seconds from the Unix epoch to 2001-01-01T00:00:00Z, the epoch of Matroska `DateUTC`
/// (Matroska specification, RFC 9559 §5.1.2.10 "DateUTC … nanoseconds since 2001-01-01T00:00:00,00
/// UTC").
pub(crate) const MATROSKA_EPOCH_UNIX_S: i64 = 978_307_200;

/// The Unix time of 10000-01-01T00:00:00Z: RFC 3339 has four-digit years, so later times cannot be
/// written and are treated as unknown.
const YEAR_10000_UNIX_S: i64 = 253_402_300_800;

/// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" algorithm described
/// by Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms").
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse, "civil from days", same source).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// RFC 3339 text (`2021-09-13T10:02:11Z`) for a Unix time, or `None` outside years 0000–9999.
pub(crate) fn rfc3339_from_unix(unix_s: i64) -> Option<String> {
    if !(days_from_civil(0, 1, 1) * 86_400..YEAR_10000_UNIX_S).contains(&unix_s) {
        return None;
    }
    let days = unix_s.div_euclid(86_400);
    let secs = unix_s.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    ))
}

/// Unix time of a QuickTime/ISO BMFF timestamp (seconds since 1904).
pub(crate) fn unix_from_mac(mac_s: u64) -> i64 {
    // A u64 of seconds since 1904 past i64::MAX is no real date; saturate and let the range check
    // in `rfc3339_from_unix` reject it.
    i64::try_from(mac_s)
        .unwrap_or(i64::MAX)
        .saturating_sub(MAC_EPOCH_TO_UNIX_S)
}

/// Parses an ISO 8601 / RFC 3339 date-time with a zone (`Z`, `+0200` or `+02:00`; fractional
/// seconds ignored) into Unix seconds. Without a zone the instant is unknown, so `None`.
///
/// Apple's `com.apple.quicktime.creationdate` has this form (`2021-09-13T12:02:11+0200`).
pub(crate) fn unix_from_iso8601(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = std::str::from_utf8(b.get(range)?).ok()?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let year = num(0..4)?;
    let month = u32::try_from(num(5..7)?).ok()?;
    let day = u32::try_from(num(8..10)?).ok()?;
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset_s = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        &sign @ (b'+' | b'-') => {
            let oh = num(i + 1..i + 3)?;
            let om = match b.get(i + 3) {
                Some(b':') if b.len() == i + 6 => num(i + 4..i + 6)?,
                Some(_) if b.len() == i + 5 => num(i + 3..i + 5)?,
                None => 0,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let s = oh * 3600 + om * 60;
            if sign == b'-' { -s } else { s }
        }
        _ => return None,
    };
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(local - offset_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_from_unix_known_dates_match() {
        assert_eq!(rfc3339_from_unix(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_from_unix(1_631_527_331).unwrap(),
            "2021-09-13T10:02:11Z"
        );
        assert_eq!(
            rfc3339_from_unix(951_782_400).unwrap(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339_from_unix(-MAC_EPOCH_TO_UNIX_S).unwrap(),
            "1904-01-01T00:00:00Z"
        );
    }

    #[test]
    fn rfc3339_from_unix_out_of_range_is_none() {
        assert_eq!(rfc3339_from_unix(i64::MAX), None);
        assert_eq!(rfc3339_from_unix(i64::MIN), None);
        assert_eq!(rfc3339_from_unix(YEAR_10000_UNIX_S), None);
    }

    #[test]
    fn unix_from_mac_ffmpeg_creation_time_matches() {
        // mvhd creation_time ffmpeg wrote for -metadata creation_time=2021-09-13T10:02:11Z.
        assert_eq!(
            rfc3339_from_unix(unix_from_mac(3_714_372_131)).unwrap(),
            "2021-09-13T10:02:11Z"
        );
        assert_eq!(rfc3339_from_unix(unix_from_mac(u64::MAX)), None);
    }

    #[test]
    fn unix_from_iso8601_zones_convert_to_utc() {
        let want = Some(1_631_527_331);
        assert_eq!(unix_from_iso8601("2021-09-13T12:02:11+0200"), want);
        assert_eq!(unix_from_iso8601("2021-09-13T12:02:11+02:00"), want);
        assert_eq!(unix_from_iso8601("2021-09-13T10:02:11Z"), want);
        assert_eq!(unix_from_iso8601("2021-09-13T10:02:11.250000Z"), want);
        assert_eq!(unix_from_iso8601("2021-09-13T05:02:11-05"), want);
    }

    #[test]
    fn unix_from_iso8601_without_zone_or_garbage_is_none() {
        assert_eq!(unix_from_iso8601("2021-09-13T10:02:11"), None);
        assert_eq!(unix_from_iso8601("2021-13-13T10:02:11Z"), None);
        assert_eq!(unix_from_iso8601("yesterday"), None);
        assert_eq!(unix_from_iso8601("2021-09-13T10:02:11Zjunk"), None);
        assert_eq!(unix_from_iso8601("2021-09-13T10:02:11+0a:00"), None);
        assert_eq!(unix_from_iso8601(""), None);
    }

    #[test]
    fn civil_round_trip_covers_four_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
