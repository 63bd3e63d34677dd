//! Sending requests: a [`Transport`] applies its modifiers (headers, then the authorizer) to
//! every request over the shared [`Client`], answers a 401 by authorizing again and retrying
//! once, and hands back a [`Response`] whose body can be streamed.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};
use url::Url;

use crate::auth::Authorizer;
use crate::client::Client;
use crate::endpoint::{Endpoint, Tls};
use crate::envelope::{ErrorResponse, MAX_ERROR_BODY};
use crate::error::{Error, http_error, redact_url};
use crate::modifier::RequestModifier;

/// A request to send: method, URL, headers, and an optional in-memory body (kept so the
/// request can be replayed after a 401).
///
/// ```
/// use imgsvc_registry_transport::Request;
/// use http::header::{ACCEPT, HeaderValue};
///
/// let request = Request::get("https://registry.example/v2/library/alpine/manifests/latest".parse()?)
///     .header(ACCEPT, HeaderValue::from_static("application/vnd.oci.image.index.v1+json"));
/// assert_eq!(request.method(), http::Method::GET);
/// assert_eq!(request.headers().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    timeout: Option<Duration>,
}

/// Construction
impl Request {
    /// A request of `method` for `url`.
    pub fn new(method: Method, url: Url) -> Request {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            timeout: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: Url) -> Request {
        Request::new(Method::GET, url)
    }

    /// A `HEAD` request.
    pub fn head(url: Url) -> Request {
        Request::new(Method::HEAD, url)
    }

    /// The same request with `name: value` appended.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Request {
        self.headers.append(name, value);
        self
    }

    /// The same request with `body`.
    pub fn body(mut self, body: impl Into<Bytes>) -> Request {
        self.body = Some(body.into());
        self
    }

    /// The same request with a limit on its whole duration, body included (the client's
    /// stall timeout applies either way).
    pub fn timeout(mut self, timeout: Duration) -> Request {
        self.timeout = Some(timeout);
        self
    }
}

/// Access
impl Request {
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The headers set on the request itself (modifiers add theirs when it is sent).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// A response whose body has not been read yet: read it in chunks ([`Response::chunk`]) to
/// stream a blob, or whole up to a cap ([`Response::bytes_limited`]) for small documents.
#[derive(Debug)]
pub struct Response {
    inner: reqwest::Response,
}

/// Access
impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The URL the answer came from, after redirects.
    pub fn url(&self) -> &Url {
        self.inner.url()
    }

    /// The body's length, when the server said it.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }
}

/// Reading the body
impl Response {
    /// The next piece of the body, `None` at its end. A body that stalls longer than the
    /// client's read timeout fails with [`HttpErrorKind::Timeout`](crate::HttpErrorKind).
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let url = self.inner.url().clone();
        self.inner
            .chunk()
            .await
            .map_err(|err| http_error(err, &url))
    }

    /// The whole body, refused with [`Error::TooLarge`] past `limit` bytes (checked against
    /// `Content-Length` first, then while reading).
    pub async fn bytes_limited(mut self, limit: usize) -> Result<Bytes, Error> {
        let too_large = |url: &Url| Error::TooLarge {
            url: redact_url(url),
            limit,
        };
        if self.content_length().is_some_and(|len| len > limit as u64) {
            return Err(too_large(self.url()));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            if body.len() + chunk.len() > limit {
                return Err(too_large(self.url()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// The answer as an error: its envelope (the first [`MAX_ERROR_BODY`] bytes of the body
    /// are read), status and `Retry-After`.
    pub async fn into_error(mut self) -> Error {
        let status = self.status().as_u16();
        let retry_after = self
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match self.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        Error::Registry(ErrorResponse::parse(status, &body, retry_after.as_deref()))
    }

    /// The response itself when its status is a success (2xx), else [`Response::into_error`].
    pub async fn error_for_status(self) -> Result<Response, Error> {
        if self.status().is_success() {
            Ok(self)
        } else {
            Err(self.into_error().await)
        }
    }
}

/// Sends requests to one endpoint: applies the modifiers in order (the authorizer last) over
/// the shared client with that endpoint's TLS treatment.
///
/// Cheap to clone. Redirects are followed by the client; modifiers run once, before the
/// first hop, and `Authorization` is dropped on a redirect to another host.
///
/// ```
/// use imgsvc_registry_transport::endpoint::RegistryConfig;
/// use imgsvc_registry_transport::{Client, HeaderModifier, Transport};
///
/// let client = Client::new()?;
/// let endpoints = RegistryConfig::default().pull_endpoints("docker.io")?;
/// let transport = Transport::for_endpoint(&client, &endpoints[0])
///     .with_modifier(HeaderModifier::user_agent());
/// assert!(transport.authorizer().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Transport {
    client: Client,
    tls: Tls,
    modifiers: Vec<Arc<dyn RequestModifier>>,
    authorizer: Option<Arc<Authorizer>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("tls", &self.tls)
            .field("modifiers", &self.modifiers.len())
            .field("authorizer", &self.authorizer.is_some())
            .finish()
    }
}

/// Construction
impl Transport {
    /// A transport over `client` with TLS treated as `tls`, without modifiers.
    pub fn new(client: &Client, tls: Tls) -> Transport {
        Transport {
            client: client.clone(),
            tls,
            modifiers: Vec::new(),
            authorizer: None,
        }
    }

    /// A transport for `endpoint` (its TLS treatment).
    pub fn for_endpoint(client: &Client, endpoint: &Endpoint) -> Transport {
        Transport::new(client, endpoint.tls)
    }

    /// The same transport also applying `modifier`, after the ones it has and before the
    /// authorizer.
    pub fn with_modifier(mut self, modifier: impl RequestModifier + 'static) -> Transport {
        self.modifiers.push(Arc::new(modifier));
        self
    }

    /// The same transport authorizing every request with `authorizer`, which also answers a
    /// 401 (one retry per request).
    pub fn with_authorizer(mut self, authorizer: Authorizer) -> Transport {
        self.authorizer = Some(Arc::new(authorizer));
        self
    }

    /// The same transport without its authorizer (for pings and token requests).
    pub fn without_authorizer(&self) -> Transport {
        Transport {
            authorizer: None,
            ..self.clone()
        }
    }
}

/// Access
impl Transport {
    /// The TLS treatment.
    pub fn tls(&self) -> Tls {
        self.tls
    }

    /// The authorizer, if any.
    pub fn authorizer(&self) -> Option<&Authorizer> {
        self.authorizer.as_deref()
    }
}

/// Sending
impl Transport {
    /// Sends `request` and returns the answer whatever its status. A 401 is answered once:
    /// the authorizer records the challenges of the answer, drops the token it used, and the
    /// request is sent again; a second 401 is returned as it is.
    pub async fn send(&self, request: Request) -> Result<Response, Error> {
        let response = self.send_once(&request).await?;
        if response.status() == StatusCode::UNAUTHORIZED
            && let Some(authorizer) = &self.authorizer
            && authorizer
                .handle_unauthorized(request.url(), response.headers())
                .await
        {
            return self.send_once(&request).await;
        }
        Ok(response)
    }

    /// The request as the modifiers leave it, without sending it (what [`Transport::send`]
    /// would put on the wire, apart from the body).
    pub async fn prepare(&self, request: &Request) -> Result<http::Request<()>, Error> {
        let mut head = http::Request::builder()
            .method(request.method.clone())
            .uri(request.url.as_str())
            .body(())
            .map_err(|err| Error::InvalidUrl {
                url: redact_url(&request.url),
                reason: err.to_string(),
            })?;
        *head.headers_mut() = request.headers.clone();
        for modifier in &self.modifiers {
            modifier.modify(&mut head).await?;
        }
        if let Some(authorizer) = &self.authorizer {
            authorizer.modify(&mut head).await?;
        }
        Ok(head)
    }

    async fn send_once(&self, request: &Request) -> Result<Response, Error> {
        let head = self.prepare(request).await?;
        let url = Url::parse(&head.uri().to_string()).map_err(|err| Error::InvalidUrl {
            url: redact_url(&request.url),
            reason: err.to_string(),
        })?;
        let (parts, ()) = head.into_parts();
        let mut builder = self
            .client
            .for_tls(self.tls)?
            .request(parts.method, url.clone())
            .headers(parts.headers);
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        if let Some(timeout) = request.timeout {
            builder = builder.timeout(timeout);
        }
        let inner = builder.send().await.map_err(|err| http_error(err, &url))?;
        Ok(Response { inner })
    }
}
