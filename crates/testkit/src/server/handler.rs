//! One request, start to end: pre-route faults, authentication, the route, response faults,
//! and the log entry.

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Response, header};
use imgsvc_digest::Digest;

use super::auth::{self, Auth};
use super::body::ResponseBody;
use super::faults::{BodyFaults, Fault};
use super::log::{Entry, Listener, RequestKind, RequestRecord};
use super::routes::{self, Reply, Route};
use super::{Shared, lock};

pub(crate) fn handle(
    shared: &Arc<Shared>,
    listener: Listener,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response<ResponseBody> {
    let route = Route::parse(listener, path);
    let kind = route.kind();
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = text(header::AUTHORIZATION);
    let range = text(header::RANGE);
    let accept: Vec<String> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let mut record = RequestRecord {
        listener,
        kind,
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.map(str::to_owned),
        repository: route.name().map(str::to_owned),
        digest: None,
        status: 0,
        bytes_sent: 0,
        authorization: authorization.is_some(),
        range: range.clone(),
        accept: accept.clone(),
    };
    let request = Request {
        listener,
        kind,
        method,
        path,
        query,
        authorization: authorization.as_deref(),
        range: range.as_deref(),
        accept: &accept,
        body,
    };
    let (reply, digest) = match status_fault(shared, &request) {
        Some(reply) => (reply, None),
        None => route_request(shared, &route, &request),
    };
    record.digest = digest;
    let head = method == "HEAD";
    let response = apply_response_faults(shared, &request, &route, reply, head);
    record.status = response.status().as_u16();
    let sent = response.body().counter();
    lock(&shared.log).push(Entry { record, sent });
    response
}

struct Request<'a> {
    listener: Listener,
    kind: RequestKind,
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    authorization: Option<&'a str>,
    range: Option<&'a str>,
    accept: &'a [String],
    /// The request body (read for `POST` only, capped).
    body: &'a [u8],
}

fn status_fault(shared: &Shared, request: &Request<'_>) -> Option<Reply> {
    let mut faults = lock(&shared.faults);
    let state = faults.iter_mut().find(|s| {
        s.available()
            && matches!(s.rule.fault, Fault::Status { .. })
            && s.rule
                .matches(request.method, request.kind, request.listener, request.path)
    })?;
    state.hits += 1;
    let Fault::Status { code, retry_after } = state.rule.fault else {
        return None;
    };
    let mut reply = Reply::error(
        code,
        routes::status_code_name(code),
        "fault injected by testkit",
        None,
    );
    if let Some(seconds) = retry_after {
        reply = reply.header("retry-after", seconds.to_string());
    }
    Some(reply)
}

fn route_request(shared: &Shared, route: &Route, request: &Request<'_>) -> (Reply, Option<Digest>) {
    match route {
        Route::Token => return (token(shared, request), None),
        Route::Storage { name, digest } => {
            if !matches!(request.method, "GET" | "HEAD") {
                return (unsupported(), None);
            }
            return routes::blob(&lock(&shared.store), name, digest, request.range);
        }
        Route::Unknown => return (Reply::new(404, "text/plain", "404 page not found\n"), None),
        _ => {}
    }
    if let Err(refusal) = {
        let tokens = lock(&shared.tokens);
        auth::check(
            &shared.auth,
            &tokens,
            &shared.realm,
            request.authorization,
            route.name(),
        )
    } {
        let mut reply = Reply::error(refusal.status, refusal.code, refusal.message, None);
        if let Some(challenge) = refusal.challenge {
            reply = reply.header("www-authenticate", challenge);
        }
        return (reply, None);
    }
    if !matches!(request.method, "GET" | "HEAD") {
        return (unsupported(), None);
    }
    let store = lock(&shared.store);
    match route {
        Route::Ping => (Reply::new(200, "application/json", "{}"), None),
        Route::Manifest { name, reference } => {
            routes::manifest(&store, name, reference, request.accept)
        }
        Route::Blob { name, digest } => routes::blob(&store, name, digest, request.range),
        Route::Tags { name } => {
            let params = routes::query_pairs(request.query.unwrap_or_default());
            (routes::tags(&store, name, &params), None)
        }
        Route::InvalidName { name } => {
            let detail = serde_json::json!({ "name": name });
            let reply = Reply::error(400, "NAME_INVALID", "invalid repository name", Some(detail));
            (reply, None)
        }
        Route::Token | Route::Storage { .. } | Route::Unknown => {
            (Reply::new(404, "text/plain", "404 page not found\n"), None)
        }
    }
}

fn unsupported() -> Reply {
    Reply::error(405, "UNSUPPORTED", "The operation is unsupported.", None)
}

fn token(shared: &Shared, request: &Request<'_>) -> Reply {
    let Auth::Bearer(bearer) = &shared.auth else {
        return Reply::new(404, "text/plain", "404 page not found\n");
    };
    let pairs = match request.method {
        "GET" => routes::query_pairs(request.query.unwrap_or_default()),
        "POST" => match std::str::from_utf8(request.body) {
            Ok(form) => routes::query_pairs(form),
            Err(_) => return Reply::new(400, "text/plain", "the form is not UTF-8\n"),
        },
        _ => return unsupported(),
    };
    let ask = if request.method == "POST" {
        auth::Ask::Post { form: &pairs }
    } else {
        auth::Ask::Get {
            params: &pairs,
            authorization: request.authorization,
        }
    };
    let (status, body, record) = {
        let mut tokens = lock(&shared.tokens);
        auth::issue(bearer, &mut tokens, &ask)
    };
    lock(&shared.token_log).push(record);
    let mut reply = Reply::new(status, "application/json", body);
    if status == 401 {
        reply = reply.header(
            "www-authenticate",
            format!("Basic realm=\"{}\"", auth::SERVICE),
        );
    }
    reply
}

fn apply_response_faults(
    shared: &Shared,
    request: &Request<'_>,
    route: &Route,
    mut reply: Reply,
    head: bool,
) -> Response<ResponseBody> {
    let mut body_faults = BodyFaults::default();
    if reply.is_success() {
        let mut faults = lock(&shared.faults);
        let body_len = reply.body.len() as u64;
        let mut redirected = false;
        for state in faults.iter_mut() {
            if !state.available()
                || !state
                    .rule
                    .matches(request.method, request.kind, request.listener, request.path)
            {
                continue;
            }
            let applies = match &state.rule.fault {
                Fault::Status { .. } => false,
                Fault::RedirectBlobs => {
                    !redirected
                        && request.listener == Listener::Registry
                        && matches!(route, Route::Blob { .. })
                }
                Fault::WrongDigestHeader => reply.get_header("docker-content-digest").is_some(),
                Fault::DropAfter { bytes } => {
                    !head && *bytes < body_len && body_faults.drop_after.is_none()
                }
                Fault::Corrupt { offset } => !head && *offset < body_len,
                Fault::Slow { .. } => !head && body_len > 0 && body_faults.slow.is_none(),
            };
            if !applies {
                continue;
            }
            state.hits += 1;
            match &state.rule.fault {
                Fault::RedirectBlobs => {
                    if let Route::Blob { name, digest } = route {
                        let location =
                            format!("{}/storage/{name}/blobs/{digest}", shared.redirect_base);
                        reply = Reply::new(307, "text/plain", "").header("location", location);
                        redirected = true;
                    }
                }
                Fault::WrongDigestHeader => {
                    let wrong = Digest::from_bytes(b"testkit: not the digest of this content");
                    reply.set_header("docker-content-digest", wrong.to_string());
                }
                Fault::DropAfter { bytes } => body_faults.drop_after = Some(*bytes),
                Fault::Corrupt { offset } => body_faults.corrupt.push(*offset),
                Fault::Slow { chunk, delay } => body_faults.slow = Some((*chunk, *delay)),
                Fault::Status { .. } => {}
            }
            if redirected {
                body_faults = BodyFaults::default();
                break;
            }
        }
    }
    encode(reply, head, body_faults)
}

fn encode(reply: Reply, head: bool, faults: BodyFaults) -> Response<ResponseBody> {
    let length = reply.body.len();
    let mut body = if head {
        ResponseBody::empty()
    } else {
        ResponseBody::new(reply.body)
    };
    for offset in faults.corrupt {
        body.corrupt(offset);
    }
    if let Some(bytes) = faults.drop_after {
        body.drop_after(bytes);
    }
    if let Some((chunk, delay)) = faults.slow {
        body.slow(chunk, delay);
    }
    debug_assert!(head || body.len() == length);
    let mut response = Response::new(body);
    *response.status_mut() =
        http::StatusCode::from_u16(reply.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    response
}
