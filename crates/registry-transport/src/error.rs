//! The crate's error type. No message ever holds a password, token or secret.

use std::path::PathBuf;

use crate::envelope::ErrorResponse;

/// The error a library below us reported (reqwest, hyper, rustls, I/O), boxed so that its
/// type stays out of our signatures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong at the HTTP level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpErrorKind {
    /// No connection: DNS, refused, unreachable, or the TLS handshake (certificate) failed.
    Connect,
    /// The connection timed out, or the body stalled longer than the read timeout.
    Timeout,
    /// Too many redirects, or a redirect to something that is not HTTP(S).
    Redirect,
    /// The response body broke off or could not be read.
    Body,
    /// Anything else while sending the request.
    Request,
}

impl std::fmt::Display for HttpErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HttpErrorKind::Connect => "cannot connect to",
            HttpErrorKind::Timeout => "timed out talking to",
            HttpErrorKind::Redirect => "bad redirect from",
            HttpErrorKind::Body => "the response body broke off from",
            HttpErrorKind::Request => "the request failed for",
        })
    }
}

/// Why talking to a registry failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL could not be parsed.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The text given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A scope is not `type:name:actions`.
    #[error("invalid scope {scope:?}: {reason}")]
    InvalidScope {
        /// The text given (at most 200 characters).
        scope: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A configured mirror is not usable.
    #[error("invalid mirror {mirror:?}: {reason}")]
    InvalidMirror {
        /// The mirror as configured (user info, if any, is never shown: the URL is refused).
        mirror: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The registry answered with an error (its envelope, status and `Retry-After`).
    #[error("{0}")]
    Registry(ErrorResponse),

    /// The request could not be sent or its answer not read. `url` has no query and no
    /// user info.
    #[error("{kind} {url} (check the address, the network and TLS settings): {source}")]
    Http {
        /// What went wrong.
        kind: HttpErrorKind,
        /// The URL, without query.
        url: String,
        /// The underlying error (never holds a header value).
        #[source]
        source: BoxError,
    },

    /// The endpoint answered `GET /v2/` with something a registry does not say.
    #[error("{url} is not a container registry: GET /v2/ answered HTTP {status}")]
    NotARegistry {
        /// The ping URL.
        url: String,
        /// The status it answered.
        status: u16,
    },

    /// A size-capped document (token response, error body, challenge) was larger than its cap.
    #[error("the answer from {url} is larger than {limit} bytes; refusing to read it")]
    TooLarge {
        /// The URL, without query.
        url: String,
        /// The cap in bytes.
        limit: usize,
    },

    /// A header value could not be built (e.g. a token or user name with a line break).
    #[error("cannot build the {name} header: the value holds characters a header cannot carry")]
    InvalidHeader {
        /// The header's name; its value is never shown.
        name: String,
    },

    /// The HTTP client could not be built (e.g. the system's root certificates are unusable).
    #[error("cannot build the HTTP client: {reason}")]
    ClientBuild {
        /// What went wrong.
        reason: String,
    },

    /// The token server refused to issue a token (wrong credentials, no access, or trouble).
    #[error("the token server {realm} refused: {answer}")]
    TokenRequest {
        /// The realm asked, without query.
        realm: String,
        /// Its answer.
        answer: ErrorResponse,
    },

    /// A bearer challenge without a realm to ask for a token.
    #[error("no realm specified for token auth challenge")]
    NoRealm,

    /// The realm of a bearer challenge is not a URL.
    #[error("invalid token auth challenge realm {realm:?}: {reason}")]
    InvalidRealm {
        /// The realm.
        realm: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The token server answered without a token.
    #[error("authorization server did not include a token in the response")]
    NoToken,

    /// The token server's answer was not the JSON expected.
    #[error("the token server's answer is not valid: {reason}")]
    InvalidTokenResponse {
        /// What is wrong with it.
        reason: String,
    },

    /// The registry asks for basic auth and no credentials are configured for it.
    #[error("no basic auth credentials for {registry} (log in, or configure credentials)")]
    NoBasicCredentials {
        /// The registry host.
        registry: String,
    },

    /// OAuth2 was required but neither a refresh token nor a username and password exist.
    #[error("no supported grant type: configure a username and password, or an identity token")]
    NoGrantType,

    /// A credentials file could not be read or parsed.
    #[error("cannot read the credentials in {path}: {reason}")]
    CredentialsFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A `docker-credential-<name>` helper failed, timed out or answered nonsense.
    #[error("credential helper docker-credential-{helper} failed for {registry}: {reason}")]
    CredentialHelper {
        /// The helper's name (the part after `docker-credential-`).
        helper: String,
        /// The registry asked about.
        registry: String,
        /// What went wrong (the helper's stderr, never its answer).
        reason: String,
    },
}

impl Error {
    /// Whether trying the next endpoint (mirror, or HTTP after HTTPS) makes sense, as
    /// upstream decides: the endpoint could not be reached, did not speak the registry API,
    /// or refused for reasons of its own (it does not mean the image is missing everywhere).
    ///
    /// ```
    /// use imgsvc_registry_transport::Error;
    /// use imgsvc_registry_transport::envelope::ErrorResponse;
    ///
    /// assert!(Error::Registry(ErrorResponse::parse(503, b"", None)).is_fallback());
    /// assert!(Error::Registry(ErrorResponse::parse(401, b"", None)).is_fallback());
    /// let unknown = br#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#;
    /// assert!(!Error::Registry(ErrorResponse::parse(404, unknown, None)).is_fallback());
    /// ```
    pub fn is_fallback(&self) -> bool {
        match self {
            Error::Registry(answer) => {
                use crate::envelope::ErrorCode;
                let codes_say_missing = answer.errors.iter().any(|e| {
                    matches!(
                        e.code,
                        ErrorCode::ManifestUnknown
                            | ErrorCode::NameUnknown
                            | ErrorCode::BlobUnknown
                    )
                });
                !codes_say_missing
                    && (answer.status >= 500 || matches!(answer.status, 401 | 403 | 404 | 429))
            }
            Error::Http { .. } | Error::NotARegistry { .. } => true,
            Error::NoRealm
            | Error::TokenRequest { .. }
            | Error::InvalidRealm { .. }
            | Error::NoToken
            | Error::InvalidTokenResponse { .. } => true,
            _ => false,
        }
    }
}

/// `url` for a message: no user info, no query, no fragment.
pub(crate) fn redact_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// A reqwest error as ours, with the URL redacted and reqwest's own copy of it removed.
pub(crate) fn http_error(err: reqwest::Error, url: &url::Url) -> Error {
    let kind = if err.is_timeout() {
        HttpErrorKind::Timeout
    } else if err.is_connect() {
        HttpErrorKind::Connect
    } else if err.is_redirect() {
        HttpErrorKind::Redirect
    } else if err.is_body() || err.is_decode() {
        HttpErrorKind::Body
    } else {
        HttpErrorKind::Request
    };
    Error::Http {
        kind,
        url: redact_url(url),
        source: Box::new(err.without_url()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_messages_lose_user_info_and_query() {
        let url = "https://user:hunter2@auth.example/token?account=user&scope=x#frag"
            .parse()
            .expect("a valid URL");
        assert_eq!(redact_url(&url), "https://auth.example/token");
    }

    #[test]
    fn transport_failures_are_fallback_and_size_caps_are_not() {
        let http = Error::Http {
            kind: HttpErrorKind::Connect,
            url: "https://x.example/v2/".into(),
            source: "refused".into(),
        };
        assert!(http.is_fallback());
        assert!(
            Error::NotARegistry {
                url: "u".into(),
                status: 404
            }
            .is_fallback()
        );
        assert!(
            !Error::TooLarge {
                url: "u".into(),
                limit: 1
            }
            .is_fallback()
        );
        assert!(
            !Error::NoBasicCredentials {
                registry: "r".into()
            }
            .is_fallback()
        );
    }
}
