//! `Content-Range: bytes <start>-<end>/<total>` of a 206 answer.

use std::str::FromStr;

/// A parsed `Content-Range` of a byte-range answer.
///
/// ```
/// use imgsvc_distribution::client::ContentRange;
///
/// let range: ContentRange = "bytes 100-199/200".parse()?;
/// assert_eq!((range.start, range.end, range.total), (100, 199, Some(200)));
/// assert!(range.reaches_end());
/// let open: ContentRange = "bytes 0-9/*".parse()?;
/// assert_eq!(open.total, None);
/// assert!("bytes 9-0/10".parse::<ContentRange>().is_err());
/// assert!("items 0-1/2".parse::<ContentRange>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// The first byte's offset.
    pub start: u64,
    /// The last byte's offset (inclusive).
    pub end: u64,
    /// The whole length, unless the server wrote `*`.
    pub total: Option<u64>,
}

impl ContentRange {
    /// Whether the range runs to the end of the content (always true when the total is
    /// unknown).
    pub fn reaches_end(&self) -> bool {
        self.total
            .is_none_or(|total| self.end.checked_add(1) == Some(total))
    }
}

/// Why a `Content-Range` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not parse Content-Range header {0:?}")]
pub struct ContentRangeError(String);

impl FromStr for ContentRange {
    type Err = ContentRangeError;

    fn from_str(text: &str) -> Result<ContentRange, ContentRangeError> {
        let invalid = || ContentRangeError(text.chars().take(100).collect());
        let rest = text.trim().strip_prefix("bytes ").ok_or_else(invalid)?;
        let (span, total) = rest.split_once('/').ok_or_else(invalid)?;
        let (start, end) = span.split_once('-').ok_or_else(invalid)?;
        let number = |s: &str| -> Result<u64, ContentRangeError> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            s.parse().map_err(|_| invalid())
        };
        let start = number(start)?;
        let end = number(end)?;
        let total = if total == "*" {
            None
        } else {
            Some(number(total)?)
        };
        if end < start || total.is_some_and(|t| end >= t) {
            return Err(invalid());
        }
        Ok(ContentRange { start, end, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_strictly() {
        for bad in [
            "",
            "bytes",
            "bytes 1-/2",
            "bytes -1/2",
            "bytes 1-2/2",
            "bytes +1-2/3",
            "bytes 1-2/x",
        ] {
            assert!(bad.parse::<ContentRange>().is_err(), "{bad}");
        }
        let r: ContentRange = "bytes 5-5/10".parse().expect("valid");
        assert!(!r.reaches_end());
    }
}
