//! The registry error envelope, `{"errors":[{"code","message","detail"}]}`, as typed errors.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// The longest error body read; the rest is ignored.
pub const MAX_ERROR_BODY: usize = 64 << 10;

/// An error code of the distribution API (unknown codes are kept as they came).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `UNAUTHORIZED`: authentication required.
    Unauthorized,
    /// `DENIED`: access to the resource is denied.
    Denied,
    /// `NAME_UNKNOWN`: no such repository.
    NameUnknown,
    /// `NAME_INVALID`: a malformed repository name.
    NameInvalid,
    /// `MANIFEST_UNKNOWN`: no such manifest (tag or digest).
    ManifestUnknown,
    /// `MANIFEST_INVALID`: the manifest did not validate.
    ManifestInvalid,
    /// `BLOB_UNKNOWN`: no such blob.
    BlobUnknown,
    /// `DIGEST_INVALID`: content does not match its digest.
    DigestInvalid,
    /// `TOOMANYREQUESTS`: rate limited; see the `Retry-After` the error keeps.
    TooManyRequests,
    /// `UNSUPPORTED`: the operation is not supported.
    Unsupported,
    /// `UNKNOWN` or any code not listed here, as the registry wrote it.
    Other(String),
}

impl ErrorCode {
    /// The code from its wire name.
    ///
    /// ```
    /// use imgsvc_registry_transport::envelope::ErrorCode;
    /// assert_eq!(ErrorCode::from_name("MANIFEST_UNKNOWN"), ErrorCode::ManifestUnknown);
    /// assert_eq!(ErrorCode::from_name("SOMETHING_NEW").name(), "SOMETHING_NEW");
    /// ```
    pub fn from_name(name: &str) -> ErrorCode {
        match name {
            "UNAUTHORIZED" => ErrorCode::Unauthorized,
            "DENIED" => ErrorCode::Denied,
            "NAME_UNKNOWN" => ErrorCode::NameUnknown,
            "NAME_INVALID" => ErrorCode::NameInvalid,
            "MANIFEST_UNKNOWN" => ErrorCode::ManifestUnknown,
            "MANIFEST_INVALID" => ErrorCode::ManifestInvalid,
            "BLOB_UNKNOWN" => ErrorCode::BlobUnknown,
            "DIGEST_INVALID" => ErrorCode::DigestInvalid,
            "TOOMANYREQUESTS" => ErrorCode::TooManyRequests,
            "UNSUPPORTED" => ErrorCode::Unsupported,
            other => ErrorCode::Other(other.to_owned()),
        }
    }

    /// The wire name (`MANIFEST_UNKNOWN`).
    pub fn name(&self) -> &str {
        match self {
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Denied => "DENIED",
            ErrorCode::NameUnknown => "NAME_UNKNOWN",
            ErrorCode::NameInvalid => "NAME_INVALID",
            ErrorCode::ManifestUnknown => "MANIFEST_UNKNOWN",
            ErrorCode::ManifestInvalid => "MANIFEST_INVALID",
            ErrorCode::BlobUnknown => "BLOB_UNKNOWN",
            ErrorCode::DigestInvalid => "DIGEST_INVALID",
            ErrorCode::TooManyRequests => "TOOMANYREQUESTS",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::Other(name) => name,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One error of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// The code.
    pub code: ErrorCode,
    /// The registry's message (may be empty).
    pub message: String,
    /// The `detail` value as JSON text, if any (size-capped with the body).
    pub detail: Option<String>,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

/// A registry's answer that was not a success: the status, the errors its body listed, and
/// when to try again (`Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The errors of the envelope; empty when the body was not one.
    pub errors: Vec<RegistryError>,
    /// `Retry-After` in seconds, when given (429 and 503 answers carry it).
    pub retry_after: Option<Duration>,
}

impl ErrorResponse {
    /// Reads a non-success answer: `body` (only its first [`MAX_ERROR_BODY`] bytes are
    /// looked at) as an envelope, and a `Retry-After` header value in seconds (an HTTP date
    /// is not understood and is ignored).
    ///
    /// ```
    /// use imgsvc_registry_transport::envelope::{ErrorCode, ErrorResponse};
    ///
    /// let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}"#;
    /// let answer = ErrorResponse::parse(404, body, None);
    /// assert_eq!(answer.errors[0].code, ErrorCode::ManifestUnknown);
    /// assert_eq!(answer.errors[0].detail.as_deref(), Some(r#"{"Tag":"nope"}"#));
    /// assert!(answer.has(&ErrorCode::ManifestUnknown));
    /// assert_eq!(answer.to_string(), "manifest unknown (HTTP 404)");
    ///
    /// let limited = ErrorResponse::parse(429, b"slow down", Some("30"));
    /// assert_eq!(limited.retry_after, Some(std::time::Duration::from_secs(30)));
    /// assert!(limited.has(&ErrorCode::TooManyRequests));
    /// ```
    pub fn parse(status: u16, body: &[u8], retry_after: Option<&str>) -> ErrorResponse {
        let body = body.get(..MAX_ERROR_BODY).unwrap_or(body);
        let errors = serde_json::from_slice::<Envelope>(body)
            .map(|envelope| {
                envelope
                    .errors
                    .into_iter()
                    .map(|raw| RegistryError {
                        code: ErrorCode::from_name(&raw.code),
                        message: raw.message,
                        detail: raw.detail.filter(|d| !d.is_null()).map(|d| d.to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        ErrorResponse {
            status,
            errors,
            retry_after: retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        }
    }

    /// Whether the answer means `code`: listed in the envelope, or implied by the status
    /// (401 unauthorized, 403 denied, 429 too many requests) when the body said nothing.
    pub fn has(&self, code: &ErrorCode) -> bool {
        if self.errors.iter().any(|e| e.code == *code) {
            return true;
        }
        self.errors.is_empty()
            && matches!(
                (self.status, code),
                (401, ErrorCode::Unauthorized)
                    | (403, ErrorCode::Denied)
                    | (429, ErrorCode::TooManyRequests)
            )
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [] => write!(f, "the registry answered HTTP {}", self.status)?,
            [only] if !only.message.is_empty() => {
                write!(f, "{} (HTTP {})", only.message, self.status)?;
            }
            errors => {
                for (i, error) in errors.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{error}")?;
                }
                write!(f, " (HTTP {})", self.status)?;
            }
        }
        if let Some(after) = self.retry_after {
            write!(f, "; retry after {} s", after.as_secs())?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<RawError>,
}

#[derive(Deserialize)]
struct RawError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_round_trips_and_unknown_ones_are_kept() {
        for name in [
            "UNAUTHORIZED",
            "DENIED",
            "NAME_UNKNOWN",
            "NAME_INVALID",
            "MANIFEST_UNKNOWN",
            "MANIFEST_INVALID",
            "BLOB_UNKNOWN",
            "DIGEST_INVALID",
            "TOOMANYREQUESTS",
            "UNSUPPORTED",
            "UNKNOWN",
        ] {
            assert_eq!(ErrorCode::from_name(name).name(), name);
        }
        assert!(matches!(
            ErrorCode::from_name("UNKNOWN"),
            ErrorCode::Other(_)
        ));
    }

    #[test]
    fn bodies_that_are_not_envelopes_leave_the_status() {
        for body in [&b""[..], b"<html>nope</html>", b"{\"errors\":3}", b"null"] {
            let answer = ErrorResponse::parse(401, body, None);
            assert!(answer.errors.is_empty());
            assert!(answer.has(&ErrorCode::Unauthorized));
            assert!(!answer.has(&ErrorCode::Denied));
        }
        assert_eq!(
            ErrorResponse::parse(500, b"", Some("soon")).to_string(),
            "the registry answered HTTP 500"
        );
    }

    #[test]
    fn several_errors_and_an_oversized_body() {
        let body = br#"{"errors":[{"code":"DENIED","message":"no"},{"code":"NAME_UNKNOWN"}]}"#;
        let answer = ErrorResponse::parse(403, body, Some(" 5 "));
        assert_eq!(
            answer.to_string(),
            "DENIED: no; NAME_UNKNOWN (HTTP 403); retry after 5 s"
        );
        let mut huge = br#"{"errors":[{"code":"DENIED","message":""#.to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_ERROR_BODY));
        huge.extend(br#""}]}"#);
        // Cut at the cap: not valid JSON any more, so only the status speaks.
        let answer = ErrorResponse::parse(403, &huge, None);
        assert!(answer.errors.is_empty() && answer.has(&ErrorCode::Denied));
    }
}
