//! Numbers in tar headers: octal text, GNU base-256, and the decimal numbers of PAX records,
//! parsed exactly as Go's `archive/tar` parses them (Docker's reader), never panicking.

/// A header string: the bytes up to the first NUL.
pub(crate) fn c_string(field: &[u8]) -> &[u8] {
    match field.iter().position(|&b| b == 0) {
        Some(end) => field.get(..end).unwrap_or(field),
        None => field,
    }
}

/// A numeric header field: base-256 when the top bit of the first byte is set (a big-endian
/// two's-complement number in the remaining bits), else octal text.
///
/// `None` when the field is not a number or does not fit an `i64`.
pub(crate) fn parse_numeric(field: &[u8]) -> Option<i64> {
    match field.first() {
        Some(&first) if first & 0x80 != 0 => parse_base256(field),
        _ => parse_octal(field).and_then(|x| i64::try_from(x).ok()),
    }
}

/// GNU base-256: the first byte's top bit marks the format, its next bit is the sign.
fn parse_base256(field: &[u8]) -> Option<i64> {
    let negative = field.first().is_some_and(|&b| b & 0x40 != 0);
    let invert = if negative { 0xff } else { 0x00 };
    let mut x: u64 = 0;
    for (i, &byte) in field.iter().enumerate() {
        let mut c = byte ^ invert;
        if i == 0 {
            c &= 0x7f;
        }
        if x >> 56 != 0 {
            return None;
        }
        x = (x << 8) | u64::from(c);
    }
    let x = i64::try_from(x).ok()?;
    // -a-1 == !a: the inverted bits are the magnitude minus one.
    Some(if negative { !x } else { x })
}

/// Octal text, padded with spaces or NULs on either side; an empty field is zero.
pub(crate) fn parse_octal(field: &[u8]) -> Option<u64> {
    let trimmed = trim(field, |b| b == b' ' || b == 0);
    let digits = c_string(trimmed);
    if trimmed.is_empty() {
        return Some(0);
    }
    parse_digits(digits, 8)
}

/// Unsigned digits in `radix` (8 or 10) with no sign, no spaces, at least one digit.
fn parse_digits(digits: &[u8], radix: u64) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let digit = u64::from(b.checked_sub(b'0')?);
        if digit >= radix {
            return None;
        }
        acc.checked_mul(radix)?.checked_add(digit)
    })
}

/// A decimal integer with an optional sign, as Go's `strconv.ParseInt(s, 10, 64)` accepts.
pub(crate) fn parse_decimal(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = parse_digits(digits, 10)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `field` without leading and trailing bytes matching `strip`.
fn trim(field: &[u8], strip: impl Fn(u8) -> bool) -> &[u8] {
    let start = field.iter().position(|&b| !strip(b)).unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|&b| !strip(b))
        .map_or(start, |last| last + 1);
    field.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fields_as_tar_writers_pad_them() {
        assert_eq!(parse_numeric(b"0000644\0"), Some(0o644));
        assert_eq!(parse_numeric(b"   644 \0"), Some(0o644));
        assert_eq!(parse_numeric(b"\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(parse_numeric(b"        "), Some(0));
        assert_eq!(parse_numeric(b"00000000144\0"), Some(100));
        assert_eq!(parse_numeric(b"12\x0034\0"), Some(0o12));
        assert_eq!(parse_numeric(b"77777777777\0"), Some(0o77777777777));
    }

    #[test]
    fn octal_rejects_what_go_rejects() {
        assert_eq!(parse_numeric(b"12 34\0\0\0"), None);
        assert_eq!(parse_numeric(b"0000008\0"), None);
        assert_eq!(parse_numeric(b"+000644\0"), None);
        assert_eq!(parse_numeric(b"-000644\0"), None);
        assert_eq!(parse_numeric(b"0x12\0\0\0\0"), None);
    }

    #[test]
    fn base256_positive_negative_and_overflow() {
        assert_eq!(parse_numeric(&[0x80, 0, 0, 0, 0, 0, 0, 1]), Some(1));
        assert_eq!(
            parse_numeric(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
            Some(256)
        );
        assert_eq!(parse_numeric(&[0xff; 8]), Some(-1));
        assert_eq!(
            parse_numeric(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]),
            Some(-2)
        );
        // 2^63 does not fit.
        assert_eq!(
            parse_numeric(&[0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
        // More than 8 significant bytes.
        assert_eq!(
            parse_numeric(&[0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
        assert_eq!(
            parse_numeric(&[
                0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
            ]),
            Some(i64::MAX)
        );
    }

    #[test]
    fn decimal_like_go_parse_int() {
        assert_eq!(parse_decimal(b"123"), Some(123));
        assert_eq!(parse_decimal(b"-5"), Some(-5));
        assert_eq!(parse_decimal(b"+5"), Some(5));
        assert_eq!(parse_decimal(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_decimal(b"9223372036854775808"), None);
        assert_eq!(parse_decimal(b""), None);
        assert_eq!(parse_decimal(b"-"), None);
        assert_eq!(parse_decimal(b" 1"), None);
        assert_eq!(parse_decimal(b"1a"), None);
    }

    #[test]
    fn c_strings_end_at_the_first_nul() {
        assert_eq!(c_string(b"abc\0def"), b"abc");
        assert_eq!(c_string(b"abc"), b"abc");
        assert_eq!(c_string(b"\0"), b"");
    }
}
