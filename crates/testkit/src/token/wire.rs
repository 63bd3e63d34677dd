//! HTTP/1.1 plumbing of the token server: request heads, form decoding, timestamps.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::TcpStream;

/// Longest request head the server reads.
const MAX_HEAD: usize = 64 * 1024;

pub(super) struct Request {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) authorization: Option<String>,
    pub(super) body: Vec<u8>,
}

pub(super) struct Response {
    pub(super) status: u16,
    pub(super) body: String,
    pub(super) www_authenticate: Option<&'static str>,
}

pub(super) fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (method, target) = (method.to_owned(), target.to_owned());
    let (mut authorization, mut length, mut total) = (None, 0usize, line.len());
    loop {
        line.clear();
        total += reader.read_line(&mut line)?;
        if total > MAX_HEAD {
            return Ok(None);
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length.min(MAX_HEAD)];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Ok(Some(Request {
        method,
        path: path.to_owned(),
        query: parse_form(query),
        authorization,
        body,
    }))
}

pub(super) fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Every scope, split on spaces (one `scope` parameter may carry several).
pub(super) fn scopes(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').filter(|s| !s.is_empty()).map(str::to_owned))
        .collect()
}

/// `application/x-www-form-urlencoded` (also query strings): `+` is a space, `%XX` a byte.
pub(super) fn parse_form(text: &str) -> Vec<(String, String)> {
    crate::form::query_pairs(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{percent_decode, rfc3339};

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn form_decoding_handles_percent_and_plus() {
        let pairs = parse_form("scope=repository%3Aa%2Fb%3Apull+repository%3Ac%3Apush&x&service=s");
        assert_eq!(
            scopes(&pairs),
            vec![
                "repository:a/b:pull".to_owned(),
                "repository:c:push".to_owned()
            ]
        );
        assert_eq!(param(&pairs, "service").as_deref(), Some("s"));
        assert_eq!(param(&pairs, "x").as_deref(), Some(""));
        assert_eq!(percent_decode("100%"), "100%");
    }
}
