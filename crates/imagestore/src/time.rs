//! [`Timestamp`]: RFC 3339 times as image configs and the `lastUpdated` metadata write them
//! (Go's `time.RFC3339Nano`), parsed and formatted without a date library.

use std::fmt;
use std::str::FromStr;

/// An instant with the UTC offset it was written with, read and written as RFC 3339 the way
/// Docker writes times: `2024-05-01T10:11:12.123456789+02:00`, the fraction trimmed of
/// trailing zeros (and left out when zero), `Z` for a zero offset.
///
/// Parsing accepts what Go's RFC 3339 parser accepts for JSON times: years 0000 to 9999,
/// an optional fraction of any number of digits (nanoseconds kept), `Z` or `±hh:mm`.
///
/// ```
/// use imgsvc_imagestore::Timestamp;
///
/// let t: Timestamp = "2024-05-01T10:11:12.123450000+02:00".parse()?;
/// assert_eq!(t.to_string(), "2024-05-01T10:11:12.12345+02:00");
/// assert_eq!(t.unix_seconds(), 1_714_551_072);
/// assert_eq!(t.nanos(), 123_450_000);
/// assert_eq!("2024-05-01T08:11:12+00:00".parse::<Timestamp>()?.to_string(), "2024-05-01T08:11:12Z");
/// assert!("2024-02-30T00:00:00Z".parse::<Timestamp>().is_err());
/// # Ok::<(), imgsvc_imagestore::InvalidTimestamp>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    seconds: i64,
    /// Nanoseconds within the second, below 1e9.
    nanos: u32,
    /// The UTC offset it is written with, in seconds east of UTC.
    offset: i32,
}

/// Text that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid RFC 3339 time {text:?}: {reason} (expected e.g. 2024-05-01T10:11:12.5+02:00)")]
pub struct InvalidTimestamp {
    /// The text (shortened when long).
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range Go writes in JSON.
const MIN_SECONDS: i64 = -62_167_219_200;
const MAX_SECONDS: i64 = 253_402_300_799;

/// Construction
impl Timestamp {
    /// The current time, in UTC.
    ///
    /// ```
    /// let now = imgsvc_imagestore::Timestamp::now();
    /// assert!(now.unix_seconds() > 1_700_000_000);
    /// assert_eq!(now.offset_seconds(), 0);
    /// ```
    pub fn now() -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            seconds: i64::try_from(since.as_secs()).unwrap_or(MAX_SECONDS),
            nanos: since.subsec_nanos(),
            offset: 0,
        }
    }

    /// The instant `seconds` (since 1970-01-01 UTC) plus `nanos`, written with the UTC offset
    /// `offset_seconds`; `None` if the nanoseconds reach a second, the offset is not whole
    /// minutes under 24 hours, or the local year falls outside 0000 to 9999.
    ///
    /// ```
    /// use imgsvc_imagestore::Timestamp;
    /// let t = Timestamp::from_unix(0, 500, 3600).expect("in range");
    /// assert_eq!(t.to_string(), "1970-01-01T01:00:00.0000005+01:00");
    /// assert!(Timestamp::from_unix(0, 1_000_000_000, 0).is_none());
    /// ```
    pub fn from_unix(seconds: i64, nanos: u32, offset_seconds: i32) -> Option<Timestamp> {
        let local = seconds.checked_add(i64::from(offset_seconds))?;
        let offset_ok = offset_seconds % 60 == 0 && offset_seconds.abs() < 24 * 3600;
        (nanos < 1_000_000_000 && offset_ok && (MIN_SECONDS..=MAX_SECONDS).contains(&local))
            .then_some(Timestamp {
                seconds,
                nanos,
                offset: offset_seconds,
            })
    }
}

/// Access
impl Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    ///
    /// ```
    /// let t: imgsvc_imagestore::Timestamp = "1970-01-01T00:01:00+00:01".parse()?;
    /// assert_eq!(t.unix_seconds(), 0);
    /// # Ok::<(), imgsvc_imagestore::InvalidTimestamp>(())
    /// ```
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds within the second.
    ///
    /// ```
    /// let t: imgsvc_imagestore::Timestamp = "2001-02-03T04:05:06.7Z".parse()?;
    /// assert_eq!(t.nanos(), 700_000_000);
    /// # Ok::<(), imgsvc_imagestore::InvalidTimestamp>(())
    /// ```
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// The UTC offset the time is written with, in seconds east of UTC.
    ///
    /// ```
    /// let t: imgsvc_imagestore::Timestamp = "2001-02-03T04:05:06-07:30".parse()?;
    /// assert_eq!(t.offset_seconds(), -(7 * 3600 + 30 * 60));
    /// # Ok::<(), imgsvc_imagestore::InvalidTimestamp>(())
    /// ```
    pub fn offset_seconds(&self) -> i32 {
        self.offset
    }
}

impl FromStr for Timestamp {
    type Err = InvalidTimestamp;

    fn from_str(text: &str) -> Result<Timestamp, InvalidTimestamp> {
        let fail = |reason| InvalidTimestamp {
            text: text.chars().take(64).collect(),
            reason,
        };
        let b = text.as_bytes();
        let (year, month, day) = (number(b, 0, 4), number(b, 5, 2), number(b, 8, 2));
        let (hour, minute, second) = (number(b, 11, 2), number(b, 14, 2), number(b, 17, 2));
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
            (year, month, day, hour, minute, second)
        else {
            return Err(fail("not of the form YYYY-MM-DDThh:mm:ss"));
        };
        if separators.iter().any(|&(at, c)| b.get(at) != Some(&c)) {
            return Err(fail("not of the form YYYY-MM-DDThh:mm:ss"));
        }
        if !(1..=12).contains(&month) {
            return Err(fail("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(fail("day out of range"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(fail("time of day out of range"));
        }
        let mut rest = b.get(19..).unwrap_or_default();
        let mut nanos = 0u32;
        if let Some((b'.' | b',', fraction)) = rest.split_first() {
            let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(fail("a fraction of a second needs digits"));
            }
            for i in 0..9 {
                let digit = fraction
                    .get(i)
                    .filter(|_| i < digits)
                    .map_or(0, |d| d - b'0');
                nanos = nanos * 10 + u32::from(digit);
            }
            rest = fraction.get(digits..).unwrap_or_default();
        }
        let offset = match rest {
            [b'Z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (Some(h), Some(m)) = (number(rest, 1, 2), number(rest, 4, 2)) else {
                    return Err(fail("the zone offset is not ±hh:mm"));
                };
                if h > 23 || m > 59 {
                    return Err(fail("zone offset out of range"));
                }
                let minutes = i32::try_from(h * 60 + m).unwrap_or(0);
                if *sign == b'-' {
                    -60 * minutes
                } else {
                    60 * minutes
                }
            }
            _ => return Err(fail("the zone must be Z or ±hh:mm after the seconds")),
        };
        let local = days_from_civil(i64::from(year), month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second);
        Ok(Timestamp {
            seconds: local - i64::from(offset),
            nanos,
            offset,
        })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.seconds + i64::from(self.offset);
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        if self.nanos != 0 {
            let digits = format!("{:09}", self.nanos);
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        if self.offset == 0 {
            f.write_str("Z")
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let minutes = self.offset.unsigned_abs() / 60;
            write!(f, "{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The decimal number in `len` ASCII digits at `at`.
fn number(bytes: &[u8], at: usize, len: usize) -> Option<u32> {
    let digits = bytes.get(at..at + len)?;
    digits.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Timestamp {
        text.parse().expect("a valid test time")
    }

    #[test]
    fn formats_like_go_rfc3339_nano() {
        for (input, output) in [
            (
                "2024-05-01T10:11:12.123456789+02:00",
                "2024-05-01T10:11:12.123456789+02:00",
            ),
            ("2024-05-01T10:11:12.100Z", "2024-05-01T10:11:12.1Z"),
            ("2024-05-01T10:11:12.000000000Z", "2024-05-01T10:11:12Z"),
            (
                "2013-06-13T14:03:50.821769-07:00",
                "2013-06-13T14:03:50.821769-07:00",
            ),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
            ("2024-02-29T23:59:59,5-00:00", "2024-02-29T23:59:59.5Z"),
            (
                "2021-09-23T23:47:57.4422250641234Z",
                "2021-09-23T23:47:57.442225064Z",
            ),
        ] {
            assert_eq!(parse(input).to_string(), output, "{input}");
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(parse("1970-01-01T00:00:00Z").unix_seconds(), 0);
        assert_eq!(parse("0000-01-01T00:00:00Z").unix_seconds(), MIN_SECONDS);
        assert_eq!(parse("9999-12-31T23:59:59Z").unix_seconds(), MAX_SECONDS);
        assert_eq!(parse("2000-03-01T00:00:00Z").unix_seconds(), 951_868_800);
        assert_eq!(parse("1969-12-31T23:00:00-01:00").unix_seconds(), 0);
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01 10:11:12Z",
            "2024-05-01t10:11:12Z",
            "2024-05-01T10:11:12z",
            "2024-05-01T10:11:12",
            "2024-13-01T10:11:12Z",
            "2023-02-29T10:11:12Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T10:60:00Z",
            "2024-05-01T10:11:60Z",
            "2024-05-01T10:11:12.Z",
            "2024-05-01T10:11:12+2:00",
            "2024-05-01T10:11:12+24:00",
            "2024-05-01T10:11:12+0200",
            "+2024-05-01T10:11:12Z",
            "2024-05-01T10:11:12Z ",
            "२०२४-05-01T10:11:12Z",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn display_parses_back(
            seconds in MIN_SECONDS + 86_400..MAX_SECONDS - 86_400,
            nanos in 0u32..1_000_000_000,
            offset_minutes in -(24 * 60 - 1)..(24 * 60),
        ) {
            let t = Timestamp::from_unix(seconds, nanos, offset_minutes * 60).expect("in range");
            let text = t.to_string();
            prop_assert_eq!(text.parse::<Timestamp>(), Ok(t), "{}", text);
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}") {
            let _ = text.parse::<Timestamp>();
        }
    }
}
