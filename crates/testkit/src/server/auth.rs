//! Authentication: basic credentials, or bearer tokens from the registry's own token endpoint.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use super::log::TokenRequest;

/// How the registry authenticates requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// Every request is served.
    #[default]
    None,
    /// Every request needs these basic credentials; otherwise 401 with
    /// `WWW-Authenticate: Basic realm="testkit"`.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// Every request needs a bearer token from the registry's token endpoint (`/token`);
    /// otherwise 401 with `WWW-Authenticate: Bearer realm="http://127.0.0.1:<port>/token",
    /// service="testkit",scope="repository:<name>:pull"` (no scope for `/v2/`).
    Bearer(BearerAuth),
}

/// Construction
impl Auth {
    /// [`Auth::Basic`].
    pub fn basic(user: &str, password: &str) -> Auth {
        Auth::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// [`Auth::Bearer`] with anonymous tokens lasting an hour.
    pub fn bearer() -> Auth {
        Auth::Bearer(BearerAuth::new())
    }
}

/// The token service of [`Auth::Bearer`].
///
/// Tokens are opaque random strings, recorded with the scopes granted and an expiry. The
/// token endpoint takes `GET /token?service=…&scope=…&scope=…&account=…`, grants `pull` on
/// each requested `repository:<name>:…` scope (nothing on denied repositories), and answers
/// `{"token","access_token","expires_in","issued_at"}` (with a `refresh_token` when
/// `offline_token=true`). It also takes the OAuth2 `POST /token` (form-encoded
/// `grant_type=password` with `username`/`password`, or `grant_type=refresh_token` with a
/// refresh token it issued) and answers `{"access_token","expires_in","issued_at","scope"}`
/// plus a `refresh_token` for offline password grants and refresh grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BearerAuth {
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) lifetime: Duration,
    pub(crate) reported_expires_in: Option<u64>,
    pub(crate) denied: Vec<String>,
}

impl Default for BearerAuth {
    fn default() -> BearerAuth {
        BearerAuth {
            credentials: None,
            lifetime: Duration::from_secs(3600),
            reported_expires_in: None,
            denied: Vec::new(),
        }
    }
}

/// Options
impl BearerAuth {
    /// Anonymous tokens, valid for an hour.
    pub fn new() -> BearerAuth {
        BearerAuth::default()
    }

    /// Token requests must carry these basic credentials (otherwise 401 from `/token`).
    pub fn credentials(mut self, user: &str, password: &str) -> BearerAuth {
        self.credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// How long the registry accepts a token (one hour by default). `expires_in` reports it
    /// in whole seconds unless [`reported_expires_in`](Self::reported_expires_in) says
    /// otherwise. [`TestRegistry::expire_tokens`](crate::TestRegistry::expire_tokens) ends
    /// every token at once, without waiting.
    pub fn lifetime(mut self, lifetime: Duration) -> BearerAuth {
        self.lifetime = lifetime;
        self
    }

    /// The `expires_in` value to report, whatever the real lifetime.
    pub fn reported_expires_in(mut self, seconds: u64) -> BearerAuth {
        self.reported_expires_in = Some(seconds);
        self
    }

    /// Tokens grant nothing on `repository`, and requests for it with a valid token are
    /// answered 403 `DENIED`.
    pub fn deny(mut self, repository: &str) -> BearerAuth {
        self.denied.push(repository.to_owned());
        self
    }
}

/// The service name in challenges and expected in token requests.
pub(crate) const SERVICE: &str = "testkit";

#[derive(Debug)]
struct Issued {
    /// Repositories granted `pull`.
    repositories: Vec<String>,
    expires: Instant,
}

/// Issued tokens.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, Issued>,
    /// Refresh tokens handed out (offline GETs and OAuth2 answers); they do not expire.
    refresh: HashSet<String>,
    counter: u64,
}

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) challenge: Option<String>,
    pub(crate) code: &'static str,
    pub(crate) message: &'static str,
}

impl Tokens {
    pub(crate) fn expire_all(&mut self) {
        let now = Instant::now();
        for issued in self.issued.values_mut() {
            issued.expires = now;
        }
    }

    fn mint(&mut self) -> String {
        self.counter += 1;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = format!(
            "testkit-token/{}/{nanos}/{}",
            std::process::id(),
            self.counter
        );
        imgsvc_digest::Digest::from_bytes(seed.as_bytes())
            .encoded()
            .as_str()
            .to_owned()
    }
}

/// Checks one registry request. `repository` is `None` for `/v2/`.
pub(crate) fn check(
    auth: &Auth,
    tokens: &Tokens,
    realm: &str,
    authorization: Option<&str>,
    repository: Option<&str>,
) -> Result<(), Refusal> {
    match auth {
        Auth::None => Ok(()),
        Auth::Basic { user, password } => match authorization.and_then(basic_credentials) {
            Some((u, p)) if &u == user && &p == password => Ok(()),
            _ => Err(Refusal {
                status: 401,
                challenge: Some(format!("Basic realm=\"{SERVICE}\"")),
                code: "UNAUTHORIZED",
                message: "authentication required",
            }),
        },
        Auth::Bearer(bearer) => {
            let mut challenge = format!("Bearer realm=\"{realm}\",service=\"{SERVICE}\"");
            if let Some(repo) = repository {
                challenge.push_str(&format!(",scope=\"repository:{repo}:pull\""));
            }
            let refuse = |error: Option<&str>| {
                let mut challenge = challenge.clone();
                if let Some(error) = error {
                    challenge.push_str(&format!(",error=\"{error}\""));
                }
                Err(Refusal {
                    status: 401,
                    challenge: Some(challenge),
                    code: "UNAUTHORIZED",
                    message: "authentication required",
                })
            };
            let Some(token) = authorization.and_then(|h| strip_scheme(h, "bearer")) else {
                return refuse(None);
            };
            let Some(issued) = tokens.issued.get(token.trim()) else {
                return refuse(Some("invalid_token"));
            };
            if Instant::now() >= issued.expires {
                return refuse(Some("invalid_token"));
            }
            let Some(repo) = repository else {
                return Ok(());
            };
            if bearer.denied.iter().any(|d| d == repo) {
                return Err(Refusal {
                    status: 403,
                    challenge: None,
                    code: "DENIED",
                    message: "requested access to the resource is denied",
                });
            }
            if issued.repositories.iter().any(|r| r == repo) {
                Ok(())
            } else {
                refuse(Some("insufficient_scope"))
            }
        }
    }
}

/// A token request as it arrived.
pub(crate) enum Ask<'a> {
    /// `GET /token?…`: the query pairs and the `Authorization` header.
    Get {
        params: &'a [(String, String)],
        authorization: Option<&'a str>,
    },
    /// `POST /token`, OAuth2: the form pairs of the body.
    Post { form: &'a [(String, String)] },
}

impl Ask<'_> {
    fn pairs(&self) -> &[(String, String)] {
        match self {
            Ask::Get { params, .. } => params,
            Ask::Post { form } => form,
        }
    }

    fn param(&self, key: &str) -> Option<String> {
        self.pairs()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

/// Answers a token request: status, JSON body, and the record for the log.
///
/// `GET` authenticates with basic credentials and asks for a refresh token with
/// `offline_token=true`; `POST` (OAuth2) uses `grant_type=password` (`username`, `password`,
/// a refresh token with `access_type=offline`) or `grant_type=refresh_token` with a refresh
/// token this endpoint issued. Scopes may come as several `scope` parameters or one
/// space-separated value.
pub(crate) fn issue(
    bearer: &BearerAuth,
    tokens: &mut Tokens,
    ask: &Ask<'_>,
) -> (u16, String, TokenRequest) {
    let scopes: Vec<String> = ask
        .pairs()
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let grant_type = match ask {
        Ask::Get { .. } => None,
        Ask::Post { .. } => ask.param("grant_type"),
    };
    let mut record = TokenRequest {
        method: match ask {
            Ask::Get { .. } => "GET".to_owned(),
            Ask::Post { .. } => "POST".to_owned(),
        },
        grant_type: grant_type.clone(),
        scopes: scopes.clone(),
        service: ask.param("service"),
        account: ask.param("account").or_else(|| ask.param("username")),
        authenticated: false,
        granted: Vec::new(),
        status: 200,
    };
    let matches_configured = |given: Option<(String, String)>| match (&bearer.credentials, given) {
        (Some(expected), Some(given)) => *expected == given,
        _ => false,
    };
    let (authenticated, wants_refresh, refresh_in) = match ask {
        Ask::Get { authorization, .. } => (
            matches_configured(authorization.and_then(basic_credentials)),
            ask.param("offline_token").as_deref() == Some("true"),
            None,
        ),
        Ask::Post { .. } => match grant_type.as_deref() {
            Some("password") => (
                matches_configured(ask.param("username").zip(ask.param("password"))),
                ask.param("access_type").as_deref() == Some("offline"),
                None,
            ),
            Some("refresh_token") => {
                let given = ask.param("refresh_token").unwrap_or_default();
                let known = tokens.refresh.contains(&given);
                (known, known, known.then_some(given))
            }
            _ => {
                record.status = 400;
                let body = serde_json::json!({
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be password or refresh_token",
                })
                .to_string();
                return (400, body, record);
            }
        },
    };
    record.authenticated = authenticated;
    let refresh_refused = grant_type.as_deref() == Some("refresh_token") && !authenticated;
    if (bearer.credentials.is_some() && !authenticated) || refresh_refused {
        record.status = 401;
        let body = super::routes::envelope("UNAUTHORIZED", "authentication required", None);
        return (401, body, record);
    }
    let mut repositories = Vec::new();
    for scope in &scopes {
        let mut parts = scope.splitn(3, ':');
        let (Some("repository"), Some(name), Some(actions)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let wants_pull = actions.split(',').any(|a| a == "pull" || a == "*");
        if wants_pull && !bearer.denied.iter().any(|d| d == name) {
            repositories.push(name.to_owned());
            record.granted.push(format!("repository:{name}:pull"));
        }
    }
    let token = tokens.mint();
    tokens.issued.insert(
        token.clone(),
        Issued {
            repositories,
            expires: Instant::now() + bearer.lifetime,
        },
    );
    let expires_in = bearer
        .reported_expires_in
        .unwrap_or(bearer.lifetime.as_secs());
    let mut body = serde_json::json!({
        "access_token": token,
        "expires_in": expires_in,
        "issued_at": rfc3339(SystemTime::now()),
    });
    if matches!(ask, Ask::Get { .. }) {
        body["token"] = serde_json::Value::String(token);
    } else {
        body["scope"] = serde_json::Value::String(record.granted.join(" "));
    }
    if wants_refresh {
        let refresh = refresh_in.unwrap_or_else(|| {
            let fresh = format!("refresh-{}", tokens.mint());
            tokens.refresh.insert(fresh.clone());
            fresh
        });
        body["refresh_token"] = serde_json::Value::String(refresh);
    }
    (200, body.to_string(), record)
}

fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = header.trim().split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// The `(user, password)` of a `Basic` authorization header.
pub(crate) fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = strip_scheme(header, "basic")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// UTC RFC 3339 with seconds (`2024-05-01T10:11:12Z`).
fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    crate::form::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        for (secs, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_714_558_272, "2024-05-01T10:11:12Z"),
        ] {
            assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(secs)), text);
        }
    }

    #[test]
    fn basic_credentials_decode_and_reject_other_schemes() {
        assert_eq!(
            basic_credentials("Basic dXNlcjpwYXNzOndvcmQ="),
            Some(("user".into(), "pass:word".into()))
        );
        assert_eq!(basic_credentials("Bearer dXNlcjpwYXNz"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }

    #[test]
    fn bearer_tokens_cover_only_granted_repositories_until_expiry() {
        let bearer = BearerAuth::new().deny("secret");
        let auth = Auth::Bearer(bearer.clone());
        let mut tokens = Tokens::default();
        let params = vec![
            ("service".to_owned(), SERVICE.to_owned()),
            ("scope".to_owned(), "repository:a/b:pull".to_owned()),
            ("scope".to_owned(), "repository:secret:pull".to_owned()),
        ];
        let ask = Ask::Get {
            params: &params,
            authorization: None,
        };
        let (status, body, record) = issue(&bearer, &mut tokens, &ask);
        assert_eq!(status, 200);
        assert_eq!(record.granted, ["repository:a/b:pull"]);
        let json: serde_json::Value = serde_json::from_str(&body).expect("token JSON");
        let header = format!("Bearer {}", json["token"].as_str().expect("a token"));
        let realm = "http://x/token";
        assert_eq!(
            check(&auth, &tokens, realm, Some(&header), Some("a/b")),
            Ok(())
        );
        assert_eq!(check(&auth, &tokens, realm, Some(&header), None), Ok(()));
        let other = check(&auth, &tokens, realm, Some(&header), Some("c")).expect_err("no scope");
        assert!(
            other
                .challenge
                .is_some_and(|c| c.contains("insufficient_scope"))
        );
        let denied = check(&auth, &tokens, realm, Some(&header), Some("secret"));
        assert_eq!(denied.map_err(|r| r.code), Err("DENIED"));
        tokens.expire_all();
        let expired = check(&auth, &tokens, realm, Some(&header), Some("a/b"));
        assert_eq!(expired.map_err(|r| r.status), Err(401));
    }
}
