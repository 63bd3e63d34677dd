//! `WWW-Authenticate` challenges: what a registry's 401 answer asks for.
//!
//! Docker reads one challenge per header line and stops at the first thing it cannot parse.
//! This parser reads every challenge, in one header line (`Bearer realm="a", Basic
//! realm="b"`) and across lines, and still stops quietly at a malformed part, keeping what it
//! parsed before it. [`preferred`] picks the challenge to answer: Bearer, then Basic.

use std::fmt;

/// The longest header value read; a longer one yields no challenges.
pub const MAX_HEADER_LEN: usize = 16 << 10;

/// At most this many challenges are read from one header value.
const MAX_CHALLENGES: usize = 16;

/// At most this many parameters are kept per challenge.
const MAX_PARAMETERS: usize = 64;

/// One authentication challenge: a scheme and its parameters.
///
/// The scheme and parameter names are lowercased (both are case-insensitive); values keep
/// their case, with quoting and escapes removed.
///
/// ```
/// use imgsvc_registry_transport::challenge::Challenge;
///
/// let challenge = Challenge::new("Bearer")
///     .with("realm", "https://auth.example/token")
///     .with("service", "registry.example");
/// assert_eq!(challenge.scheme(), "bearer");
/// assert_eq!(challenge.parameter("REALM"), Some("https://auth.example/token"));
/// assert_eq!(
///     challenge.to_string(),
///     r#"bearer realm="https://auth.example/token",service="registry.example""#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Challenge {
    scheme: String,
    parameters: Vec<(String, String)>,
}

impl Challenge {
    /// A challenge of `scheme` (lowercased) without parameters.
    pub fn new(scheme: &str) -> Challenge {
        Challenge {
            scheme: scheme.to_ascii_lowercase(),
            parameters: Vec::new(),
        }
    }

    /// The same challenge with the parameter `name` (lowercased) set to `value`, replacing
    /// an earlier value of that name.
    pub fn with(mut self, name: &str, value: &str) -> Challenge {
        let name = name.to_ascii_lowercase();
        self.parameters.retain(|(n, _)| *n != name);
        self.parameters.push((name, value.to_owned()));
        self
    }

    /// The scheme, lowercased (`bearer`, `basic`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The value of parameter `name`, compared without regard to case.
    ///
    /// ```
    /// let challenges = imgsvc_registry_transport::challenge::parse_header(r#"Basic Realm="r""#);
    /// assert_eq!(challenges[0].parameter("realm"), Some("r"));
    /// assert_eq!(challenges[0].parameter("service"), None);
    /// ```
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter, in header order, names lowercased.
    pub fn parameters(&self) -> &[(String, String)] {
        &self.parameters
    }
}

impl fmt::Display for Challenge {
    /// A header value that parses back to this challenge: every value quoted, `"` and `\`
    /// escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        for (i, (name, value)) in self.parameters.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { "," })?;
            write!(f, "{name}=\"")?;
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        Ok(())
    }
}

/// The challenges in one `WWW-Authenticate` header value.
///
/// ```
/// use imgsvc_registry_transport::challenge::parse_header;
///
/// let found = parse_header(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io", Basic realm="x""#);
/// assert_eq!(found.len(), 2);
/// assert_eq!((found[0].scheme(), found[1].scheme()), ("bearer", "basic"));
/// assert_eq!(found[0].parameter("service"), Some("registry.docker.io"));
///
/// // A malformed part ends parsing; what came before it stays.
/// let found = parse_header(r#"Bearer realm="a",service"#);
/// assert_eq!(found[0].parameters().len(), 1);
/// ```
pub fn parse_header(value: &str) -> Vec<Challenge> {
    if value.len() > MAX_HEADER_LEN {
        return Vec::new();
    }
    let mut parser = Parser {
        text: value.as_bytes(),
        pos: 0,
    };
    let mut challenges = Vec::new();
    while challenges.len() < MAX_CHALLENGES {
        parser.skip_separators();
        let scheme = parser.token();
        if scheme.is_empty() {
            break; // the end, or something that is not a scheme
        }
        let mut challenge = Challenge::new(scheme);
        let complete = parser.parameters(&mut challenge);
        challenges.push(challenge);
        if !complete {
            break;
        }
    }
    challenges
}

/// The challenges in several `WWW-Authenticate` header values, in order.
///
/// ```
/// use imgsvc_registry_transport::challenge::parse_headers;
///
/// let found = parse_headers([r#"Basic realm="r""#, r#"Bearer realm="t""#]);
/// assert_eq!(found.len(), 2);
/// ```
pub fn parse_headers<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    values.into_iter().flat_map(parse_header).collect()
}

/// The challenge to answer: the first Bearer one, else the first Basic one.
///
/// ```
/// use imgsvc_registry_transport::challenge::{parse_header, preferred};
///
/// let found = parse_header(r#"Basic realm="r", Bearer realm="t""#);
/// assert_eq!(preferred(&found).map(|c| c.scheme()), Some("bearer"));
/// assert!(preferred(&parse_header("Negotiate")).is_none());
/// ```
pub fn preferred(challenges: &[Challenge]) -> Option<&Challenge> {
    ["bearer", "basic"]
        .iter()
        .find_map(|scheme| challenges.iter().find(|c| c.scheme == *scheme))
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    /// A run of RFC 7230 token characters (possibly empty).
    fn token(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(is_token_char) {
            self.pos += 1;
        }
        // Token characters are ASCII, so the slice is valid UTF-8.
        std::str::from_utf8(self.text.get(start..self.pos).unwrap_or_default()).unwrap_or("")
    }

    /// Reads `name=value` pairs into `challenge` until the end of the value (true), the
    /// start of the next challenge (true), or something malformed (false).
    fn parameters(&mut self, challenge: &mut Challenge) -> bool {
        let mut first = true;
        loop {
            self.skip_spaces();
            match self.peek() {
                None => return true,
                // A scheme without parameters, followed by the next challenge.
                Some(b',') if first => return true,
                Some(b',') => self.skip_separators(),
                Some(_) if !first => return false, // two parameters without a comma
                Some(_) => {}
            }
            if self.peek().is_none() {
                return true; // trailing commas
            }
            let start = self.pos;
            let name = self.token().to_ascii_lowercase();
            if name.is_empty() {
                return false;
            }
            self.skip_spaces();
            if self.peek() != Some(b'=') {
                // Not a parameter: the scheme of the next challenge.
                self.pos = start;
                return true;
            }
            self.pos += 1;
            self.skip_spaces();
            let value = if self.peek() == Some(b'"') {
                match self.quoted() {
                    Some(value) => value,
                    None => return false, // unterminated
                }
            } else {
                self.token().to_owned()
            };
            if value.is_empty() {
                return false;
            }
            if challenge.parameters.len() < MAX_PARAMETERS {
                challenge.parameters.push((name, value));
            }
            first = false;
        }
    }

    /// A quoted string after its opening quote, unescaped; `None` if it never ends.
    fn quoted(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let byte = self.peek()?;
            self.pos += 1;
            match byte {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    out.push(self.peek()?);
                    self.pos += 1;
                }
                other => out.push(other),
            }
        }
    }
}

fn is_token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.parameters()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn docker_hub_bearer_challenge() {
        let found = parse_header(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull""#,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].scheme(), "bearer");
        assert_eq!(
            params(&found[0]),
            [
                ("realm", "https://auth.docker.io/token"),
                ("service", "registry.docker.io"),
                ("scope", "repository:library/ubuntu:pull"),
            ]
        );
    }

    #[test]
    fn tokens_quotes_escapes_spaces_and_case() {
        let found = parse_header(r#"BASIC  Realm = "a \"b\" \\c" , charset=UTF-8"#);
        assert_eq!(found[0].scheme(), "basic");
        assert_eq!(
            params(&found[0]),
            [("realm", r#"a "b" \c"#), ("charset", "UTF-8")]
        );
    }

    #[test]
    fn several_challenges_in_one_header_and_across_headers() {
        let found = parse_header(r#"Bearer realm="t",service="s", Basic realm="b""#);
        assert_eq!(found.len(), 2);
        assert_eq!(params(&found[1]), [("realm", "b")]);
        let found = parse_headers([r#"Basic realm="b""#, "", r#"Bearer realm="t""#]);
        assert_eq!(
            found.iter().map(Challenge::scheme).collect::<Vec<_>>(),
            ["basic", "bearer"]
        );
        assert_eq!(preferred(&found).map(Challenge::scheme), Some("bearer"));
        // A scheme with no parameters, then another challenge.
        let found = parse_header(r#"Negotiate, Basic realm="x""#);
        assert_eq!(
            found.iter().map(Challenge::scheme).collect::<Vec<_>>(),
            ["negotiate", "basic"]
        );
    }

    #[test]
    fn malformed_parts_end_parsing_and_keep_what_came_before() {
        // Unterminated quote: that pair is dropped.
        let found = parse_header(r#"Bearer realm="t",service="s"#);
        assert_eq!(params(&found[0]), [("realm", "t")]);
        // Empty value.
        let found = parse_header(r#"Bearer realm=,service="s""#);
        assert!(found[0].parameters().is_empty());
        // Two parameters without a comma.
        let found = parse_header(r#"Bearer realm="t" service="s""#);
        assert_eq!(params(&found[0]), [("realm", "t")]);
        // No scheme at all.
        assert!(parse_header(r#"="x""#).is_empty());
        assert!(parse_header("").is_empty());
        assert!(parse_header("  ,, ").is_empty());
        // Trailing commas are fine.
        let found = parse_header(r#"Basic realm="r",,"#);
        assert_eq!(params(&found[0]), [("realm", "r")]);
        // Far too long: nothing.
        assert!(
            parse_header(&format!("Basic realm=\"{}\"", "a".repeat(MAX_HEADER_LEN))).is_empty()
        );
        // Escape at the very end.
        let found = parse_header("Basic realm=\"a\\");
        assert!(found[0].parameters().is_empty());
    }

    #[test]
    fn with_replaces_and_lookups_ignore_case() {
        let c = Challenge::new("Bearer")
            .with("Realm", "a")
            .with("realm", "b");
        assert_eq!(params(&c), [("realm", "b")]);
        assert_eq!(c.parameter("REALM"), Some("b"));
    }

    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
    }

    proptest! {
        #[test]
        fn display_parses_back(
            scheme in token(),
            raw in proptest::collection::vec((token(), "[ -~]{1,20}"), 0..6),
        ) {
            let mut challenge = Challenge::new(&scheme);
            for (name, value) in &raw {
                challenge = challenge.with(name, value);
            }
            let parsed = parse_header(&challenge.to_string());
            prop_assert_eq!(parsed, vec![challenge]);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            for c in parse_header(&text) {
                prop_assert!(!c.scheme().is_empty());
                let again = parse_header(&c.to_string());
                prop_assert_eq!(again.first(), Some(&c));
            }
        }
    }
}
