//! The distribution API routes: ping, manifests (with `Accept` negotiation), blobs (with
//! `Range`), tag lists (with pagination), and their error envelopes.

use bytes::Bytes;
use imgsvc_digest::Digest;
use serde_json::json;

use super::content::{Store, valid_name, valid_tag};
use super::log::{Listener, RequestKind};
use crate::fixture::media_type;

/// A request's route.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Ping,
    Token,
    Manifest {
        name: String,
        reference: String,
    },
    Blob {
        name: String,
        digest: String,
    },
    Tags {
        name: String,
    },
    /// A redirected blob on the second listener: `/storage/<name>/blobs/<digest>`.
    Storage {
        name: String,
        digest: String,
    },
    /// A `/v2/…` path whose repository name is invalid.
    InvalidName {
        name: String,
    },
    Unknown,
}

impl Route {
    pub(crate) fn parse(listener: Listener, path: &str) -> Route {
        if listener == Listener::Redirect {
            return path
                .strip_prefix("/storage/")
                .and_then(|rest| rest.rsplit_once("/blobs/"))
                .map_or(Route::Unknown, |(name, digest)| Route::Storage {
                    name: name.to_owned(),
                    digest: digest.to_owned(),
                });
        }
        if path == "/token" {
            return Route::Token;
        }
        let Some(rest) = path.strip_prefix("/v2") else {
            return Route::Unknown;
        };
        if rest.is_empty() || rest == "/" {
            return Route::Ping;
        }
        let Some(rest) = rest.strip_prefix('/') else {
            return Route::Unknown;
        };
        let route = if let Some(name) = rest.strip_suffix("/tags/list") {
            Route::Tags {
                name: name.to_owned(),
            }
        } else if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
            Route::Manifest {
                name: name.to_owned(),
                reference: reference.to_owned(),
            }
        } else if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
            Route::Blob {
                name: name.to_owned(),
                digest: digest.to_owned(),
            }
        } else {
            return Route::Unknown;
        };
        match route.name() {
            Some(name) if !valid_name(name) => Route::InvalidName {
                name: name.to_owned(),
            },
            _ => route,
        }
    }

    pub(crate) fn kind(&self) -> RequestKind {
        match self {
            Route::Ping => RequestKind::Ping,
            Route::Token => RequestKind::Token,
            Route::Manifest { .. } => RequestKind::Manifest,
            Route::Blob { .. } | Route::Storage { .. } => RequestKind::Blob,
            Route::Tags { .. } => RequestKind::Tags,
            Route::InvalidName { .. } | Route::Unknown => RequestKind::Other,
        }
    }

    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            Route::Manifest { name, .. }
            | Route::Blob { name, .. }
            | Route::Tags { name }
            | Route::Storage { name, .. }
            | Route::InvalidName { name } => Some(name),
            Route::Ping | Route::Token | Route::Unknown => None,
        }
    }
}

/// A response before faults and encoding.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.into(),
        }
    }

    pub(crate) fn error(
        status: u16,
        code: &str,
        message: &str,
        detail: Option<serde_json::Value>,
    ) -> Reply {
        Reply::new(status, "application/json", envelope(code, message, detail))
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn set_header(&mut self, name: &'static str, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name, value));
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// `{"errors":[{"code":…,"message":…,"detail":…}]}`.
pub(crate) fn envelope(code: &str, message: &str, detail: Option<serde_json::Value>) -> String {
    let mut error = json!({ "code": code, "message": message });
    if let (Some(detail), Some(map)) = (detail, error.as_object_mut()) {
        map.insert("detail".to_owned(), detail);
    }
    json!({ "errors": [error] }).to_string()
}

/// The error code a fault status is reported with.
pub(crate) fn status_code_name(status: u16) -> &'static str {
    match status {
        401 => "UNAUTHORIZED",
        403 => "DENIED",
        404 => "NOT_FOUND",
        429 => "TOOMANYREQUESTS",
        503 => "UNAVAILABLE",
        _ => "UNKNOWN",
    }
}

fn name_unknown(name: &str) -> Reply {
    Reply::error(
        404,
        "NAME_UNKNOWN",
        "repository name not known to registry",
        Some(json!({ "name": name })),
    )
}

fn digest_invalid(text: &str) -> Reply {
    Reply::error(
        400,
        "DIGEST_INVALID",
        "provided digest did not match uploaded content",
        Some(json!({ "digest": text })),
    )
}

/// The media types an `Accept` header list names, parameters dropped.
pub(crate) fn accepted(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Serves a manifest. Returns the reply and the digest of the manifest served.
pub(crate) fn manifest(
    store: &Store,
    name: &str,
    reference: &str,
    accept: &[String],
) -> (Reply, Option<Digest>) {
    let Some(repo) = store.repos.get(name) else {
        return (name_unknown(name), None);
    };
    let by_tag = !reference.contains(':');
    let digest = if by_tag {
        if !valid_tag(reference) {
            let detail = json!({ "tag": reference });
            return (
                Reply::error(
                    400,
                    "TAG_INVALID",
                    "manifest tag did not match URI",
                    Some(detail),
                ),
                None,
            );
        }
        match repo.tags.get(reference) {
            Some(digest) => *digest,
            None => {
                let detail = json!({ "Tag": reference });
                return (
                    Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown", Some(detail)),
                    None,
                );
            }
        }
    } else {
        match reference.parse::<Digest>() {
            Ok(digest) => digest,
            Err(_) => return (digest_invalid(reference), None),
        }
    };
    let unknown = |message: &str| {
        let detail = json!({ "Digest": digest.to_string() });
        (
            Reply::error(404, "MANIFEST_UNKNOWN", message, Some(detail)),
            None,
        )
    };
    let Some(found) = repo.manifests.get(&digest) else {
        return unknown("manifest unknown");
    };
    let accept = accepted(accept);
    let takes = |mt: &str| accept.is_empty() || accept.iter().any(|a| a == mt || a == "*/*");
    let (digest, found) = if takes(&found.media_type) {
        (digest, found)
    } else {
        match found.media_type.as_str() {
            media_type::OCI_INDEX => {
                return unknown("OCI index found, but accept header does not support OCI indexes");
            }
            media_type::OCI_MANIFEST => {
                return unknown(
                    "OCI manifest found, but accept header does not support OCI manifests",
                );
            }
            media_type::DOCKER_MANIFEST_LIST if by_tag => {
                // A client that cannot read manifest lists gets the linux/amd64 image.
                let child = amd64_child(&found.bytes)
                    .and_then(|d| repo.manifests.get(&d).map(|m| (d, m)))
                    .filter(|(_, m)| {
                        takes(&m.media_type) || m.media_type == media_type::DOCKER_MANIFEST
                    });
                match child {
                    Some(child) => child,
                    None => return unknown("manifest list has no linux/amd64 manifest"),
                }
            }
            _ => (digest, found),
        }
    };
    let reply = Reply::new(200, &found.media_type, found.bytes.clone())
        .header("docker-content-digest", digest.to_string())
        .header("etag", format!("\"{digest}\""));
    (reply, Some(digest))
}

fn amd64_child(list: &[u8]) -> Option<Digest> {
    let doc: serde_json::Value = serde_json::from_slice(list).ok()?;
    doc.get("manifests")?
        .as_array()?
        .iter()
        .find(|m| {
            m.pointer("/platform/os").and_then(|v| v.as_str()) == Some("linux")
                && m.pointer("/platform/architecture").and_then(|v| v.as_str()) == Some("amd64")
        })?
        .get("digest")?
        .as_str()?
        .parse()
        .ok()
}

/// Serves a blob, honouring a single-range `Range` header.
pub(crate) fn blob(
    store: &Store,
    name: &str,
    digest_text: &str,
    range: Option<&str>,
) -> (Reply, Option<Digest>) {
    let Ok(digest) = digest_text.parse::<Digest>() else {
        return (digest_invalid(digest_text), None);
    };
    let Some(repo) = store.repos.get(name) else {
        return (name_unknown(name), Some(digest));
    };
    let Some(bytes) = repo.blobs.get(&digest) else {
        let detail = json!({ "digest": digest.to_string() });
        let reply = Reply::error(
            404,
            "BLOB_UNKNOWN",
            "blob unknown to registry",
            Some(detail),
        );
        return (reply, Some(digest));
    };
    let len = bytes.len() as u64;
    let with_headers = |reply: Reply| {
        reply
            .header("docker-content-digest", digest.to_string())
            .header("etag", format!("\"{digest}\""))
            .header("accept-ranges", "bytes")
    };
    let reply = match range.map(|r| parse_range(r, len)) {
        None => with_headers(Reply::new(200, "application/octet-stream", bytes.clone())),
        Some(Some((start, end))) => {
            let body = usize::try_from(start)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(s, e)| bytes.get(s..=e))
                .map(Bytes::copy_from_slice)
                .unwrap_or_default();
            with_headers(Reply::new(206, "application/octet-stream", body))
                .header("content-range", format!("bytes {start}-{end}/{len}"))
        }
        Some(None) => Reply::new(416, "text/plain", "invalid range\n")
            .header("content-range", format!("bytes */{len}")),
    };
    (reply, Some(digest))
}

/// One `bytes=` range within `len` bytes, as inclusive `(start, end)`; `None` when the
/// header is malformed, has several ranges, or cannot be satisfied.
pub(crate) fn parse_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        let suffix: u64 = end.parse().ok()?;
        return (suffix > 0).then(|| (len - suffix.min(len), len - 1));
    }
    let start: u64 = start.parse().ok()?;
    let end = if end.is_empty() {
        len - 1
    } else {
        end.parse::<u64>().ok()?.min(len - 1)
    };
    (start <= end && start < len).then_some((start, end))
}

/// Serves `tags/list` with `n`/`last` pagination and a `Link` to the next page.
pub(crate) fn tags(store: &Store, name: &str, params: &[(String, String)]) -> Reply {
    let Some(repo) = store.repos.get(name) else {
        return name_unknown(name);
    };
    let param = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let n = match param("n").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            let detail = json!({ "n": param("n") });
            return Reply::error(
                400,
                "PAGINATION_NUMBER_INVALID",
                "invalid number of results requested",
                Some(detail),
            );
        }
    };
    let last = param("last").unwrap_or_default();
    let remaining: Vec<&String> = repo.tags.keys().filter(|t| t.as_str() > last).collect();
    let page: Vec<&String> = remaining
        .iter()
        .take(n.unwrap_or(usize::MAX))
        .copied()
        .collect();
    let body = json!({ "name": name, "tags": page }).to_string();
    let mut reply = Reply::new(200, "application/json", body);
    if let (Some(n), Some(last)) = (n, page.last())
        && remaining.len() > page.len()
    {
        let link = format!("</v2/{name}/tags/list?n={n}&last={last}>; rel=\"next\"");
        reply = reply.header("link", link);
    }
    reply
}

pub(crate) use crate::form::query_pairs;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::percent_decode;

    #[test]
    fn routes_split_names_with_several_components() {
        let parse = |p| Route::parse(Listener::Registry, p);
        assert_eq!(parse("/v2/"), Route::Ping);
        assert_eq!(parse("/v2"), Route::Ping);
        assert_eq!(
            parse("/v2/a/b/c/manifests/latest"),
            Route::Manifest {
                name: "a/b/c".into(),
                reference: "latest".into()
            }
        );
        assert_eq!(
            parse("/v2/library/ubuntu/blobs/sha256:00"),
            Route::Blob {
                name: "library/ubuntu".into(),
                digest: "sha256:00".into()
            }
        );
        assert_eq!(parse("/v2/x/tags/list"), Route::Tags { name: "x".into() });
        assert_eq!(
            parse("/v2/Up/tags/list"),
            Route::InvalidName { name: "Up".into() }
        );
        assert_eq!(parse("/v3/x"), Route::Unknown);
        assert_eq!(
            Route::parse(Listener::Redirect, "/storage/a/b/blobs/sha256:00"),
            Route::Storage {
                name: "a/b".into(),
                digest: "sha256:00".into()
            }
        );
    }

    #[test]
    fn ranges_are_single_and_clamped() {
        for (header, len, expected) in [
            ("bytes=0-", 10, Some((0, 9))),
            ("bytes=4-6", 10, Some((4, 6))),
            ("bytes=4-100", 10, Some((4, 9))),
            ("bytes=-3", 10, Some((7, 9))),
            ("bytes=-30", 10, Some((0, 9))),
            ("bytes=10-", 10, None),
            ("bytes=6-4", 10, None),
            ("bytes=0-1,3-4", 10, None),
            ("items=0-1", 10, None),
            ("bytes=0-", 0, None),
            ("bytes=-0", 10, None),
        ] {
            assert_eq!(parse_range(header, len), expected, "{header} of {len}");
        }
    }

    #[test]
    fn queries_decode_percent_and_plus() {
        assert_eq!(
            query_pairs("scope=repository%3Aa%2Fb%3Apull&service=x+y&n"),
            vec![
                ("scope".to_owned(), "repository:a/b:pull".to_owned()),
                ("service".to_owned(), "x y".to_owned()),
                ("n".to_owned(), String::new()),
            ]
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn envelopes_carry_code_message_and_detail() {
        let text = envelope("BLOB_UNKNOWN", "blob unknown to registry", Some(json!("d")));
        let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(doc["errors"][0]["code"], "BLOB_UNKNOWN");
        assert_eq!(doc["errors"][0]["detail"], "d");
    }
}
