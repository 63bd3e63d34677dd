//! The whole authorised flow against a small loopback server: ping, 401 with a Bearer
//! challenge, one token request, the retried request, token reuse; and a blob redirected to
//! another host, which must arrive there without the `Authorization` header.
#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use imgsvc_registry_transport::auth::{Authorizer, Scope, TokenHandler, TokenOptions};
use imgsvc_registry_transport::credentials::Credentials;
use imgsvc_registry_transport::endpoint::Tls;
use imgsvc_registry_transport::{ChallengeManager, Client, Request, Transport, ping};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One parsed request: its target and headers (lowercased names).
struct Seen {
    target: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Serves HTTP/1.1 on 127.0.0.1 (one request per connection), answering with `answer`.
async fn serve(
    answer: impl Fn(&Seen) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync + 'static,
) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let port = listener.local_addr().expect("an address").port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen_log = Arc::clone(&log);
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let log = Arc::clone(&seen_log);
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                let mut first = String::new();
                if lines.read_line(&mut first).await.is_err() {
                    return;
                }
                let target = first.split(' ').nth(1).unwrap_or("").to_owned();
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        break;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                    }
                }
                let seen = Seen { target, headers };
                let (status, extra, body) = answer(&seen);
                log.lock().expect("the log").push(seen);
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (name, value) in extra {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = write.write_all(head.as_bytes()).await;
                let _ = write.write_all(&body).await;
                let _ = write.shutdown().await;
            });
        }
    });
    (port, log)
}

/// The body of a successful GET of `path` on `endpoint`.
async fn get(transport: &Transport, endpoint: &url::Url, path: &str) -> Vec<u8> {
    let url = endpoint.join(path).expect("a URL");
    let response = transport
        .send(Request::get(url))
        .await
        .expect("sent")
        .error_for_status()
        .await
        .expect("a success");
    response
        .bytes_limited(1024)
        .await
        .expect("the body")
        .to_vec()
}

#[tokio::test]
async fn ping_challenge_token_retry_and_a_redirect_without_authorization() {
    // The storage host: records whatever arrives.
    let (storage_port, storage_log) = serve(|_| (200, vec![], b"blob bytes".to_vec())).await;

    let tokens_issued = Arc::new(AtomicUsize::new(0));
    let issued = Arc::clone(&tokens_issued);
    let realm_port = Arc::new(AtomicUsize::new(0));
    let realm = Arc::clone(&realm_port);
    let (port, log) = serve(move |seen| {
        let port = realm.load(Ordering::SeqCst);
        let challenge = (
            "www-authenticate".to_owned(),
            format!(
                r#"Bearer realm="http://127.0.0.1:{port}/token",service="test",scope="repository:lib/app:pull""#
            ),
        );
        let authorized = seen.header("authorization") == Some("Bearer tok-1");
        if seen.target.starts_with("/token?") {
            issued.fetch_add(1, Ordering::SeqCst);
            return (200, vec![], br#"{"token":"tok-1","expires_in":300}"#.to_vec());
        }
        if !authorized {
            let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
            return (401, vec![challenge], body.to_vec());
        }
        match seen.target.as_str() {
            "/v2/" => (200, vec![], b"{}".to_vec()),
            "/v2/lib/app/manifests/latest" => (200, vec![], b"manifest".to_vec()),
            "/v2/lib/app/blobs/sha256:abc" => (
                307,
                vec![(
                    "location".to_owned(),
                    format!("http://localhost:{storage_port}/storage/abc"),
                )],
                Vec::new(),
            ),
            _ => (404, vec![], Vec::new()),
        }
    })
    .await;
    realm_port.store(usize::from(port), Ordering::SeqCst);

    let client = Client::new().expect("a client");
    let base = Transport::new(&client, Tls::Plain);
    let endpoint: url::Url = format!("http://127.0.0.1:{port}").parse().expect("a URL");
    let challenges = Arc::new(ChallengeManager::default());
    let outcome = ping::ping(&base, &endpoint, &challenges)
        .await
        .expect("a registry answers the ping");
    assert_eq!(outcome.status, 401);
    assert_eq!(outcome.challenges[0].scheme(), "bearer");

    let tokens = Arc::new(TokenHandler::new(&base, TokenOptions::default()));
    let transport = base.with_authorizer(Authorizer::new(
        challenges,
        tokens,
        Credentials::anonymous(),
        vec![Scope::pull("lib/app")],
    ));
    for _ in 0..3 {
        let body = get(&transport, &endpoint, "/v2/lib/app/manifests/latest").await;
        assert_eq!(&body[..], b"manifest");
    }
    assert_eq!(
        tokens_issued.load(Ordering::SeqCst),
        1,
        "one token for the scope"
    );
    {
        let log = log.lock().expect("the log");
        let token_request = log
            .iter()
            .find(|s| s.target.starts_with("/token?"))
            .expect("a token request");
        assert!(
            token_request
                .target
                .contains("scope=repository%3Alib%2Fapp%3Apull"),
            "{}",
            token_request.target
        );
        assert!(token_request.target.contains("service=test"));
    }

    // The blob is redirected to another host: it gets there, without our token.
    let body = get(&transport, &endpoint, "/v2/lib/app/blobs/sha256:abc").await;
    assert_eq!(&body[..], b"blob bytes");
    let storage = storage_log.lock().expect("the log");
    assert_eq!(storage.len(), 1);
    assert_eq!(storage[0].target, "/storage/abc");
    assert_eq!(storage[0].header("authorization"), None);
}
