//! The shared HTTP client: one connection pool for every registry, rustls with the `ring`
//! provider, HTTP/2 where the server offers it, and timeouts for connecting and for a stalled
//! body.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::endpoint::Tls;
use crate::error::Error;

/// How the shared client connects.
///
/// ```
/// use std::time::Duration;
/// use imgsvc_registry_transport::client::ClientOptions;
///
/// let options = ClientOptions::default();
/// assert_eq!(options.connect_timeout, Duration::from_secs(30));
/// assert_eq!(options.max_redirects, 10);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// How long to wait for a TCP connection and TLS handshake (Docker dials with 30 s).
    pub connect_timeout: Duration,
    /// How long a response may stall: no header or no body byte for this long fails the
    /// request, however long the whole transfer takes.
    pub read_timeout: Duration,
    /// How many redirects to follow (blob downloads usually take one, to storage).
    pub max_redirects: usize,
    /// How long an idle connection stays in the pool for reuse.
    pub pool_idle_timeout: Duration,
    /// Whether `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are honoured, as Docker does.
    pub proxy_from_env: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            max_redirects: 10,
            pool_idle_timeout: Duration::from_secs(90),
            proxy_from_env: true,
        }
    }
}

/// The HTTP client every [`Transport`](crate::Transport) shares. Cheap to clone: clones
/// share one connection pool.
///
/// Redirects are followed up to [`ClientOptions::max_redirects`]; a redirect to another
/// host, port or scheme drops `Authorization` (and cookies), so a registry's credentials
/// never reach the storage a blob is redirected to.
///
/// ```
/// let client = imgsvc_registry_transport::Client::new()?;
/// let _same_pool = client.clone();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    options: ClientOptions,
    verified: reqwest::Client,
    /// Built on first use: most processes never talk to an insecure registry.
    unverified: OnceLock<Result<reqwest::Client, String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

/// Construction
impl Client {
    /// A client with the default options and the system's root certificates.
    pub fn new() -> Result<Client, Error> {
        Client::with_options(ClientOptions::default())
    }

    /// A client with `options`.
    pub fn with_options(options: ClientOptions) -> Result<Client, Error> {
        let verified = build(&options, false).map_err(|reason| Error::ClientBuild { reason })?;
        Ok(Client {
            inner: Arc::new(Inner {
                options,
                verified,
                unverified: OnceLock::new(),
            }),
        })
    }
}

/// Access
impl Client {
    /// The options the client was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The reqwest client for an endpoint's TLS treatment.
    pub(crate) fn for_tls(&self, tls: Tls) -> Result<&reqwest::Client, Error> {
        match tls {
            Tls::Verified | Tls::Plain => Ok(&self.inner.verified),
            Tls::Unverified => self
                .inner
                .unverified
                .get_or_init(|| build(&self.inner.options, true))
                .as_ref()
                .map_err(|reason| Error::ClientBuild {
                    reason: reason.clone(),
                }),
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build(options: &ClientOptions, unverified: bool) -> Result<reqwest::Client, String> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|err| err.to_string())?
        .dangerous();
    let mut tls = if unverified {
        builder.with_custom_certificate_verifier(Arc::new(NoCertificateVerification { provider }))
    } else {
        let verifier =
            rustls_platform_verifier::Verifier::new(provider).map_err(|err| err.to_string())?;
        builder.with_custom_certificate_verifier(Arc::new(verifier))
    }
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut builder = reqwest::Client::builder();
    if !options.proxy_from_env {
        builder = builder.no_proxy();
    }
    builder
        .tls_backend_preconfigured(tls)
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .pool_idle_timeout(options.pool_idle_timeout)
        .redirect(reqwest::redirect::Policy::limited(options.max_redirects))
        .build()
        .map_err(|err| err.to_string())
}

/// Accepts any certificate, as Docker's `InsecureSkipVerify` does for insecure registries.
/// The handshake signatures are still checked against the certificate presented, so the
/// connection is at least bound to that key.
#[derive(Debug)]
struct NoCertificateVerification {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NoCertificateVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tls_treatments_build_and_plain_shares_the_verified_client() {
        let client = Client::new().expect("the client builds with the ring provider");
        let verified = client.for_tls(Tls::Verified).expect("verified client");
        let plain = client.for_tls(Tls::Plain).expect("plain client");
        assert!(std::ptr::eq(verified, plain));
        let unverified = client.for_tls(Tls::Unverified).expect("unverified client");
        assert!(!std::ptr::eq(verified, unverified));
    }
}
