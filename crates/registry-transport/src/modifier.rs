//! Request modifiers: what is done to every outgoing request before it is sent (headers,
//! authorization). They work on a plain [`http::Request<()>`] and may be async.

use std::future::Future;
use std::pin::Pin;

use http::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};

use crate::error::Error;

/// A boxed, sendable future, as the object-safe [`RequestModifier`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Changes an outgoing request before it is sent. The first error aborts the request.
///
/// The request has no body: modifiers see the method, URL and headers only. Implementations
/// must never log or put into an error the header values they add.
///
/// ```
/// use imgsvc_registry_transport::modifier::{BoxFuture, RequestModifier};
/// use imgsvc_registry_transport::Error;
///
/// struct Trace;
/// impl RequestModifier for Trace {
///     fn modify<'a>(&'a self, request: &'a mut http::Request<()>) -> BoxFuture<'a, Result<(), Error>> {
///         Box::pin(async move {
///             request.headers_mut().insert("x-trace", http::HeaderValue::from_static("1"));
///             Ok(())
///         })
///     }
/// }
/// # let _ = Trace;
/// ```
pub trait RequestModifier: Send + Sync {
    /// Modifies `request` in place.
    fn modify<'a>(&'a self, request: &'a mut http::Request<()>)
    -> BoxFuture<'a, Result<(), Error>>;
}

/// Adds fixed headers to every request. Values are **appended** to any the request already
/// has, as Docker's header modifier does.
///
/// ```
/// use http::header::{HeaderMap, HeaderValue};
/// use imgsvc_registry_transport::modifier::HeaderModifier;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-meta-source", HeaderValue::from_static("ci"));
/// let modifier = HeaderModifier::new(headers);
///
/// let mut request = http::Request::get("https://registry.example/v2/").body(())?;
/// request.headers_mut().insert("x-meta-source", HeaderValue::from_static("user"));
/// modifier.apply(&mut request);
/// let values: Vec<_> = request.headers().get_all("x-meta-source").iter().collect();
/// assert_eq!(values, ["user", "ci"]);
///
/// let ua = HeaderModifier::user_agent();
/// assert!(ua.headers()["user-agent"].to_str()?.starts_with("imgsvc/"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct HeaderModifier {
    headers: HeaderMap,
}

/// Construction
impl HeaderModifier {
    /// A modifier adding `headers`.
    pub fn new(headers: HeaderMap) -> HeaderModifier {
        HeaderModifier { headers }
    }

    /// A modifier adding imgsvc's `User-Agent` (see [`user_agent`]).
    pub fn user_agent() -> HeaderModifier {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&user_agent()) {
            headers.insert(USER_AGENT, value);
        }
        HeaderModifier { headers }
    }

    /// The same modifier also adding `name: value`.
    pub fn with(mut self, name: HeaderName, value: HeaderValue) -> HeaderModifier {
        self.headers.append(name, value);
        self
    }
}

/// Access
impl HeaderModifier {
    /// The headers added.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Appends the headers to `request` (the synchronous core of [`RequestModifier::modify`]).
    pub fn apply(&self, request: &mut http::Request<()>) {
        for (name, value) in &self.headers {
            request.headers_mut().append(name.clone(), value.clone());
        }
    }
}

impl RequestModifier for HeaderModifier {
    fn modify<'a>(
        &'a self,
        request: &'a mut http::Request<()>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.apply(request);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// imgsvc's `User-Agent`: `imgsvc/<version> os/<os> arch/<arch>`, in the shape of Docker's
/// `docker/<version> … os/<os> arch/<arch>`.
///
/// ```
/// let ua = imgsvc_registry_transport::modifier::user_agent();
/// assert!(ua.starts_with(concat!("imgsvc/", env!("CARGO_PKG_VERSION"), " os/")));
/// assert!(ua.contains(" arch/"));
/// ```
pub fn user_agent() -> String {
    format!(
        "imgsvc/{} os/{} arch/{}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_modifier_appends_and_keeps_order() {
        let modifier = HeaderModifier::default()
            .with(
                HeaderName::from_static("x-a"),
                HeaderValue::from_static("1"),
            )
            .with(
                HeaderName::from_static("x-a"),
                HeaderValue::from_static("2"),
            );
        let mut request = http::Request::get("http://h/v2/")
            .body(())
            .expect("a valid request");
        request
            .headers_mut()
            .insert("x-a", HeaderValue::from_static("0"));
        modifier.apply(&mut request);
        let values: Vec<_> = request.headers().get_all("x-a").iter().collect();
        assert_eq!(values, ["0", "1", "2"]);
    }

    #[test]
    fn user_agent_is_a_valid_header_value() {
        let modifier = HeaderModifier::user_agent();
        assert_eq!(
            modifier
                .headers()
                .get(USER_AGENT)
                .map(HeaderValue::as_bytes),
            Some(user_agent().as_bytes())
        );
    }
}
