//! Shell-style pattern matching with the semantics of Go's `path.Match`, which Docker uses to
//! filter images by reference.
//!
//! Syntax: `*` matches any run of characters other than `/`, `?` one character other than
//! `/`, `[...]` a character class (`[^...]` negated, ranges `a-z`, `\` escapes), `\c` the
//! character `c`. The matching is Go's: the pattern is cut into chunks, each a run of stars and
//! the literal text after it; a chunk takes the first place it matches, except that the last
//! chunk must reach the end of the name. A malformed pattern is an error even where the name
//! did not match.

use std::str::Chars;

use crate::Error;
use crate::error::snippet;

/// Whether `name` matches `pattern`; [`Error::BadPattern`] if the pattern is malformed.
pub(crate) fn matches(pattern: &str, name: &str) -> Result<bool, Error> {
    let bad = || Error::BadPattern {
        pattern: snippet(pattern),
    };
    let mut pattern = pattern;
    let mut name = name;
    while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing star takes the rest of the name, unless that crosses a `/`.
            return Ok(!name.contains('/'));
        }
        // The chunk where we are, or (after a star) further on without crossing a `/`.
        let mut found = None;
        let mut candidates = std::iter::once(name).chain(
            star.then(|| {
                name.char_indices()
                    .take_while(|&(_, c)| c != '/')
                    .map(|(i, c)| name.get(i + c.len_utf8()..).unwrap_or_default())
            })
            .into_iter()
            .flatten(),
        );
        for candidate in &mut candidates {
            match match_chunk(chunk, candidate).map_err(|()| bad())? {
                // The last chunk must consume the whole name.
                Some(rest) if rest.is_empty() || !pattern.is_empty() => {
                    found = Some(rest);
                    break;
                }
                _ => {}
            }
        }
        match found {
            Some(rest) => name = rest,
            None => {
                validate_rest(pattern).map_err(|()| bad())?;
                return Ok(false);
            }
        }
    }
    Ok(name.is_empty())
}

/// Splits off the next chunk: whether it starts with stars, the literal part up to the next
/// unescaped star outside a class, and the rest of the pattern.
fn scan_chunk(pattern: &str) -> (bool, &str, &str) {
    let trimmed = pattern.trim_start_matches('*');
    let star = trimmed.len() != pattern.len();
    let mut in_class = false;
    let mut escaped = false;
    for (i, c) in trimmed.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            '*' if !in_class => {
                let (chunk, rest) = trimmed.split_at(i);
                return (star, chunk, rest);
            }
            _ => {}
        }
    }
    (star, trimmed, "")
}

/// Checks that the rest of a pattern is well formed, as Go does before answering "no match".
fn validate_rest(mut pattern: &str) -> Result<(), ()> {
    while !pattern.is_empty() {
        let (_, chunk, rest) = scan_chunk(pattern);
        match_chunk(chunk, "")?;
        pattern = rest;
    }
    Ok(())
}

/// Matches `chunk` (no stars) against the start of `text`: `Ok(Some(rest))` on a match,
/// `Ok(None)` when it does not match, `Err(())` when the chunk is malformed. The whole chunk is
/// always scanned, so a malformed chunk is reported even after a mismatch.
fn match_chunk<'t>(chunk: &str, text: &'t str) -> Result<Option<&'t str>, ()> {
    let mut text_chars = text.chars();
    let mut failed = false;
    let mut chunk = chunk.chars();
    while let Some(c) = chunk.next() {
        let current = if failed {
            None
        } else {
            text_chars.clone().next()
        };
        match c {
            '[' => {
                let class_matched = match_class(&mut chunk, current)?;
                failed |= current.is_none() || !class_matched;
            }
            '?' => failed |= current.is_none_or(|t| t == '/'),
            '\\' => {
                let literal = chunk.next().ok_or(())?;
                failed |= current != Some(literal);
            }
            literal => failed |= current != Some(literal),
        }
        if !failed {
            text_chars.next();
        }
    }
    Ok((!failed).then_some(text_chars.as_str()))
}

/// Reads a character class after its `[` and says whether `current` is in it.
fn match_class(chunk: &mut Chars<'_>, current: Option<char>) -> Result<bool, ()> {
    let mut negated = false;
    if chunk.clone().next() == Some('^') {
        chunk.next();
        negated = true;
    }
    let mut matched = false;
    let mut ranges = 0;
    loop {
        if chunk.clone().next() == Some(']') && ranges > 0 {
            chunk.next();
            break;
        }
        let lo = class_char(chunk)?;
        let mut hi = lo;
        if chunk.clone().next() == Some('-') {
            chunk.next();
            hi = class_char(chunk)?;
        }
        if current.is_some_and(|c| lo <= c && c <= hi) {
            matched = true;
        }
        ranges += 1;
    }
    Ok(matched != negated)
}

/// One character of a class, `\`-escapes resolved; `-` and `]` must be escaped there.
fn class_char(chunk: &mut Chars<'_>) -> Result<char, ()> {
    match chunk.next().ok_or(())? {
        '-' | ']' => Err(()),
        '\\' => chunk.next().ok_or(()),
        c => Ok(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> Result<bool, ()> {
        matches(pattern, name).map_err(|_| ())
    }

    #[test]
    fn go_path_match_cases() {
        let cases: &[(&str, &str, Result<bool, ()>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", Err(())),
            ("[-]", "-", Err(())),
            ("[x-]", "x", Err(())),
            ("[x-]", "-", Err(())),
            ("[x-]", "z", Err(())),
            ("[-x]", "x", Err(())),
            ("[-x]", "-", Err(())),
            ("[-x]", "a", Err(())),
            ("\\", "a", Err(())),
            ("[a-b-c]", "a", Err(())),
            ("[", "a", Err(())),
            ("[^", "a", Err(())),
            ("[^bc", "a", Err(())),
            ("a[", "a", Err(())),
            ("a[", "ab", Err(())),
            ("a[", "x", Err(())),
            ("a/b[", "x", Err(())),
            ("*x", "xxx", Ok(true)),
            ("[b-a]", "a", Ok(false)), // a reversed range is empty, not an error
            ("", "", Ok(true)),
            ("", "a", Ok(false)),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(m(pattern, name), *expected, "{pattern:?} ~ {name:?}");
        }
    }
}
