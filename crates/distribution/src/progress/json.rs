//! Docker's JSON message line, written by hand so the bytes match Go's encoder.

use std::fmt::Write as _;

/// Appends `text` as a JSON string the way Go's `encoding/json` writes it: besides quotes,
/// backslashes and control characters, it escapes `<`, `>`, `&`, U+2028 and U+2029.
pub(super) fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `{"status":...,"progressDetail":{...},"id":...}`. Empty strings and zero numbers
/// are left out, as Go's `omitempty` does; `detail` is `None` for messages, which carry no
/// `progressDetail` at all.
pub(super) fn message(status: &str, detail: Option<(u64, u64)>, id: &str) -> String {
    let mut out = String::with_capacity(96);
    out.push('{');
    let mut first = true;
    let mut key = |out: &mut String, name: &str| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
    };
    if !status.is_empty() {
        key(&mut out, "status");
        push_string(&mut out, status);
    }
    if let Some((current, total)) = detail {
        key(&mut out, "progressDetail");
        out.push('{');
        if current != 0 {
            let _ = write!(out, "\"current\":{current}");
        }
        if total != 0 {
            if current != 0 {
                out.push(',');
            }
            let _ = write!(out, "\"total\":{total}");
        }
        out.push('}');
    }
    if !id.is_empty() {
        key(&mut out, "id");
        push_string(&mut out, id);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::{message, push_string};

    #[test]
    fn strings_are_escaped_like_go() {
        let table = [
            ("plain", r#""plain""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("\n\r\t\u{8}\u{c}", r#""\n\r\t\b\f""#),
            ("\u{1}\u{1f}", r#""\u0001\u001f""#),
            ("<a&b>", r#""\u003ca\u0026b\u003e""#),
            ("\u{2028}\u{2029}", r#""\u2028\u2029""#),
            ("é", "\"é\""),
        ];
        for (text, want) in table {
            let mut out = String::new();
            push_string(&mut out, text);
            assert_eq!(out, want, "{text:?}");
        }
    }

    #[test]
    fn empty_fields_and_zero_numbers_are_left_out() {
        assert_eq!(message("", None, ""), "{}");
        assert_eq!(
            message("", Some((0, 0)), "x"),
            r#"{"progressDetail":{},"id":"x"}"#
        );
        assert_eq!(
            message("s", Some((5, 0)), ""),
            r#"{"status":"s","progressDetail":{"current":5}}"#
        );
        assert_eq!(
            message("s", Some((0, 9)), ""),
            r#"{"status":"s","progressDetail":{"total":9}}"#
        );
    }
}
