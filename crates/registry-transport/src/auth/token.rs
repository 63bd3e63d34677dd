//! The `bearer` scheme: tokens from the realm a challenge names, cached per scope set and
//! fetched again before they expire.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Method;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use url::Url;

use super::{Scope, basic, oauth};
use crate::challenge::Challenge;
use crate::credentials::Credentials;
use crate::error::{Error, redact_url};
use crate::transport::{Request, Transport};

/// Docker's shortest token lifetime: an `expires_in` below it (or none) is raised to it.
pub const MINIMUM_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

/// The largest token response read.
pub const MAX_TOKEN_RESPONSE: usize = 1 << 20;

/// How long a token request may take, as in Docker.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(15);

/// How a token is asked for.
///
/// ```
/// let options = imgsvc_registry_transport::auth::TokenOptions::default();
/// assert_eq!(options.client_id, "docker");
/// assert!(!options.offline_access && !options.force_oauth);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenOptions {
    /// The `client_id` sent with OAuth2 and offline requests (Docker's pulls send `docker`).
    pub client_id: String,
    /// Ask for a refresh token (`offline_token=true`), as `docker login` does.
    pub offline_access: bool,
    /// Use the OAuth2 `POST` even without an identity token (password grant).
    pub force_oauth: bool,
}

impl Default for TokenOptions {
    fn default() -> TokenOptions {
        TokenOptions {
            client_id: "docker".into(),
            offline_access: false,
            force_oauth: false,
        }
    }
}

/// A bearer token and when to stop using it. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    secret: String,
    expires_at: SystemTime,
    refresh_at: SystemTime,
    refresh_token: Option<String>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("refresh_at", &self.refresh_at)
            .finish_non_exhaustive()
    }
}

/// Access
impl Token {
    /// The token text, to send as `Authorization: Bearer <token>`.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// When the token expires (`issued_at + expires_in`).
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// Whether the token is still good to use at `now`: a token is fetched again once a
    /// fifth of its lifetime (at most a minute) is left, so a request never carries a token
    /// that expires on the way.
    pub fn is_fresh(&self, now: SystemTime) -> bool {
        now < self.refresh_at
    }

    /// The refresh token the server sent with it, if any (`docker login` keeps it as the
    /// identity token).
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }
}

/// Reads a token server's answer received at `now`: `access_token` wins over `token` when
/// non-empty; `expires_in` below [`MINIMUM_TOKEN_LIFETIME`] is raised to it; `issued_at`
/// (RFC 3339) dates the token, now when missing.
///
/// Unlike Docker, a token that the server's clock would make stale on arrival is dated from
/// its arrival instead, so a skewed clock cannot make every request fetch a new token.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use imgsvc_registry_transport::auth::token::parse_response;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let token = parse_response(br#"{"token":"t","expires_in":300}"#, now)?;
/// assert_eq!(token.secret(), "t");
/// assert_eq!(token.expires_at(), now + Duration::from_secs(300));
/// assert!(token.is_fresh(now + Duration::from_secs(200)));
/// assert!(!token.is_fresh(now + Duration::from_secs(250)));
///
/// let short = parse_response(br#"{"access_token":"a","token":"t","expires_in":5}"#, now)?;
/// assert_eq!((short.secret(), short.expires_at()), ("a", now + Duration::from_secs(60)));
/// assert!(parse_response(br#"{"token":""}"#, now).is_err());
/// # Ok::<(), imgsvc_registry_transport::Error>(())
/// ```
pub fn parse_response(body: &[u8], now: SystemTime) -> Result<Token, Error> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        token: String,
        #[serde(default)]
        access_token: String,
        #[serde(default)]
        expires_in: Option<i64>,
        #[serde(default)]
        issued_at: Option<String>,
        #[serde(default)]
        refresh_token: Option<String>,
    }
    let raw: Raw = serde_json::from_slice(body).map_err(|err| Error::InvalidTokenResponse {
        // Position only: serde's message could quote part of a token.
        reason: format!(
            "not the JSON expected (line {}, column {})",
            err.line(),
            err.column()
        ),
    })?;
    let secret = if raw.access_token.is_empty() {
        raw.token
    } else {
        raw.access_token
    };
    if secret.is_empty() {
        return Err(Error::NoToken);
    }
    let lifetime = raw
        .expires_in
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .unwrap_or_default()
        .max(MINIMUM_TOKEN_LIFETIME);
    let margin = (lifetime / 5).min(Duration::from_secs(60));
    let issued = raw
        .issued_at
        .as_deref()
        .and_then(parse_rfc3339)
        .filter(|issued| *issued + lifetime - margin > now && *issued <= now)
        .unwrap_or(now);
    Ok(Token {
        secret,
        expires_at: issued + lifetime,
        refresh_at: issued + lifetime - margin,
        refresh_token: raw.refresh_token.filter(|t| !t.is_empty()),
    })
}

/// The `GET` token request URL: `service`, one `scope` per scope, `account` when a user
/// name and password are given, and `offline_token=true&client_id=…` for offline access;
/// keys sorted as Docker sorts them.
///
/// ```
/// use imgsvc_registry_transport::Credentials;
/// use imgsvc_registry_transport::auth::{Scope, TokenOptions, token::request_url};
///
/// let url = request_url(
///     &"https://auth.docker.io/token".parse()?,
///     Some("registry.docker.io"),
///     &[Scope::pull("library/alpine"), Scope::pull("library/busybox")],
///     &Credentials::basic("alice", "pw"),
///     &TokenOptions::default(),
/// );
/// assert_eq!(url.as_str(), "https://auth.docker.io/token?account=alice&scope=repository%3Alibrary%2Falpine%3Apull&scope=repository%3Alibrary%2Fbusybox%3Apull&service=registry.docker.io");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn request_url(
    realm: &Url,
    service: Option<&str>,
    scopes: &[Scope],
    credentials: &Credentials,
    options: &TokenOptions,
) -> Url {
    let mut url = realm.clone();
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some((user, _)) = credentials.user_and_password() {
        pairs.push(("account", user));
    }
    if options.offline_access {
        pairs.push(("client_id", &options.client_id));
        pairs.push(("offline_token", "true"));
    }
    for scope in scopes {
        pairs.push(("scope", scope.as_str()));
    }
    if let Some(service) = service.filter(|s| !s.is_empty()) {
        pairs.push(("service", service));
    }
    // A stable sort by key keeps the scopes in order among themselves.
    pairs.sort_by_key(|(key, _)| *key);
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

/// Fetches and caches bearer tokens. One handler can serve many repositories and
/// registries: tokens are cached per realm, service, account and scope set. Its `Debug`
/// output shows neither tokens nor the refresh token.
pub struct TokenHandler {
    transport: Transport,
    options: TokenOptions,
    cache: tokio::sync::Mutex<HashMap<CacheKey, Token>>,
    refresh_token: std::sync::Mutex<Option<String>>,
}

impl fmt::Debug for TokenHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has_refresh_token = self.refresh_token.lock().is_ok_and(|t| t.is_some());
        f.debug_struct("TokenHandler")
            .field("transport", &self.transport)
            .field("options", &self.options)
            .field("has_refresh_token", &has_refresh_token)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    realm: String,
    service: String,
    account: String,
    scopes: BTreeSet<Scope>,
}

/// Construction
impl TokenHandler {
    /// A handler sending token requests through `transport` (its authorizer is not used;
    /// its header modifiers and TLS treatment are).
    pub fn new(transport: &Transport, options: TokenOptions) -> TokenHandler {
        TokenHandler {
            transport: transport.without_authorizer(),
            options,
            cache: tokio::sync::Mutex::new(HashMap::new()),
            refresh_token: std::sync::Mutex::new(None),
        }
    }
}

/// Tokens
impl TokenHandler {
    /// A fresh token for `scopes` from the realm of `challenge`, from the cache or fetched.
    /// Fetches are serialised, so concurrent requests for one scope set fetch once.
    pub async fn token(
        &self,
        challenge: &Challenge,
        scopes: &[Scope],
        credentials: &Credentials,
    ) -> Result<Token, Error> {
        let key = cache_key(challenge, scopes, credentials);
        let mut cache = self.cache.lock().await;
        if let Some(token) = cache.get(&key)
            && token.is_fresh(SystemTime::now())
        {
            return Ok(token.clone());
        }
        let token = self.fetch(challenge, scopes, credentials).await?;
        cache.insert(key, token.clone());
        Ok(token)
    }

    /// Forgets the cached token for this challenge, scope set and credentials (the
    /// registry refused it).
    pub async fn invalidate(
        &self,
        challenge: &Challenge,
        scopes: &[Scope],
        credentials: &Credentials,
    ) {
        self.cache
            .lock()
            .await
            .remove(&cache_key(challenge, scopes, credentials));
    }

    /// The refresh token the last OAuth2 answer or offline `GET` carried, if any: what
    /// `docker login` would store as the identity token.
    pub fn refresh_token(&self) -> Option<String> {
        self.refresh_token.lock().ok().and_then(|t| t.clone())
    }

    async fn fetch(
        &self,
        challenge: &Challenge,
        scopes: &[Scope],
        credentials: &Credentials,
    ) -> Result<Token, Error> {
        let realm_text = challenge.parameter("realm").ok_or(Error::NoRealm)?;
        let realm = Url::parse(realm_text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| Error::InvalidRealm {
                realm: realm_text.to_owned(),
                reason: "not an http(s) URL".into(),
            })?;
        let service = challenge.parameter("service");
        let refresh = self
            .refresh_token()
            .or_else(|| credentials.identity().map(str::to_owned));
        let request = if refresh.is_some() || self.options.force_oauth {
            let creds = match &refresh {
                Some(token) => Credentials::identity_token("", token),
                None => credentials.clone(),
            };
            let body = oauth::form(
                &creds,
                service.unwrap_or_default(),
                &self.options.client_id,
                scopes,
            )?;
            Request::new(Method::POST, realm.clone())
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
                )
                .body(Bytes::from(body))
        } else {
            let url = request_url(&realm, service, scopes, credentials, &self.options);
            let mut request = Request::get(url);
            if credentials.user_and_password().is_some() {
                request = request.header(
                    http::header::AUTHORIZATION,
                    basic::authorization(credentials, realm.host_str().unwrap_or_default())?,
                );
            }
            request
        };
        let response = self.transport.send(request.timeout(TOKEN_TIMEOUT)).await?;
        if !response.status().is_success() {
            let Error::Registry(answer) = response.into_error().await else {
                return Err(Error::NoToken);
            };
            return Err(Error::TokenRequest {
                realm: redact_url(&realm),
                answer,
            });
        }
        let body = response.bytes_limited(MAX_TOKEN_RESPONSE).await?;
        let token = parse_response(&body, SystemTime::now())?;
        if let Some(new) = token.refresh_token()
            && let Ok(mut stored) = self.refresh_token.lock()
        {
            *stored = Some(new.to_owned());
        }
        Ok(token)
    }
}

fn cache_key(challenge: &Challenge, scopes: &[Scope], credentials: &Credentials) -> CacheKey {
    CacheKey {
        realm: challenge.parameter("realm").unwrap_or_default().to_owned(),
        service: challenge
            .parameter("service")
            .unwrap_or_default()
            .to_owned(),
        account: credentials.username().unwrap_or_default().to_owned(),
        scopes: scopes.iter().cloned().collect(),
    }
}

/// An RFC 3339 time (`2024-05-01T12:00:00Z`, fractions and offsets allowed).
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() < 20 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        || bytes.get(13) != Some(&b':')
        || bytes.get(16) != Some(&b':')
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = fraction.get(digits..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes().get(3) != Some(&b':') {
                return None;
            }
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let seconds = u64::try_from(seconds).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(at(0)));
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20Z"),
            Some(at(1_700_000_000))
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.123456789Z"),
            Some(at(1_700_000_000))
        );
        assert_eq!(
            parse_rfc3339("2023-11-15T00:13:20+02:00"),
            Some(at(1_700_000_000))
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T21:13:20-01:00"),
            Some(at(1_700_000_000))
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(at(1_709_164_800))
        );
        for bad in [
            "",
            "2023-11-14",
            "2023-11-14T22:13:20",
            "2023-13-14T22:13:20Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+0200",
            "1969-12-31T23:59:59Z",
            "２０２３-11-14T22:13:20Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn issued_at_dates_the_token_and_skew_is_contained() {
        let now = at(1_700_000_000);
        let token = parse_response(
            br#"{"token":"t","expires_in":300,"issued_at":"2023-11-14T22:12:20Z"}"#,
            now,
        )
        .expect("valid answer");
        assert_eq!(token.expires_at(), at(1_700_000_000 - 60 + 300));
        // Issued so long ago that it would be stale on arrival: dated from arrival.
        let token = parse_response(
            br#"{"token":"t","expires_in":60,"issued_at":"2023-11-14T21:00:00Z"}"#,
            now,
        )
        .expect("valid answer");
        assert_eq!(token.expires_at(), now + MINIMUM_TOKEN_LIFETIME);
        assert!(token.is_fresh(now));
        // Issued in the future (a fast server clock): dated from arrival, not later.
        let token = parse_response(
            br#"{"token":"t","expires_in":300,"issued_at":"2030-01-01T00:00:00Z"}"#,
            now,
        )
        .expect("valid answer");
        assert_eq!(token.expires_at(), now + Duration::from_secs(300));
        // Unparsable or negative values fall back quietly.
        let token = parse_response(
            br#"{"token":"t","expires_in":-5,"issued_at":"yesterday"}"#,
            now,
        )
        .expect("valid answer");
        assert_eq!(token.expires_at(), now + MINIMUM_TOKEN_LIFETIME);
    }

    #[test]
    fn refresh_happens_before_expiry() {
        let now = at(1_000);
        let minute = parse_response(br#"{"token":"t"}"#, now).expect("valid");
        assert!(minute.is_fresh(now + Duration::from_secs(47)));
        assert!(!minute.is_fresh(now + Duration::from_secs(48)));
        let hour = parse_response(br#"{"token":"t","expires_in":3600}"#, now).expect("valid");
        assert!(hour.is_fresh(now + Duration::from_secs(3539)));
        assert!(!hour.is_fresh(now + Duration::from_secs(3540)));
    }

    #[test]
    fn bad_answers_and_secrets() {
        let now = at(0);
        assert!(matches!(parse_response(b"{}", now), Err(Error::NoToken)));
        let err = parse_response(br#"{"token": "s3cret", "expires_in": "soon"}"#, now)
            .expect_err("bad type");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let token =
            parse_response(br#"{"token":"s3cret","refresh_token":"r"}"#, now).expect("valid");
        assert!(!format!("{token:?}").contains("s3cret"));
        assert_eq!(token.refresh_token(), Some("r"));
    }

    #[test]
    fn get_requests_carry_exactly_the_documented_parameters() {
        let realm: Url = "https://auth.example/token?x=1".parse().expect("url");
        let anonymous = request_url(
            &realm,
            Some("svc"),
            &[Scope::pull("a")],
            &Credentials::anonymous(),
            &TokenOptions::default(),
        );
        assert_eq!(
            anonymous.as_str(),
            "https://auth.example/token?x=1&scope=repository%3Aa%3Apull&service=svc"
        );
        let options = TokenOptions {
            client_id: "imgsvc".into(),
            offline_access: true,
            force_oauth: false,
        };
        let url = request_url(
            &"https://a/t".parse().expect("url"),
            None,
            &[],
            &Credentials::identity_token("bob", "r"),
            &options,
        );
        assert_eq!(
            url.as_str(),
            "https://a/t?client_id=imgsvc&offline_token=true"
        );
        let bare = request_url(
            &"https://a/t".parse().expect("url"),
            Some(""),
            &[],
            &Credentials::anonymous(),
            &TokenOptions::default(),
        );
        assert_eq!(bare.as_str(), "https://a/t");
    }

    #[test]
    fn cache_keys_ignore_scope_order_and_separate_accounts() {
        let challenge = Challenge::new("bearer")
            .and_then(|c| c.with_parameter("realm", "https://a/t"))
            .and_then(|c| c.with_parameter("service", "s"))
            .expect("a valid challenge");
        let ab = [Scope::pull("a"), Scope::pull("b")];
        let ba = [Scope::pull("b"), Scope::pull("a"), Scope::pull("a")];
        let anon = Credentials::anonymous();
        assert_eq!(
            cache_key(&challenge, &ab, &anon),
            cache_key(&challenge, &ba, &anon)
        );
        assert_ne!(
            cache_key(&challenge, &ab, &anon),
            cache_key(&challenge, &ab[..1], &anon)
        );
        assert_ne!(
            cache_key(&challenge, &ab, &anon),
            cache_key(&challenge, &ab, &Credentials::basic("u", "p"))
        );
    }
}
