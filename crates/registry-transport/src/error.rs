//! The crate's error type. No message ever holds a password, token or secret.

use std::path::PathBuf;

use crate::envelope::ErrorResponse;

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
            Error::NoRealm
            | Error::InvalidRealm { .. }
            | Error::NoToken
            | Error::InvalidTokenResponse { .. } => true,
            _ => false,
        }
    }
}
