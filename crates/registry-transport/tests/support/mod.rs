//! Shared by the integration tests: an authorised transport for one repository, and reading
//! bodies through it.
#![allow(dead_code, reason = "each test binary uses a part")]

use std::sync::Arc;

use imgsvc_registry_transport::auth::{Authorizer, Scope, TokenHandler, TokenOptions};
use imgsvc_registry_transport::endpoint::Tls;
use imgsvc_registry_transport::url::Url;
use imgsvc_registry_transport::{
    ChallengeManager, Client, Credentials, Error, Request, Transport, ping,
};

/// A plain-HTTP registry on loopback, pinged, with an authorised transport for `scopes`.
pub(crate) struct Session {
    pub(crate) endpoint: Url,
    pub(crate) base: Transport,
    pub(crate) challenges: Arc<ChallengeManager>,
    pub(crate) tokens: Arc<TokenHandler>,
    pub(crate) transport: Transport,
}

impl Session {
    /// [`Session::open_with`] a default client and token options.
    pub(crate) async fn open(
        endpoint: &str,
        credentials: Credentials,
        scopes: Vec<Scope>,
    ) -> Result<Session, Error> {
        let client = Client::new()?;
        Session::open_with(
            &client,
            endpoint,
            credentials,
            scopes,
            TokenOptions::default(),
        )
        .await
    }

    /// Pings `endpoint` (any answer a registry gives) and builds the authorised transport.
    pub(crate) async fn open_with(
        client: &Client,
        endpoint: &str,
        credentials: Credentials,
        scopes: Vec<Scope>,
        options: TokenOptions,
    ) -> Result<Session, Error> {
        let base = Transport::new(client, Tls::Plain);
        let endpoint: Url = endpoint
            .parse()
            .map_err(|e: url::ParseError| Error::InvalidUrl {
                url: endpoint.to_owned(),
                reason: e.to_string(),
            })?;
        let challenges = Arc::new(ChallengeManager::default());
        ping::ping(&base, &endpoint, &challenges).await?;
        let tokens = Arc::new(TokenHandler::new(&base, options));
        let transport = base.clone().with_authorizer(Authorizer::new(
            Arc::clone(&challenges),
            Arc::clone(&tokens),
            credentials,
            scopes,
        ));
        Ok(Session {
            endpoint,
            base,
            challenges,
            tokens,
            transport,
        })
    }

    /// A second repository's transport sharing this session's challenges and tokens (as
    /// the pulls of one process do).
    pub(crate) fn for_scopes(&self, credentials: Credentials, scopes: Vec<Scope>) -> Transport {
        self.base.clone().with_authorizer(Authorizer::new(
            Arc::clone(&self.challenges),
            Arc::clone(&self.tokens),
            credentials,
            scopes,
        ))
    }

    /// `<endpoint>/v2/<path>`.
    pub(crate) fn url(&self, path: &str) -> Url {
        let mut url = self.endpoint.clone();
        url.set_path(&format!("/v2/{path}"));
        url
    }

    /// The body of a successful `GET /v2/<path>` (streamed, counted), or the error.
    pub(crate) async fn get(&self, path: &str) -> Result<Vec<u8>, Error> {
        get(&self.transport, self.url(path)).await
    }
}

/// The body of a successful GET, read chunk by chunk.
pub(crate) async fn get(transport: &Transport, url: Url) -> Result<Vec<u8>, Error> {
    let mut response = transport
        .send(Request::get(url))
        .await?
        .error_for_status()
        .await?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The registry's error answer of a failed request, or a panic naming what came instead.
pub(crate) fn answer(
    result: Result<Vec<u8>, Error>,
) -> imgsvc_registry_transport::envelope::ErrorResponse {
    match result {
        Err(Error::Registry(answer)) => answer,
        Err(Error::TokenRequest { answer, .. }) => answer,
        other => panic!("expected a registry error, got {other:?}"),
    }
}
