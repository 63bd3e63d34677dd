//! Fault injection: rules matched against each request, each applied a number of times.

use std::time::Duration;

use super::log::{Listener, RequestKind};

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and a registry error envelope instead of serving the request
    /// (429 → `TOOMANYREQUESTS`, 503 → `UNAVAILABLE`, other codes → `UNKNOWN`), with a
    /// `Retry-After: <seconds>` header when `retry_after` is set. Checked before
    /// authentication.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The `Retry-After` value in seconds.
        retry_after: Option<u64>,
    },
    /// Close the connection after `bytes` bytes of a successful body (headers announce the
    /// full length). The bytes before the cut are flushed first (the server waits 50 ms
    /// before closing). Applies only to bodies longer than `bytes`.
    DropAfter {
        /// Bytes sent before the connection is closed.
        bytes: u64,
    },
    /// Flip every bit of the byte at `offset` of a successful body (offset within the body
    /// sent, so within the range for a 206). Applies only to bodies longer than `offset`.
    Corrupt {
        /// Offset in the response body.
        offset: u64,
    },
    /// Answer a blob `GET`/`HEAD` with `307 Temporary Redirect` to the second loopback
    /// listener, which serves the same blobs without authentication and records whether an
    /// `Authorization` header arrived. Applies only to blobs that exist.
    RedirectBlobs,
    /// Send a successful body in `chunk`-byte pieces with `delay` before each piece after
    /// the first.
    Slow {
        /// Bytes per piece (at least 1).
        chunk: usize,
        /// Pause before each piece after the first.
        delay: Duration,
    },
    /// Send a `Docker-Content-Digest` header that does not match the content (manifests and
    /// blobs that exist).
    WrongDigestHeader,
}

/// Construction
impl Fault {
    /// [`Fault::Status`] without `Retry-After`.
    pub fn status(code: u16) -> Fault {
        Fault::Status {
            code,
            retry_after: None,
        }
    }

    /// [`Fault::Slow`] at about `bytes_per_sec` (pieces of a tenth of a second).
    pub fn slow(bytes_per_sec: usize) -> Fault {
        Fault::Slow {
            chunk: (bytes_per_sec / 10).max(1),
            delay: Duration::from_millis(100),
        }
    }
}

/// Which paths a rule matches.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PathMatch {
    /// Every path.
    #[default]
    Any,
    /// Exactly this path.
    Exact(String),
    /// Paths starting with this.
    Prefix(String),
    /// Paths containing this (a digest, say).
    Contains(String),
    /// A glob: `*` matches any run of characters (`/` included), `?` one character.
    Glob(String),
}

impl PathMatch {
    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Any => true,
            PathMatch::Exact(p) => path == p,
            PathMatch::Prefix(p) => path.starts_with(p.as_str()),
            PathMatch::Contains(p) => path.contains(p.as_str()),
            PathMatch::Glob(g) => glob(g.as_bytes(), path.as_bytes()),
        }
    }
}

/// Iterative glob with backtracking to the last `*`.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// A fault with the requests it applies to and how many times.
///
/// A rule matches by method, route kind, listener and path (all optional); by default it
/// matches every request and applies forever. Each application counts as a hit
/// ([`TestRegistry::fault_hits`](crate::TestRegistry::fault_hits)); a rule whose fault cannot
/// affect a response (a redirect for a manifest, a cut beyond the end of a body) does not
/// apply and is not used up.
///
/// ```
/// use imgsvc_testkit::{Fault, FaultRule, RequestKind};
///
/// // Two 503s with Retry-After on blob GETs, then normal service.
/// let rule = FaultRule::new(Fault::Status { code: 503, retry_after: Some(1) })
///     .kind(RequestKind::Blob)
///     .method("GET")
///     .times(2);
/// # let _ = rule;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    pub(crate) fault: Fault,
    method: Option<String>,
    kind: Option<RequestKind>,
    listener: Option<Listener>,
    path: PathMatch,
    pub(crate) times: Option<u64>,
}

/// Construction
impl FaultRule {
    /// A rule applying `fault` to every request, without limit.
    pub fn new(fault: Fault) -> FaultRule {
        FaultRule {
            fault,
            method: None,
            kind: None,
            listener: None,
            path: PathMatch::Any,
            times: None,
        }
    }

    /// Only requests with this method (`GET`, `HEAD`, case-insensitive).
    pub fn method(mut self, method: &str) -> FaultRule {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only requests of this kind.
    pub fn kind(mut self, kind: RequestKind) -> FaultRule {
        self.kind = Some(kind);
        self
    }

    /// Only requests on this listener.
    pub fn listener(mut self, listener: Listener) -> FaultRule {
        self.listener = Some(listener);
        self
    }

    /// Only requests whose path matches.
    pub fn path(mut self, path: PathMatch) -> FaultRule {
        self.path = path;
        self
    }

    /// Only paths containing `needle` (shorthand for [`PathMatch::Contains`]).
    pub fn path_contains(self, needle: &str) -> FaultRule {
        self.path(PathMatch::Contains(needle.to_owned()))
    }

    /// Apply `n` times, then stop.
    pub fn times(mut self, n: u64) -> FaultRule {
        self.times = Some(n);
        self
    }

    pub(crate) fn matches(
        &self,
        method: &str,
        kind: RequestKind,
        listener: Listener,
        path: &str,
    ) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self.kind.is_none_or(|k| k == kind)
            && self.listener.is_none_or(|l| l == listener)
            && self.path.matches(path)
    }
}

/// The identity of an added rule, for [`TestRegistry::fault_hits`](crate::TestRegistry::fault_hits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultId(pub(crate) usize);

#[derive(Debug)]
pub(crate) struct RuleState {
    pub(crate) rule: FaultRule,
    pub(crate) hits: u64,
    pub(crate) removed: bool,
}

impl RuleState {
    pub(crate) fn available(&self) -> bool {
        !self.removed && self.rule.times.is_none_or(|n| self.hits < n)
    }
}

/// The body faults chosen for one response.
#[derive(Clone, Debug, Default)]
pub(crate) struct BodyFaults {
    pub(crate) drop_after: Option<u64>,
    pub(crate) corrupt: Vec<u64>,
    pub(crate) slow: Option<(usize, Duration)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shell_patterns_across_slashes() {
        for (pattern, path, expected) in [
            ("/v2/*/blobs/*", "/v2/library/ubuntu/blobs/sha256:ab", true),
            ("/v2/*/manifests/latest", "/v2/a/b/c/manifests/latest", true),
            ("/v2/*/manifests/latest", "/v2/a/manifests/v1", false),
            ("*sha256:ab?", "/v2/x/blobs/sha256:abc", true),
            ("*sha256:ab?", "/v2/x/blobs/sha256:abcd", false),
            ("", "", true),
            ("*", "", true),
            ("a", "", false),
        ] {
            assert_eq!(
                glob(pattern.as_bytes(), path.as_bytes()),
                expected,
                "{pattern} ~ {path}"
            );
        }
    }
}
