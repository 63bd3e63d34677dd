//! PAX extended headers: the `"<len> <key>=<value>\n"` records, their validation, PAX times,
//! and how records override header fields, as Go's `archive/tar` (Docker's reader) does it.

use super::Timestamp;
use super::number::parse_decimal;

/// A PAX record as `(key, value)`.
pub(crate) type Record = (Vec<u8>, Vec<u8>);

/// GNU sparse format 0.0 repeats these two keys, one pair per region.
pub(crate) const SPARSE_OFFSET: &[u8] = b"GNU.sparse.offset";
pub(crate) const SPARSE_NUMBYTES: &[u8] = b"GNU.sparse.numbytes";

/// Parses the data of a PAX extended header into `out`, in order.
///
/// Fails like Go's reader: a record whose length is not a decimal number of at least 5 that
/// fits the data, that does not end in a newline, has no `=`, an empty key, a NUL in the key
/// (or in the value of `path`, `linkpath`, `uname`, `gname`), or GNU sparse 0.0 offsets and
/// sizes out of order.
pub(crate) fn parse_records(mut data: &[u8], out: &mut Vec<Record>) -> Result<(), &'static str> {
    let mut sparse_pairs = 0usize;
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|&b| b == b' ')
            .ok_or("a record has no length (no space found)")?;
        let (len_text, rest) = data.split_at(space);
        let len = parse_decimal(len_text)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n >= 5 && n <= data.len())
            .ok_or("a record length is not a number that fits the header data")?;
        // The record is `len` bytes from the start of `data`, its body after the space.
        let body_len = len
            .checked_sub(space + 1)
            .filter(|&n| n > 0)
            .ok_or("a record length is shorter than its own length field")?;
        let record = rest.get(1..=body_len).ok_or("a record is cut short")?;
        let (text, newline) = record.split_at(body_len - 1);
        if newline != b"\n" {
            return Err("a record does not end with a newline");
        }
        let eq = text
            .iter()
            .position(|&b| b == b'=')
            .ok_or("a record has no '=' between key and value")?;
        let (key, value) = (&text[..eq], &text[eq + 1..]);
        if key.is_empty() {
            return Err("a record has an empty key");
        }
        let nul_forbidden = match key {
            b"path" | b"linkpath" | b"uname" | b"gname" => value,
            _ => key,
        };
        if nul_forbidden.contains(&0) {
            return Err("a record contains a NUL byte");
        }
        if key == SPARSE_OFFSET || key == SPARSE_NUMBYTES {
            let expected = if sparse_pairs.is_multiple_of(2) {
                SPARSE_OFFSET
            } else {
                SPARSE_NUMBYTES
            };
            if key != expected || value.contains(&b',') {
                return Err("GNU sparse 0.0 offsets and sizes are out of order");
            }
            sparse_pairs += 1;
        }
        out.push((key.to_vec(), value.to_vec()));
        data = rest.get(1 + body_len..).unwrap_or_default();
    }
    Ok(())
}

/// The value of the last record with `key`.
pub(crate) fn lookup<'a>(records: &'a [Record], key: &[u8]) -> Option<&'a [u8]> {
    records
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

/// A PAX time: decimal seconds with an optional fraction (right-truncated to nanoseconds),
/// e.g. `1700000000.123456789` or `-1.5`.
pub(crate) fn parse_time(text: &[u8]) -> Option<Timestamp> {
    let (secs_text, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], Some(&text[dot + 1..])),
        None => (text, None),
    };
    let secs = parse_decimal(secs_text)?;
    let fraction = fraction.unwrap_or_default();
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        let digit = fraction.get(i).map_or(0, |d| u32::from(d - b'0'));
        nanos = nanos * 10 + digit;
    }
    if nanos == 0 {
        return Timestamp::new(secs, 0);
    }
    if secs_text.first() == Some(&b'-') {
        // "-1.5" is one and a half seconds before the epoch: -2 s + 0.5 s.
        Timestamp::new(secs.checked_sub(1)?, 1_000_000_000 - nanos)
    } else {
        Timestamp::new(secs, nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(data: &[u8]) -> Result<Vec<Record>, &'static str> {
        let mut out = Vec::new();
        parse_records(data, &mut out).map(|()| out)
    }

    fn rec(k: &str, v: &[u8]) -> Record {
        (k.as_bytes().to_vec(), v.to_vec())
    }

    #[test]
    fn records_in_order() {
        assert_eq!(
            parse(b"16 path=a/b/c.d\n21 SCHILY.xattr.a=\0\xff\n"),
            Ok(vec![
                rec("path", b"a/b/c.d"),
                rec("SCHILY.xattr.a", b"\0\xff")
            ])
        );
        assert_eq!(parse(b""), Ok(vec![]));
        // A value may contain '=' and newlines; only the length delimits it.
        assert_eq!(parse(b"11 k=a=\nb=\n"), Ok(vec![rec("k", b"a=\nb=")]));
        assert_eq!(parse(b"6 k=v\n"), Ok(vec![rec("k", b"v")]));
        assert_eq!(parse(b"5 k=\n"), Ok(vec![rec("k", b"")]));
    }

    #[test]
    fn malformed_records_are_errors() {
        for bad in [
            &b"16path=a/b/c.d\n"[..],
            b"x6 k=v\n",
            b"-6 k=v\n",
            b"4 k=\n",
            b"7 k=v\n",
            b"6 k=vX",
            b"6 kv\n\n",
            b"5 =v\n",
            b"0000000000006 k=v\n",
            b"99999999999999999999999 k=v\n",
            b"12 path=a\0b\n",
            b"9 k\0ey=v\n",
            b"6 k=v\n ",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // A NUL is allowed in values other than the four name keys.
        assert!(parse(b"9 key=\0\0\n").is_ok());
    }

    #[test]
    fn sparse_00_pairs_must_alternate() {
        assert!(parse(b"23 GNU.sparse.offset=0\n25 GNU.sparse.numbytes=1\n").is_ok());
        assert!(parse(b"25 GNU.sparse.numbytes=1\n").is_err());
        assert!(parse(b"23 GNU.sparse.offset=0\n23 GNU.sparse.offset=0\n").is_err());
        assert!(parse(b"25 GNU.sparse.offset=0,1\n").is_err());
    }

    #[test]
    fn times_with_fractions_and_signs() {
        let t = |s: &[u8]| parse_time(s).map(|t| (t.secs(), t.nanos()));
        assert_eq!(t(b"1350244992.023960108"), Some((1350244992, 23960108)));
        assert_eq!(t(b"1350244992.3"), Some((1350244992, 300_000_000)));
        assert_eq!(t(b"1350244992.0239601089"), Some((1350244992, 23960108)));
        assert_eq!(t(b"-1.5"), Some((-2, 500_000_000)));
        assert_eq!(t(b"-0.000000001"), Some((-1, 999_999_999)));
        assert_eq!(t(b"-5"), Some((-5, 0)));
        assert_eq!(t(b"5."), Some((5, 0)));
        assert_eq!(t(b"1.0x"), None);
        assert_eq!(t(b"1.-5"), None);
        assert_eq!(t(b""), None);
        assert_eq!(t(b".5"), None);
    }

    #[test]
    fn lookup_takes_the_last_value() {
        let records = vec![rec("a", b"1"), rec("b", b"2"), rec("a", b"3")];
        assert_eq!(lookup(&records, b"a"), Some(&b"3"[..]));
        assert_eq!(lookup(&records, b"c"), None);
    }
}
