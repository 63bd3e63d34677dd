//! Authorizing requests: scopes, the [`Authorizer`] that answers a registry's challenges
//! (bearer tokens, basic auth, a pass-through registry token, or nothing for anonymous
//! pulls), and the handlers behind it.

pub mod basic;
pub mod oauth;
pub mod token;

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use http::header::{AUTHORIZATION, HeaderMap};
use url::Url;

use crate::challenge::{from_headers, preferred};
use crate::challenge_manager::{ChallengeManager, ping_url_for};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::modifier::{BoxFuture, RequestModifier};

pub use token::{Token, TokenHandler, TokenOptions};

/// Most scopes learnt from challenges that one authorizer keeps.
const MAX_LEARNT_SCOPES: usize = 16;

/// An access scope a token is asked for: `repository:<name>:<actions>` (for example
/// `repository:library/alpine:pull`), `repository(<class>):…`, or `registry:catalog:*`.
///
/// ```
/// use imgsvc_registry_transport::auth::Scope;
///
/// assert_eq!(Scope::pull("library/alpine").as_str(), "repository:library/alpine:pull");
/// assert_eq!(Scope::repository("foo/bar", &["push", "pull"]).to_string(), "repository:foo/bar:push,pull");
/// let parsed: Scope = "registry:catalog:*".parse()?;
/// assert_eq!(parsed.as_str(), "registry:catalog:*");
/// assert!("repository:name".parse::<Scope>().is_err());
/// assert!("repository:a b:pull".parse::<Scope>().is_err());
/// # Ok::<(), imgsvc_registry_transport::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

/// Construction
impl Scope {
    /// `repository:<name>:<actions joined by ",">`.
    pub fn repository(name: &str, actions: &[&str]) -> Scope {
        Scope(format!("repository:{name}:{}", actions.join(",")))
    }

    /// `repository:<name>:pull`, what a pull asks for.
    pub fn pull(name: &str) -> Scope {
        Scope::repository(name, &["pull"])
    }
}

/// Access
impl Scope {
    /// The scope as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Scope {
    type Err = Error;

    /// `type:name:actions`, each part non-empty, no spaces or control characters (scopes
    /// are joined by spaces in OAuth2 requests).
    fn from_str(text: &str) -> Result<Scope, Error> {
        let invalid = |reason: &str| Error::InvalidScope {
            scope: text.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        if text.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(invalid("scopes hold no spaces or control characters"));
        }
        let (kind, rest) = text
            .split_once(':')
            .ok_or_else(|| invalid("expected type:name:actions"))?;
        let (name, actions) = rest
            .rsplit_once(':')
            .ok_or_else(|| invalid("expected type:name:actions"))?;
        if kind.is_empty() || name.is_empty() || actions.is_empty() {
            return Err(invalid("expected type:name:actions, none empty"));
        }
        Ok(Scope(text.to_owned()))
    }
}

/// Answers a registry's challenges on every request of one repository (or login):
///
/// - a pass-through registry token, when the credentials hold one, is always sent as
///   `Bearer`, as Docker does;
/// - otherwise the challenges recorded for the request's endpoint decide: Bearer first
///   (a token for the scopes, from [`TokenHandler`]), then Basic (the user name and
///   password, required);
/// - no challenge means no header (anonymous, or a registry without auth);
/// - a request whose path has no `/v2/` (a blob redirected to storage) is never authorized.
///
/// On a 401, the [`Transport`](crate::Transport) hands the answer to
/// [`Authorizer::handle_unauthorized`]: its challenges are recorded, scopes it names are
/// added, the token used is dropped, and the request is sent once more.
///
/// ```
/// use std::sync::Arc;
/// use imgsvc_registry_transport::auth::{Authorizer, Scope, TokenHandler, TokenOptions};
/// use imgsvc_registry_transport::challenge::parse_header;
/// use imgsvc_registry_transport::{ChallengeManager, Client, Credentials, RequestModifier, Transport};
/// use imgsvc_registry_transport::endpoint::Tls;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let manager = Arc::new(ChallengeManager::default());
/// manager.record(&"https://registry.lan/v2/".parse()?, 401, &parse_header(r#"Basic realm="lan""#));
/// let transport = Transport::new(&Client::new()?, Tls::Verified);
/// let tokens = Arc::new(TokenHandler::new(&transport, TokenOptions::default()));
/// let authorizer = Authorizer::new(manager, tokens, Credentials::basic("alice", "pw"), vec![Scope::pull("team/app")]);
///
/// let mut request = http::Request::get("https://registry.lan/v2/team/app/manifests/1").body(())?;
/// authorizer.modify(&mut request).await?;
/// assert_eq!(request.headers()["authorization"], "Basic YWxpY2U6cHc=");
///
/// // Storage a blob was redirected to gets nothing.
/// let mut request = http::Request::get("https://storage.example/blobs/abc").body(())?;
/// authorizer.modify(&mut request).await?;
/// assert!(request.headers().get("authorization").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Authorizer {
    challenges: Arc<ChallengeManager>,
    tokens: Arc<TokenHandler>,
    credentials: Credentials,
    scopes: Vec<Scope>,
    learnt: Mutex<Vec<Scope>>,
}

impl fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorizer")
            .field("credentials", &self.credentials)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Construction
impl Authorizer {
    /// An authorizer answering the challenges in `challenges` with `credentials`, asking
    /// tokens for `scopes` from `tokens`.
    pub fn new(
        challenges: Arc<ChallengeManager>,
        tokens: Arc<TokenHandler>,
        credentials: Credentials,
        scopes: Vec<Scope>,
    ) -> Authorizer {
        Authorizer {
            challenges,
            tokens,
            credentials,
            scopes,
            learnt: Mutex::new(Vec::new()),
        }
    }
}

/// Authorizing
impl Authorizer {
    /// The scopes a token for `url` is asked for: the configured ones, those learnt from
    /// 401 answers, and `repository:<from>:pull` for a cross-repository mount (`?from=`).
    pub fn scopes_for(&self, url: &Url) -> Vec<Scope> {
        let mut scopes = self.scopes.clone();
        if let Ok(learnt) = self.learnt.lock() {
            scopes.extend(learnt.iter().cloned());
        }
        if let Some((_, from)) = url.query_pairs().find(|(k, _)| k == "from") {
            scopes.push(Scope::pull(&from));
        }
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// Sets `Authorization` on `request` as the rules above say.
    pub async fn authorize(&self, request: &mut http::Request<()>) -> Result<(), Error> {
        let Ok(url) = Url::parse(&request.uri().to_string()) else {
            return Ok(());
        };
        let Some(ping) = ping_url_for(&url) else {
            return Ok(());
        };
        if let Some(token) = self.credentials.registry() {
            request
                .headers_mut()
                .insert(AUTHORIZATION, basic::bearer(token)?);
            return Ok(());
        }
        let challenges = self.challenges.challenges(&ping);
        let Some(challenge) = preferred(&challenges) else {
            return Ok(());
        };
        let value = if challenge.scheme() == "bearer" {
            let token = self
                .tokens
                .token(challenge, &self.scopes_for(&url), &self.credentials)
                .await?;
            basic::bearer(token.secret())?
        } else {
            basic::authorization(&self.credentials, url.host_str().unwrap_or_default())?
        };
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    /// Takes in a 401 answer to a request for `url`: records its challenges for the
    /// endpoint, learns the scope a Bearer challenge names, and drops the token that was
    /// refused. Whether sending the request again can help (false when the answer names no
    /// challenge we can answer, or the credentials are a fixed registry token).
    pub async fn handle_unauthorized(&self, url: &Url, headers: &HeaderMap) -> bool {
        let Some(ping) = ping_url_for(url) else {
            return false;
        };
        if self.credentials.registry().is_some() {
            return false;
        }
        let found = from_headers(headers);
        let Some(challenge) = preferred(&found).cloned() else {
            return false;
        };
        // The token used before learning anything new is the one the registry refused.
        let refused_scopes = self.scopes_for(url);
        if challenge.scheme() == "bearer" {
            self.tokens
                .invalidate(&challenge, &refused_scopes, &self.credentials)
                .await;
            if let Some(scope) = challenge.parameter("scope") {
                let parsed = scope.split(' ').filter_map(|s| s.parse::<Scope>().ok());
                if let Ok(mut learnt) = self.learnt.lock() {
                    for scope in parsed {
                        if !learnt.contains(&scope) && learnt.len() < MAX_LEARNT_SCOPES {
                            learnt.push(scope);
                        }
                    }
                }
            }
        }
        self.challenges.record(&ping, 401, &found);
        true
    }
}

impl RequestModifier for Authorizer {
    fn modify<'a>(
        &'a self,
        request: &'a mut http::Request<()>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.authorize(request))
    }
}
