//! The `basic` scheme: a user name and password on every request.

use base64::Engine as _;
use http::HeaderValue;

use crate::credentials::Credentials;
use crate::error::Error;

/// The `Authorization` value for basic auth, marked sensitive. Both the user name and the
/// password must be non-empty, as in Docker; otherwise [`Error::NoBasicCredentials`] names
/// `registry`.
///
/// ```
/// use imgsvc_registry_transport::Credentials;
/// use imgsvc_registry_transport::auth::basic::authorization;
///
/// let value = authorization(&Credentials::basic("alice", "pw"), "registry.lan")?;
/// assert_eq!(value, "Basic YWxpY2U6cHc=");
/// assert!(value.is_sensitive());
/// let err = authorization(&Credentials::anonymous(), "registry.lan").unwrap_err();
/// assert_eq!(err.to_string(), "no basic auth credentials for registry.lan (log in, or configure credentials)");
/// # Ok::<(), imgsvc_registry_transport::Error>(())
/// ```
pub fn authorization(credentials: &Credentials, registry: &str) -> Result<HeaderValue, Error> {
    let (user, password) =
        credentials
            .user_and_password()
            .ok_or_else(|| Error::NoBasicCredentials {
                registry: registry.to_owned(),
            })?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    sensitive(&format!("Basic {encoded}"))
}

/// `Bearer <token>`, marked sensitive.
///
/// ```
/// let value = imgsvc_registry_transport::auth::basic::bearer("abc")?;
/// assert_eq!(value, "Bearer abc");
/// assert!(imgsvc_registry_transport::auth::basic::bearer("a\nb").is_err());
/// # Ok::<(), imgsvc_registry_transport::Error>(())
/// ```
pub fn bearer(token: &str) -> Result<HeaderValue, Error> {
    sensitive(&format!("Bearer {token}"))
}

fn sensitive(text: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(text).map_err(|_| Error::InvalidHeader {
        name: "Authorization".into(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_half_is_required() {
        for creds in [
            Credentials::basic("alice", ""),
            Credentials::basic("", "pw"),
            Credentials::identity_token("alice", "tok"),
            Credentials::registry_token("tok"),
        ] {
            assert!(matches!(
                authorization(&creds, "r"),
                Err(Error::NoBasicCredentials { .. })
            ));
        }
    }

    #[test]
    fn header_errors_do_not_show_the_value() {
        let err = bearer("s3cret\r\nX-Evil: 1").expect_err("line breaks are refused");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let value = authorization(&Credentials::basic("a", "p:w"), "r").expect("valid");
        assert!(
            !format!("{value:?}").contains("YTpwOnc"),
            "sensitive values hide in Debug"
        );
    }
}
