//! RS256 JSON Web Tokens in the shape distribution's token authenticator checks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{Error, KeyHeader, SigningKey};

/// One entry of a token's `access` claim: actions granted on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Resource type: `repository` or `registry`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Resource name, e.g. `library/alpine` (may contain `:` for a registry-qualified name).
    pub name: String,
    /// Granted actions, e.g. `pull`, `push`.
    pub actions: Vec<String>,
}

/// Construction
impl Access {
    /// `repository:<name>:<actions>` access.
    pub fn repository(name: &str, actions: &[&str]) -> Access {
        Access {
            kind: "repository".to_owned(),
            name: name.to_owned(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// Parses one scope as clients send it: `type:name:action[,action...]`.
    ///
    /// The name may itself contain `:` (a registry host with a port), so the type ends at the
    /// first colon and the actions start after the last. Returns `None` for fewer than three parts.
    pub fn parse_scope(scope: &str) -> Option<Access> {
        let (kind, rest) = scope.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(Access {
            kind: kind.to_owned(),
            name: name.to_owned(),
            actions: actions
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// The claims of a registry token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer; must equal the registry's `auth.token.issuer`.
    pub iss: String,
    /// Subject: the account, empty for anonymous tokens.
    pub sub: String,
    /// Audience; must equal the registry's `auth.token.service`.
    pub aud: String,
    /// Expiry, seconds since the epoch (the registry allows 60 s of leeway).
    pub exp: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Unique token id.
    pub jti: String,
    /// Granted access.
    pub access: Vec<Access>,
}

/// Construction
impl Claims {
    /// Claims valid from 10 s ago for `ttl_seconds` (negative makes an already expired token).
    pub fn new(issuer: &str, service: &str, account: Option<&str>, ttl_seconds: i64) -> Claims {
        let now = unix_now();
        Claims {
            iss: issuer.to_owned(),
            sub: account.unwrap_or_default().to_owned(),
            aud: service.to_owned(),
            exp: now.saturating_add(ttl_seconds),
            nbf: now.saturating_sub(10),
            iat: now,
            jti: unique_id(),
            access: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Header<'a> {
    typ: &'static str,
    alg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5c: Option<[String; 1]>,
}

/// Encodes and signs `claims` as a compact JWS (`header.claims.signature`, base64url).
pub fn encode(key: &SigningKey, header: KeyHeader, claims: &Claims) -> Result<String, Error> {
    let std_b64 = base64::engine::general_purpose::STANDARD;
    let url_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = match header {
        KeyHeader::Kid => Header {
            typ: "JWT",
            alg: "RS256",
            kid: Some(key.kid()),
            x5c: None,
        },
        KeyHeader::X5c => Header {
            typ: "JWT",
            alg: "RS256",
            kid: None,
            x5c: Some([std_b64.encode(key.cert_der())]),
        },
    };
    let header = serde_json::to_vec(&header).map_err(|e| Error::Key {
        reason: e.to_string(),
    })?;
    let claims = serde_json::to_vec(claims).map_err(|e| Error::Key {
        reason: e.to_string(),
    })?;
    let signing_input = format!("{}.{}", url_b64.encode(header), url_b64.encode(claims));
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", url_b64.encode(signature)))
}

/// Decodes the claims of a compact JWS without checking the signature (for test assertions).
pub fn decode_claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let claims = parts.nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// An id unique in this process and unlikely to repeat across processes: pid, time, counter.
pub(crate) fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{}-{n}", std::process::id(), unix_now())
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_with_port_in_name_keeps_the_port() {
        let access =
            Access::parse_scope("repository:localhost:5000/app:pull,push").expect("three parts");
        assert_eq!(
            access,
            Access::repository("localhost:5000/app", &["pull", "push"])
        );
    }

    #[test]
    fn scope_without_actions_part_is_rejected() {
        assert_eq!(Access::parse_scope("repository:app"), None);
        assert_eq!(
            Access::parse_scope("registry:catalog:*").map(|a| a.actions),
            Some(vec!["*".to_owned()])
        );
    }

    #[test]
    fn encoded_token_round_trips_its_claims() {
        let key = SigningKey::shared().expect("openssl is installed (see .ci/run)");
        let mut claims = Claims::new("iss", "svc", Some("alice"), 60);
        claims.access.push(Access::repository("a/b", &["pull"]));
        let token = encode(&key, KeyHeader::Kid, &claims).expect("signs");
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(decode_claims(&token), Some(claims));
    }
}
