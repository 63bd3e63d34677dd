//! The token endpoint: a small HTTP/1.1 server on a thread, one short thread per connection.

use std::collections::HashMap;
use std::io::{BufReader, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;

#[cfg(test)]
use super::jwt::decode_claims;
use super::jwt::{self, Access, Claims};
use super::wire::{Request, Response, param, parse_form, read_request, scopes};
use super::{Error, Options, SigningKey};
use crate::form::rfc3339;

/// Actions the server grants to authenticated accounts.
const GRANTABLE: [&str; 4] = ["pull", "push", "delete", "*"];

/// One request to the token endpoint, as recorded in [`TokenServer::requests`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The authenticated account, `None` for anonymous (or rejected) requests.
    pub account: Option<String>,
    /// The `account` query parameter the client sent, if any.
    pub account_param: Option<String>,
    /// The `service` parameter.
    pub service: Option<String>,
    /// The requested scopes, one per entry (`repository:name:pull,push`).
    pub scopes: Vec<String>,
    /// What the issued token grants (empty when no token was issued).
    pub granted: Vec<Access>,
    /// The HTTP status of the answer.
    pub status: u16,
}

struct State {
    options: Options,
    key: Arc<SigningKey>,
    log: Mutex<Vec<TokenRequest>>,
    refresh_tokens: Mutex<HashMap<String, String>>,
    failures_left: AtomicU32,
}

/// A running token server on `127.0.0.1`; stopped by [`stop`](Self::stop) or on drop.
pub struct TokenServer {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Lifecycle
impl TokenServer {
    /// Starts a server on a free loopback port, signing with [`SigningKey::shared`].
    pub fn start(options: Options) -> Result<TokenServer, Error> {
        Self::start_with_key(options, SigningKey::shared()?)
    }

    /// Starts a server on a free loopback port, signing with `key`.
    pub fn start_with_key(options: Options, key: Arc<SigningKey>) -> Result<TokenServer, Error> {
        let io = |what| {
            move |source| Error::Io {
                what,
                path: "127.0.0.1:0".into(),
                source,
            }
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("listen on"))?;
        let addr = listener.local_addr().map_err(io("read the address of"))?;
        let state = Arc::new(State {
            failures_left: AtomicU32::new(options.fail_first),
            options,
            key,
            log: Mutex::new(Vec::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::Builder::new()
                .name(format!("token-server-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &state, &stop))
                .map_err(io("start a thread for"))?
        };
        Ok(TokenServer {
            addr,
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops accepting, waits for open connections to finish, and joins the server thread.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocking accept; it sees the flag and returns.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let _ = thread.join();
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Access
impl TokenServer {
    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The realm URL for the registry's challenge: `http://127.0.0.1:<port>/token`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The service name (token audience).
    pub fn service(&self) -> &str {
        &self.state.options.service
    }

    /// The issuer name.
    pub fn issuer(&self) -> &str {
        &self.state.options.issuer
    }

    /// The options the server runs with.
    pub fn options(&self) -> &Options {
        &self.state.options
    }

    /// The signing key; its certificate goes into the registry's `rootcertbundle`.
    pub fn key(&self) -> &SigningKey {
        &self.state.key
    }

    /// Every token request so far, oldest first.
    pub fn requests(&self) -> Vec<TokenRequest> {
        lock(&self.state.log).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.state.log).clear();
    }

    /// Issues a token for `account` with exactly `access`, as the endpoint would but without a
    /// request (for tests that need a particular token, e.g. one for another repository).
    pub fn issue(&self, account: Option<&str>, access: Vec<Access>) -> Result<String, Error> {
        let options = &self.state.options;
        let mut claims = Claims::new(
            &options.issuer,
            &options.service,
            account,
            options.ttl_seconds,
        );
        claims.access = access;
        jwt::encode(&self.state.key, options.header, &claims)
    }

    /// Signs arbitrary `claims` with the server's key and header choice (e.g. an expired token,
    /// or one for another audience).
    pub fn sign(&self, claims: &Claims) -> Result<String, Error> {
        jwt::encode(&self.state.key, self.state.options.header, claims)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, state: &State, stop: &AtomicBool) {
    std::thread::scope(|scope| {
        for stream in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            scope.spawn(move || {
                // A broken connection only affects its own client.
                let _ = serve_connection(state, stream);
            });
        }
    });
}

fn serve_connection(state: &State, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let response = match read_request(&mut reader)? {
        Some(request) => respond(state, &request),
        None => json(
            400,
            &serde_json::json!({"errors": [{"code": "UNSUPPORTED"}]}),
        ),
    };
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Service Unavailable",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.body.len()
    );
    if let Some(challenge) = response.www_authenticate {
        head.push_str("WWW-Authenticate: ");
        head.push_str(challenge);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut stream = stream;
    stream.write_all(head.as_bytes())?;
    stream.write_all(response.body.as_bytes())?;
    stream.flush()
}

fn respond(state: &State, request: &Request) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/healthz") => Response {
            status: 200,
            body: "{}".to_owned(),
            www_authenticate: None,
        },
        ("GET", "/token") => token_get(state, request),
        ("POST", "/token") => token_post(state, request),
        _ => json(404, &serde_json::json!({"errors": [{"code": "NOT_FOUND"}]})),
    }
}

fn token_get(state: &State, request: &Request) -> Response {
    let mut record = TokenRequest {
        method: "GET".to_owned(),
        account: None,
        account_param: param(&request.query, "account"),
        service: param(&request.query, "service"),
        scopes: scopes(&request.query),
        granted: Vec::new(),
        status: 200,
    };
    let response = (|| {
        if injected_failure(state) {
            return unavailable();
        }
        let account = match basic_account(state, request.authorization.as_deref()) {
            Ok(account) => account,
            Err(()) => return bad_credentials(),
        };
        if record
            .service
            .as_deref()
            .is_some_and(|s| s != state.options.service)
        {
            return json(
                400,
                &serde_json::json!({"errors": [{"code": "DENIED", "message": "unknown service"}]}),
            );
        }
        record.account.clone_from(&account);
        record.granted = grant(state, account.is_some(), &record.scopes);
        issue(state, account.as_deref(), &record.granted, None)
    })();
    record.status = response.status;
    if response.status != 200 {
        record.granted.clear();
    }
    lock(&state.log).push(record);
    response
}

fn token_post(state: &State, request: &Request) -> Response {
    let form = parse_form(&String::from_utf8_lossy(&request.body));
    let mut record = TokenRequest {
        method: "POST".to_owned(),
        account: None,
        account_param: param(&form, "username"),
        service: param(&form, "service"),
        scopes: scopes(&form),
        granted: Vec::new(),
        status: 200,
    };
    let response = (|| {
        if injected_failure(state) {
            return unavailable();
        }
        let account = match param(&form, "grant_type").as_deref() {
            Some("password") => {
                let (user, password) = (param(&form, "username"), param(&form, "password"));
                match (user, password) {
                    (Some(u), Some(p)) if valid_user(state, &u, &p) => u,
                    _ => return json(401, &serde_json::json!({"error": "invalid_grant"})),
                }
            }
            Some("refresh_token") => {
                let known = param(&form, "refresh_token")
                    .and_then(|t| lock(&state.refresh_tokens).get(&t).cloned());
                match known {
                    Some(account) => account,
                    None => return json(401, &serde_json::json!({"error": "invalid_grant"})),
                }
            }
            _ => return json(400, &serde_json::json!({"error": "unsupported_grant_type"})),
        };
        record.account = Some(account.clone());
        record.granted = grant(state, true, &record.scopes);
        let refresh = (param(&form, "access_type").as_deref() == Some("offline")).then(|| {
            let token = format!("refresh-{}", jwt::unique_id());
            lock(&state.refresh_tokens).insert(token.clone(), account.clone());
            token
        });
        issue(state, Some(&account), &record.granted, refresh)
    })();
    record.status = response.status;
    if response.status != 200 {
        record.granted.clear();
    }
    lock(&state.log).push(record);
    response
}

fn issue(
    state: &State,
    account: Option<&str>,
    granted: &[Access],
    refresh: Option<String>,
) -> Response {
    let options = &state.options;
    let mut claims = Claims::new(
        &options.issuer,
        &options.service,
        account,
        options.ttl_seconds,
    );
    claims.access = granted.to_vec();
    let issued_at = rfc3339(claims.iat);
    match jwt::encode(&state.key, options.header, &claims) {
        Ok(token) => {
            let mut body = serde_json::json!({
                "token": token,
                "access_token": token,
                "expires_in": options.ttl_seconds,
                "issued_at": issued_at,
            });
            if let (Some(refresh), Some(map)) = (refresh, body.as_object_mut()) {
                map.insert("refresh_token".to_owned(), refresh.into());
            }
            json(200, &body)
        }
        Err(e) => json(
            503,
            &serde_json::json!({"errors": [{"code": "UNAVAILABLE", "message": e.to_string()}]}),
        ),
    }
}

fn injected_failure(state: &State) -> bool {
    state
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn unavailable() -> Response {
    json(
        503,
        &serde_json::json!({"errors": [{"code": "UNAVAILABLE", "message": "injected failure"}]}),
    )
}

fn bad_credentials() -> Response {
    Response {
        status: 401,
        body:
            serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                .to_string(),
        www_authenticate: Some("Basic realm=\"imgsvc-token-server\""),
    }
}

fn json(status: u16, body: &serde_json::Value) -> Response {
    Response {
        status,
        body: body.to_string(),
        www_authenticate: None,
    }
}

/// `Ok(None)`: anonymous; `Ok(Some(user))`: valid credentials; `Err(())`: bad credentials.
fn basic_account(state: &State, authorization: Option<&str>) -> Result<Option<String>, ()> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let (scheme, encoded) = value.split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ())?;
    let decoded = String::from_utf8(decoded).map_err(|_| ())?;
    let (user, password) = decoded.split_once(':').ok_or(())?;
    if valid_user(state, user, password) {
        Ok(Some(user.to_owned()))
    } else {
        Err(())
    }
}

fn valid_user(state: &State, user: &str, password: &str) -> bool {
    state
        .options
        .users
        .iter()
        .any(|(u, p)| u == user && p == password)
}

fn grant(state: &State, authenticated: bool, scopes: &[String]) -> Vec<Access> {
    let mut granted = Vec::new();
    for scope in scopes {
        let Some(mut access) = Access::parse_scope(scope) else {
            continue;
        };
        if access.kind != "repository" && access.kind != "registry" {
            continue;
        }
        access.actions.retain(|a| {
            if authenticated {
                GRANTABLE.contains(&a.as_str())
            } else {
                state.options.anonymous_pull && access.kind == "repository" && a == "pull"
            }
        });
        if !access.actions.is_empty() {
            granted.push(access);
        }
    }
    granted
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::rawhttp;

    fn post(server: &TokenServer, form: &str) -> (u16, serde_json::Value) {
        let mut stream = TcpStream::connect(server.addr()).expect("server listens");
        let request = format!(
            "POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        );
        stream.write_all(request.as_bytes()).expect("request sent");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("response read");
        let status = raw
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let body = raw
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        (status, serde_json::from_str(body).unwrap_or_default())
    }

    fn get(server: &TokenServer, query: &str, auth: Option<&str>) -> rawhttp::Response {
        let mut request = rawhttp::Request::new("GET", &format!("{}?{query}", server.realm()));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send().expect("server answers")
    }

    #[test]
    fn password_grant_issues_refresh_tokens_that_work_once_known() {
        let server = TokenServer::start(Options::default().user("u", "p")).expect("starts");
        let scope = "repository%3Aa%3Apull";
        let (status, body) = post(
            &server,
            &format!(
                "grant_type=password&username=u&password=p&access_type=offline&scope={scope}&service=imgsvc-registry&client_id=t"
            ),
        );
        assert_eq!(status, 200, "{body}");
        let refresh = body["refresh_token"]
            .as_str()
            .expect("offline access returns a refresh token");
        let claims =
            decode_claims(body["access_token"].as_str().expect("access token")).expect("claims");
        assert_eq!(claims.sub, "u");
        assert_eq!(claims.access, [Access::repository("a", &["pull"])]);

        let (status, body) = post(
            &server,
            &format!("grant_type=refresh_token&refresh_token={refresh}&scope={scope}"),
        );
        assert_eq!(status, 200, "{body}");
        assert!(body.get("refresh_token").is_none());
        assert_eq!(
            post(&server, "grant_type=refresh_token&refresh_token=nope").0,
            401
        );
        assert_eq!(
            post(&server, "grant_type=password&username=u&password=wrong").0,
            401
        );
        assert_eq!(post(&server, "grant_type=magic").0, 400);

        let methods: Vec<(String, Option<String>, u16)> = server
            .requests()
            .into_iter()
            .map(|r| (r.method, r.account, r.status))
            .collect();
        assert_eq!(methods.len(), 5);
        assert_eq!(methods[1], ("POST".to_owned(), Some("u".to_owned()), 200));
    }

    #[test]
    fn bad_credentials_get_a_basic_challenge_and_failures_are_injected_first() {
        let server =
            TokenServer::start(Options::default().user("u", "p").fail_first(2)).expect("starts");
        let query = "service=imgsvc-registry&scope=repository%3Aa%3Apush";
        assert_eq!(get(&server, query, None).status, 503);
        assert_eq!(get(&server, query, None).status, 503);
        let refused = get(&server, query, Some("Basic dTp4")); // u:x
        assert_eq!(refused.status, 401);
        assert_eq!(
            refused.header("www-authenticate"),
            Some("Basic realm=\"imgsvc-token-server\"")
        );
        let ok = get(&server, query, Some("Basic dTpw")); // u:p
        assert_eq!(ok.status, 200);
        let unknown_service = get(&server, "service=other&scope=repository%3Aa%3Apull", None);
        assert_eq!(unknown_service.status, 400);
        let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [503, 503, 401, 200, 400]);
        assert_eq!(
            get(&server, "", None).status,
            200,
            "an empty query is an anonymous empty token"
        );
        assert_eq!(
            rawhttp::get(&format!("http://{}/healthz", server.addr()))
                .expect("answers")
                .status,
            200
        );
    }

    #[test]
    fn anonymous_requests_get_pull_only_when_allowed() {
        let scope = "service=imgsvc-registry&scope=repository%3Aa%3Apull%2Cpush&scope=registry%3Acatalog%3A*";
        for (anonymous_pull, expected) in [
            (false, vec![]),
            (true, vec![Access::repository("a", &["pull"])]),
        ] {
            let server = TokenServer::start(Options::default().anonymous_pull(anonymous_pull))
                .expect("starts");
            let answer = get(&server, scope, None);
            assert_eq!(answer.status, 200);
            let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("json");
            let claims = decode_claims(body["token"].as_str().expect("token")).expect("claims");
            assert_eq!(claims.access, expected, "anonymous_pull = {anonymous_pull}");
            assert_eq!(claims.sub, "");
            assert_eq!(body["token"], body["access_token"]);
        }
    }
}
