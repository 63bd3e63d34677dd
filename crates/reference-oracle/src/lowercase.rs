//! Lower-casing as Go's `strings.ToLower` does it, which decides between "must be lowercase"
//! and "invalid reference format".

/// Maps every character to its simple (one-character) lower-case form, like Go.
///
/// Rust's [`char::to_lowercase`] uses the full mapping, which differs from Go's simple mapping
/// for one character only: U+0130 `İ` becomes `i` followed by a combining dot in Rust, but a
/// plain `i` in Go. That difference matters here, because only text whose lower-case form is
/// ASCII can match the grammar.
pub(crate) fn go_lowercase(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '\u{130}' {
                return 'i';
            }
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(single), None) => single,
                // Never reached with the current tables (only U+0130 maps to several
                // characters), but a character without a simple mapping stays as it is in Go.
                _ => c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_the_two_special_letters_lower_like_go() {
        let cases = [
            ("Foo/BAR", "foo/bar"),
            ("\u{130}", "i"),
            ("\u{212a}", "k"),
            ("\u{212b}", "\u{e5}"),
            ("ÉCOLE", "école"),
            ("already:lower", "already:lower"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(go_lowercase(input), expected, "{input:?}");
        }
    }

    #[test]
    fn only_one_character_lowers_to_several_in_rust() {
        let several: Vec<char> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|c| c.to_lowercase().count() > 1)
            .collect();
        assert_eq!(several, ['\u{130}']);
    }

    #[test]
    fn only_two_non_ascii_characters_lower_to_ascii() {
        // So only they can turn a refused reference into "must be lowercase".
        let to_ascii: Vec<char> = (0x80..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|c| go_lowercase(&c.to_string()).is_ascii())
            .collect();
        assert_eq!(to_ascii, ['\u{130}', '\u{212a}']);
    }
}
