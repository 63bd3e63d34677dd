//! `imgsvc login` and `logout`: registry credentials in the Docker client config, checked
//! against the registry first.

use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::sync::Arc;

use base64::Engine as _;
use imgsvc::registry_transport::auth::{Authorizer, TokenHandler, TokenOptions};
use imgsvc::registry_transport::credentials::server_key;
use imgsvc::registry_transport::endpoint::INDEX_SERVER;
use imgsvc::registry_transport::{
    ChallengeManager, Client, Credentials, HeaderModifier, RegistryConfig, Request, Transport, ping,
};
use serde_json::{Value, json};

use crate::Result;
use crate::docker_config;
use crate::unauthorized::{Unauthorized, is_unauthorized};

/// `login [OPTIONS] [SERVER]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Username.
    #[arg(short, long)]
    username: Option<String>,
    /// Password (visible to other users of this machine: prefer --password-stdin).
    #[arg(short, long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Take the password from stdin.
    #[arg(long)]
    password_stdin: bool,
    /// The registry (default: Docker Hub).
    server: Option<String>,
}

/// `logout [SERVER]`.
#[derive(Debug, clap::Args)]
pub(crate) struct LogoutArgs {
    /// The registry (default: Docker Hub).
    server: Option<String>,
}

/// What `login` cannot do without more input.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoginError {
    /// No user name given and no terminal to ask on.
    #[error("Must provide --username with --password-stdin, or -u in non-interactive use")]
    NoUsername,
    /// No password given: this tool does not read passwords from a terminal.
    #[error("no password: give it with --password-stdin (or -p)")]
    NoPassword,
    /// An empty user name or password.
    #[error("the user name and the password must not be empty")]
    Empty,
    /// No endpoint of the registry answered.
    #[error("{host}: no endpoint answered like a registry")]
    NoEndpoint {
        /// The registry.
        host: String,
    },
}

/// Runs `login`.
pub(crate) fn run(args: Args) -> Result<()> {
    let server = args.server.as_deref().unwrap_or(INDEX_SERVER);
    let key = server_key(server);
    let username = match args.username {
        Some(user) => user,
        None if !args.password_stdin && std::io::stdin().is_terminal() => prompt("Username: ")?,
        None => return Err(LoginError::NoUsername.into()),
    };
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text.trim_end_matches(['\n', '\r']).to_owned()
    } else if let Some(password) = args.password {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        password
    } else {
        return Err(LoginError::NoPassword.into());
    };
    if username.is_empty() || password.is_empty() {
        return Err(LoginError::Empty.into());
    }
    let credentials = Credentials::basic(&username, &password);
    let host = if key == INDEX_SERVER {
        "docker.io"
    } else {
        key.as_str()
    };
    crate::runtime()?.block_on(verify(host, &credentials))?;
    store(&key, &username, &password)?;
    crate::output::print("Login Succeeded\n")
}

/// Runs `logout`.
pub(crate) fn logout(args: LogoutArgs) -> Result<()> {
    let server = args.server.as_deref().unwrap_or(INDEX_SERVER);
    let key = server_key(server);
    let path = docker_config::path()?;
    let mut config = docker_config::load(&path)?;
    let mut auths = docker_config::take_auths(&mut config);
    let stored: Vec<String> = auths
        .keys()
        .filter(|k| server_key(k) == key)
        .cloned()
        .collect();
    let helper = docker_config::helper_for(&config, &key);
    if stored.is_empty() && helper.is_none() {
        return crate::output::print(&format!("Not logged in to {server}\n"));
    }
    crate::output::print(&format!("Removing login credentials for {key}\n"))?;
    if let Some(helper) = helper
        && let Err(err) = docker_config::run_helper(&helper, "erase", key.as_bytes())
    {
        // As Docker: the file entry still goes.
        eprintln!("WARNING: could not erase credentials: {err}");
    }
    for k in &stored {
        auths.remove(k);
    }
    config.insert("auths".to_owned(), Value::Object(auths));
    docker_config::save(&path, &config)?;
    Ok(())
}

/// Keeps the credentials: through the helper the config names for `key`, or inline.
fn store(key: &str, username: &str, password: &str) -> Result<()> {
    let path = docker_config::path()?;
    let mut config = docker_config::load(&path)?;
    let mut auths = docker_config::take_auths(&mut config);
    let entry = match docker_config::helper_for(&config, key) {
        Some(helper) => {
            let input = json!({"ServerURL": key, "Username": username, "Secret": password});
            docker_config::run_helper(&helper, "store", input.to_string().as_bytes())?;
            // The file only records that a login exists, as Docker's does.
            json!({})
        }
        None => {
            let auth =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            json!({ "auth": auth })
        }
    };
    auths.retain(|k, _| server_key(k) != key);
    auths.insert(key.to_owned(), entry);
    config.insert("auths".to_owned(), Value::Object(auths));
    docker_config::save(&path, &config)?;
    Ok(())
}

/// Checks `credentials` against the registry `host` as `docker login` does: a ping, then
/// `GET /v2/` answered with the credentials (a token request for registries that ask for
/// bearer tokens).
async fn verify(host: &str, credentials: &Credentials) -> Result<()> {
    let client = Client::new()?;
    let endpoints = RegistryConfig::default().pull_endpoints(host)?;
    let mut last = None;
    for endpoint in endpoints.into_iter().filter(|e| !e.mirror) {
        let base =
            Transport::for_endpoint(&client, &endpoint).with_modifier(HeaderModifier::user_agent());
        let challenges = Arc::new(ChallengeManager::default());
        match ping::ping(&base, &endpoint.url, &challenges).await {
            Ok(_) => {}
            Err(err) if err.is_fallback() => {
                last = Some(err);
                continue;
            }
            Err(err) => return Err(err.into()),
        }
        let tokens = Arc::new(TokenHandler::new(&base, TokenOptions::default()));
        let authorizer = Authorizer::new(challenges, tokens, credentials.clone(), Vec::new());
        let transport = base.with_authorizer(authorizer);
        let url = ping::ping_url(&endpoint.url)?;
        let answer = match transport.send(Request::get(url)).await {
            Ok(response) => response.error_for_status().await,
            Err(err) => Err(err),
        };
        return match answer {
            Ok(_) => Ok(()),
            Err(err) if is_unauthorized(&err) => Err(Unauthorized {
                host: host.to_owned(),
                error: err.into(),
            }
            .into()),
            Err(err) => Err(err.into()),
        };
    }
    Err(match last {
        Some(err) => err.into(),
        None => LoginError::NoEndpoint {
            host: host.to_owned(),
        }
        .into(),
    })
}

/// Asks on the terminal for a line.
fn prompt(question: &str) -> Result<String> {
    let mut out = std::io::stdout().lock();
    out.write_all(question.as_bytes())?;
    out.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}
