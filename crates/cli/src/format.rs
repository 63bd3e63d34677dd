//! Docker's human formats: sizes in decimal units, durations as "2 days ago", Go's time text.

use std::time::{SystemTime, UNIX_EPOCH};

use imgsvc::imagestore::Timestamp;

/// A `--format` other than `table` or `json`.
#[derive(Debug, thiserror::Error)]
#[error("unsupported format {0:?}: use table or json")]
pub(crate) struct UnsupportedFormat(String);

/// Whether `--format` asks for JSON lines (`json`, `{{json .}}`) rather than the table.
pub(crate) fn wants_json(format: Option<&str>) -> Result<bool, UnsupportedFormat> {
    match format {
        None | Some("table") => Ok(false),
        Some("json" | "{{json .}}") => Ok(true),
        Some(other) => Err(UnsupportedFormat(other.to_owned())),
    }
}

/// A size as Docker prints it: decimal units, three significant digits (`12.3MB`, `0B`).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    // Sizes are shown, not computed with: a float is exact enough.
    #[expect(
        clippy::cast_precision_loss,
        reason = "three significant digits are shown"
    )]
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < UNITS.len() {
        size /= 1000.0;
        unit += 1;
    }
    format!(
        "{}{}",
        significant(size, 3),
        UNITS.get(unit).unwrap_or(&"B")
    )
}

/// `value` with `digits` significant digits and no trailing zeros, as Go's `%.3g` writes
/// numbers below 1000 (and `1e+03` when rounding reaches 1000).
fn significant(value: f64, digits: usize) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    let integer_digits = if value >= 100.0 {
        3
    } else if value >= 10.0 {
        2
    } else {
        1
    };
    let decimals = digits.saturating_sub(integer_digits);
    let mut text = format!("{value:.decimals$}");
    if text.split('.').next().is_some_and(|int| int.len() > digits) {
        return "1e+03".to_owned();
    }
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    text
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `2 days ago` for a time, `N/A` without one.
pub(crate) fn since(created: Option<&Timestamp>, now: i64) -> String {
    match created {
        Some(time) => format!(
            "{} ago",
            human_duration(now.saturating_sub(time.unix_seconds()))
        ),
        None => "N/A".to_owned(),
    }
}

/// A duration in seconds as Docker words it (`About a minute`, `3 hours`, `2 weeks`).
pub(crate) fn human_duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    // Hours are rounded, as Docker rounds them.
    let hours = (seconds + 1800) / 3600;
    match () {
        () if seconds < 1 => "Less than a second".to_owned(),
        () if seconds == 1 => "1 second".to_owned(),
        () if seconds < 60 => format!("{seconds} seconds"),
        () if minutes == 1 => "About a minute".to_owned(),
        () if minutes < 60 => format!("{minutes} minutes"),
        () if hours == 1 => "About an hour".to_owned(),
        () if hours < 48 => format!("{hours} hours"),
        () if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        () if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        () if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        () => format!("{} years", seconds / 3600 / 24 / 365),
    }
}

/// A time as Go's `time.Time.String` writes it in UTC: `2024-01-01 00:00:00 +0000 UTC`.
pub(crate) fn go_time(created: Option<&Timestamp>) -> String {
    let Some(utc) = created.and_then(|t| Timestamp::from_unix(t.unix_seconds(), 0, 0)) else {
        return "0001-01-01 00:00:00 +0000 UTC".to_owned();
    };
    // RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SSZ`.
    let text = utc.to_string();
    let text = text.trim_end_matches('Z').replacen('T', " ", 1);
    format!("{text} +0000 UTC")
}

/// A time as RFC 3339 in UTC, seconds only (`2024-01-01T00:00:00Z`), or empty.
pub(crate) fn rfc3339(created: Option<&Timestamp>) -> String {
    created
        .and_then(|t| Timestamp::from_unix(t.unix_seconds(), 0, 0))
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// `text` cut to `width` characters, the last being `…`, as Docker's tables cut long cells.
pub(crate) fn ellipsis(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::{ellipsis, go_time, human_duration, human_size};

    #[test]
    fn sizes_use_decimal_units_and_three_digits() {
        let table = [
            (0, "0B"),
            (999, "999B"),
            (1000, "1kB"),
            (12_345, "12.3kB"),
            (7_331_234, "7.33MB"),
            (123_456_789, "123MB"),
            (1_500_000_000, "1.5GB"),
            (999_999, "1e+03kB"),
        ];
        for (bytes, want) in table {
            assert_eq!(human_size(bytes), want, "{bytes}");
        }
    }

    #[test]
    fn durations_read_like_dockers() {
        let table = [
            (0, "Less than a second"),
            (1, "1 second"),
            (59, "59 seconds"),
            (60, "About a minute"),
            (300, "5 minutes"),
            (3600, "About an hour"),
            (3 * 3600, "3 hours"),
            (3 * 86_400, "3 days"),
            (15 * 86_400, "2 weeks"),
            (90 * 86_400, "3 months"),
            (800 * 86_400, "2 years"),
        ];
        for (seconds, want) in table {
            assert_eq!(human_duration(seconds), want, "{seconds}");
        }
    }

    #[test]
    fn times_and_cells_are_written_like_go() -> Result<(), Box<dyn std::error::Error>> {
        let time = "2024-01-01T02:00:00+02:00".parse()?;
        assert_eq!(go_time(Some(&time)), "2024-01-01 00:00:00 +0000 UTC");
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(ellipsis("abc", 4), "abc");
        Ok(())
    }
}
