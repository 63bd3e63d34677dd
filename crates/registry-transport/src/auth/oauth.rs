//! The OAuth2 token request (`POST <realm>`, form-encoded): a `refresh_token` grant with an
//! identity token, or a `password` grant.

use super::Scope;
use crate::credentials::Credentials;
use crate::error::Error;

/// The form body of an OAuth2 token request: `grant_type=refresh_token` with the identity
/// token when there is one, else `grant_type=password` with the user name and password
/// (and `access_type=offline`), else [`Error::NoGrantType`]. Scopes are joined by spaces.
///
/// ```
/// use imgsvc_registry_transport::Credentials;
/// use imgsvc_registry_transport::auth::{Scope, oauth::form};
///
/// let scopes = [Scope::pull("library/alpine")];
/// let body = form(&Credentials::identity_token("", "refresh"), "registry.docker.io", "docker", &scopes)?;
/// assert_eq!(body, "grant_type=refresh_token&refresh_token=refresh&service=registry.docker.io&client_id=docker&scope=repository%3Alibrary%2Falpine%3Apull");
/// assert!(form(&Credentials::anonymous(), "s", "docker", &scopes).is_err());
/// # Ok::<(), imgsvc_registry_transport::Error>(())
/// ```
pub fn form(
    credentials: &Credentials,
    service: &str,
    client_id: &str,
    scopes: &[Scope],
) -> Result<String, Error> {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    if let Some(refresh) = credentials.identity() {
        out.append_pair("grant_type", "refresh_token");
        out.append_pair("refresh_token", refresh);
    } else if let Some((user, password)) = credentials.user_and_password() {
        out.append_pair("grant_type", "password");
        out.append_pair("username", user);
        out.append_pair("password", password);
        out.append_pair("access_type", "offline");
    } else {
        return Err(Error::NoGrantType);
    }
    out.append_pair("service", service);
    out.append_pair("client_id", client_id);
    let joined = scopes
        .iter()
        .map(Scope::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    out.append_pair("scope", &joined);
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_grant_asks_for_offline_access() {
        let scopes = [Scope::pull("a/b"), Scope::pull("c/d")];
        let body = form(
            &Credentials::basic("alice", "p&w"),
            "svc",
            "imgsvc",
            &scopes,
        )
        .expect("credentials allow a password grant");
        assert_eq!(
            body,
            "grant_type=password&username=alice&password=p%26w&access_type=offline&service=svc&client_id=imgsvc&scope=repository%3Aa%2Fb%3Apull+repository%3Ac%2Fd%3Apull"
        );
    }

    #[test]
    fn an_identity_token_wins_over_a_password() {
        let mut creds = Credentials::identity_token("alice", "refresh");
        let body = form(&creds, "s", "c", &[]).expect("refresh grant");
        assert!(body.starts_with("grant_type=refresh_token&refresh_token=refresh&"));
        creds = Credentials::registry_token("t");
        assert!(matches!(
            form(&creds, "s", "c", &[]),
            Err(Error::NoGrantType)
        ));
    }
}
