//! A tiny blocking HTTP/1.1 client over `std::net::TcpStream`, for doc examples and tests of
//! the registry itself (the real client is `imgsvc-registry-transport`).
//!
//! Each request uses its own connection with `Connection: close` and reads to the end, so a
//! body cut short by [`Fault::DropAfter`](crate::Fault::DropAfter) shows as
//! [`Response::is_complete`] being false rather than as an error. Only `http://host:port`
//! URLs and `Content-Length` bodies (what the test registry sends) are understood.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response: status, headers in order, and the body bytes received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes received.
    pub body: Vec<u8>,
}

/// Access
impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the body is as long as `Content-Length` says (true without the header).
    pub fn is_complete(&self) -> bool {
        self.header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .is_none_or(|len| len == self.body.len())
    }
}

/// A request being built.
///
/// ```
/// use imgsvc_testkit::{RegistryConfig, TestRegistry, rawhttp};
///
/// let registry = TestRegistry::start_blocking(RegistryConfig::new())?;
/// let response = rawhttp::Request::new("HEAD", &format!("{}/v2/", registry.url()))
///     .header("Authorization", "Basic eDp5")
///     .send()?;
/// assert_eq!(response.status, 200);
/// assert!(registry.requests()[0].authorization);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Building and sending
impl Request {
    /// A request with no extra headers.
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            method: method.to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Sends `body` with a `Content-Length` (for a `POST`).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Adds a header (several values of one name are sent as several lines).
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends the request and reads the response to the end of the connection (30 s timeout).
    pub fn send(&self) -> io::Result<Response> {
        let rest = self
            .url
            .strip_prefix("http://")
            .ok_or_else(|| invalid(format!("not an http:// URL: {}", self.url)))?;
        let (host, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let mut stream = TcpStream::connect(host)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut head = format!(
            "{} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
            self.method
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || self.method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(&self.body)?;
        let mut raw = Vec::new();
        // A connection closed mid-body is what a drop fault looks like: keep what arrived.
        match stream.read_to_end(&mut raw) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            Err(e) => return Err(e),
        }
        parse(&raw, self.method == "HEAD")
    }
}

/// `GET url`.
pub fn get(url: &str) -> io::Result<Response> {
    Request::new("GET", url).send()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn parse(raw: &[u8], head_only: bool) -> io::Result<Response> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers in the response".to_owned()))?;
    let (head, body) = raw.split_at(end);
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid(format!("bad status line in {head:?}")))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if head_only {
        Vec::new()
    } else {
        body.get(4..).unwrap_or_default().to_vec()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}
