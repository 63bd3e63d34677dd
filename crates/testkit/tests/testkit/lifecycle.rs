//! Starting and stopping, from sync and async code.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use imgsvc_testkit::{Error, RegistryConfig, TestRegistry, rawhttp};

/// Polls until connecting to `addr` fails, or panics after a deadline.
fn wait_until_closed(addr: std::net::SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "{addr} still accepts connections"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn dropping_a_blocking_registry_closes_both_listeners() {
    let registry = TestRegistry::start_blocking(RegistryConfig::new()).expect("loopback");
    let (addr, redirect) = (registry.addr(), registry.redirect_addr());
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    assert_eq!(registry.url(), format!("http://127.0.0.1:{}", addr.port()));
    assert_eq!(registry.host(), format!("127.0.0.1:{}", addr.port()));
    assert_eq!(
        rawhttp::get(&format!("{}/v2/", registry.url()))
            .expect("served")
            .status,
        200
    );
    drop(registry);
    wait_until_closed(addr);
    wait_until_closed(redirect);
}

#[test]
fn two_registries_run_side_by_side() {
    let a = TestRegistry::start_blocking(RegistryConfig::new()).expect("loopback");
    let b = TestRegistry::start_blocking(RegistryConfig::new()).expect("loopback");
    assert_ne!(a.addr(), b.addr());
    rawhttp::get(&format!("{}/v2/", a.url())).expect("served");
    assert_eq!((a.requests().len(), b.requests().len()), (1, 0));
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let result = std::thread::spawn(|| {
        let future = TestRegistry::start(RegistryConfig::new());
        // Poll once without tokio: a minimal executor.
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(result) => result.map(drop),
            std::task::Poll::Pending => panic!("start does not wait for anything"),
        }
    })
    .join()
    .expect("no panic");
    assert!(matches!(result, Err(Error::NoRuntime)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_start_and_stop() {
    let registry = TestRegistry::start(RegistryConfig::new())
        .await
        .expect("loopback");
    let url = format!("{}/v2/", registry.url());
    let status = tokio::task::spawn_blocking(move || rawhttp::get(&url).map(|r| r.status))
        .await
        .expect("the client thread ends")
        .expect("served");
    assert_eq!(status, 200);
    let addr = registry.addr();
    registry.stop().await;
    // After `stop` returns the listener is closed: no polling needed.
    assert!(TcpStream::connect(addr).is_err());
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_registry_can_be_dropped_inside_async_code() {
    let registry = TestRegistry::start_blocking(RegistryConfig::new()).expect("loopback");
    let addr = registry.addr();
    drop(registry);
    tokio::task::spawn_blocking(move || wait_until_closed(addr))
        .await
        .expect("closed");
}
