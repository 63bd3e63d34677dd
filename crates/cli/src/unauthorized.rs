//! Refused credentials, worded as Docker words them (`unauthorized: …`) with what to do.

use imgsvc::registry_transport::envelope::ErrorCode;

/// A registry refused the credentials (or asked for some and none were stored).
#[derive(Debug)]
pub(crate) struct Unauthorized {
    /// The registry.
    pub(crate) host: String,
    /// What failed.
    pub(crate) error: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for Unauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unauthorized: {} (log in with `imgsvc login {}`)",
            self.error, self.host
        )
    }
}

impl std::error::Error for Unauthorized {
    // The wrapped error's text is already in the message: its causes come next.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Whether a transport error means the credentials were refused or missing.
pub(crate) fn is_unauthorized(err: &imgsvc::registry_transport::Error) -> bool {
    use imgsvc::registry_transport::Error;
    match err {
        Error::Registry(answer) | Error::TokenRequest { answer, .. } => {
            answer.has(&ErrorCode::Unauthorized) || answer.status == 401
        }
        Error::NoBasicCredentials { .. } => true,
        _ => false,
    }
}
