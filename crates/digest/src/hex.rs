//! Lowercase hexadecimal: encoding into a stack buffer, and strict decoding.

use std::fmt;
use std::ops::Deref;

use crate::algorithm::MAX_SIZE;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The encoded (lowercase hex) part of a digest, held on the stack.
///
/// Returned by [`Digest::encoded`](crate::Digest::encoded) and
/// [`Digest::short`](crate::Digest::short); it dereferences to `&str`, so it can be used
/// wherever a string slice can, without allocating.
///
/// ```
/// let d = imgsvc_digest::Digest::from_bytes(b"foo");
/// let hex = d.encoded();
/// assert_eq!(hex.len(), 64);
/// assert!(hex.starts_with("2c26b46b"));
/// assert_eq!(d.short().as_str(), "2c26b46b68ff");
/// ```
#[derive(Clone, Copy)]
pub struct Hex {
    buf: [u8; 2 * MAX_SIZE],
    len: u8,
}

impl Hex {
    /// Encodes `bytes` (at most the largest digest size; any excess is ignored).
    pub(crate) fn encode(bytes: &[u8]) -> Hex {
        let mut buf = [0u8; 2 * MAX_SIZE];
        let mut len = 0u8;
        for (pair, byte) in buf.chunks_exact_mut(2).zip(bytes) {
            if let [hi, lo] = pair {
                *hi = DIGITS[usize::from(byte >> 4)];
                *lo = DIGITS[usize::from(byte & 0x0f)];
                len += 2;
            }
        }
        Hex { buf, len }
    }

    /// The first `n` hex digits (all of them when there are fewer).
    pub(crate) fn truncated(mut self, n: usize) -> Hex {
        self.len = self.len.min(u8::try_from(n).unwrap_or(u8::MAX));
        self
    }

    /// The hex digits as a string slice.
    ///
    /// ```
    /// let d = imgsvc_digest::Digest::from_bytes(b"");
    /// assert_eq!(d.short().as_str(), "e3b0c44298fc");
    /// ```
    pub fn as_str(&self) -> &str {
        let digits = self.buf.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII hex digits are ever written, so this never falls back.
        std::str::from_utf8(digits).unwrap_or_default()
    }
}

impl Deref for Hex {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Hex {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Hex {
    fn eq(&self, other: &Hex) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Hex {}

impl PartialEq<str> for Hex {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Hex {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The value of one lowercase hex digit; uppercase and anything else is `None`.
pub(crate) const fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes lowercase hex into `out`, which must be exactly half as long as `text`.
/// Returns `None` on any other character or a length mismatch.
pub(crate) fn decode_into(text: &[u8], out: &mut [u8]) -> Option<()> {
    if text.len() != 2 * out.len() {
        return None;
    }
    for (pair, byte) in text.chunks_exact(2).zip(out.iter_mut()) {
        let [hi, lo] = pair else { return None };
        *byte = (nibble(*hi)? << 4) | nibble(*lo)?;
    }
    Some(())
}

/// The `i`-th hex digit (as ASCII) of `bytes`, or `None` past the end.
pub(crate) fn digit_at(bytes: &[u8], i: usize) -> Option<u8> {
    let byte = bytes.get(i / 2)?;
    let value = if i.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    };
    Some(DIGITS[usize::from(value)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes_every_byte() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        for chunk in bytes.chunks(MAX_SIZE) {
            let hex = Hex::encode(chunk);
            let mut back = vec![0u8; chunk.len()];
            assert_eq!(decode_into(hex.as_bytes(), &mut back), Some(()));
            assert_eq!(back, chunk);
        }
    }

    #[test]
    fn decoding_rejects_uppercase_and_odd_lengths() {
        let mut out = [0u8; 2];
        assert_eq!(decode_into(b"ABCD", &mut out), None);
        assert_eq!(decode_into(b"abc", &mut out), None);
        assert_eq!(decode_into(b"ab g", &mut out), None);
        assert_eq!(decode_into(b"0aff", &mut out), Some(()));
        assert_eq!(out, [0x0a, 0xff]);
    }

    #[test]
    fn digits_are_read_one_by_one() {
        let bytes = [0xab, 0x01];
        let digits: Vec<u8> = (0..5).filter_map(|i| digit_at(&bytes, i)).collect();
        assert_eq!(digits, b"ab01");
    }
}
