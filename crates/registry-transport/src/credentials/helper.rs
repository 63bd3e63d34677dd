//! `docker-credential-<name> get`: Docker's credential helper protocol. The server URL goes
//! to the helper's stdin; it answers `{"ServerURL","Username","Secret"}` on stdout.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::Credentials;
use crate::error::Error;

/// The user name a helper answers with when the secret is an identity token.
const TOKEN_USERNAME: &str = "<token>";

/// What a helper prints when it holds nothing for the server.
const NOT_FOUND: &str = "credentials not found";

/// The most of a helper's message kept in an error.
const MAX_REASON: usize = 200;

/// Runs credential helpers found in a search path, with a time limit.
///
/// ```
/// use std::time::Duration;
/// use imgsvc_registry_transport::credentials::HelperRunner;
///
/// let runner = HelperRunner::new(Some("/usr/local/bin:/usr/bin".into()), Duration::from_secs(5));
/// assert_eq!(runner.timeout(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct HelperRunner {
    search_path: Option<OsString>,
    timeout: Duration,
}

impl Default for HelperRunner {
    /// The process's `PATH`, read now, and a 30 s limit.
    fn default() -> HelperRunner {
        HelperRunner::new(std::env::var_os("PATH"), Duration::from_secs(30))
    }
}

impl HelperRunner {
    /// A runner looking for helpers in `search_path` (a `PATH`-style list; none finds no
    /// helper) and killing a helper that takes longer than `timeout`.
    pub fn new(search_path: Option<OsString>, timeout: Duration) -> HelperRunner {
        HelperRunner {
            search_path,
            timeout,
        }
    }

    /// The time limit.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Where `docker-credential-<helper>` is, if anywhere in the search path.
    pub fn locate(&self, helper: &str) -> Option<PathBuf> {
        if !valid_name(helper) {
            return None;
        }
        let file = format!("docker-credential-{helper}");
        std::env::split_paths(self.search_path.as_ref()?)
            .map(|dir| dir.join(&file))
            .find(|path| is_executable(path))
    }

    /// Asks `helper` for the credentials of `server` (the key Docker stores them under, see
    /// [`server_key`](super::server_key)). `None` when the helper holds none.
    pub async fn get(&self, helper: &str, server: &str) -> Result<Option<Credentials>, Error> {
        let failed = |reason: String| Error::CredentialHelper {
            helper: helper.to_owned(),
            registry: server.to_owned(),
            reason,
        };
        let program = self.locate(helper).ok_or_else(|| {
            failed("not found in the search path (install it, or remove it from the config)".into())
        })?;
        let mut child = spawn(&program)
            .await
            .map_err(|err| failed(format!("cannot start it: {err}")))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| failed("no stdin".into()))?;
        let run = async move {
            // A helper that exits without reading its stdin is not an error here: its exit
            // status and output say what happened.
            let _ = stdin.write_all(server.as_bytes()).await;
            drop(stdin);
            child.wait_with_output().await
        };
        // On timeout the future is dropped, which drops the child and kills it.
        let output = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| {
                failed(format!(
                    "no answer within {} s; killed it",
                    self.timeout.as_secs()
                ))
            })?
            .map_err(|err| failed(format!("cannot read its answer: {err}")))?;
        if !output.status.success() {
            let stdout = String::from_utf8_lossy(&output.stdout);
            if stdout.contains(NOT_FOUND) {
                return Ok(None);
            }
            // Helpers write their error to stdout (and sometimes stderr); on failure it is a
            // message, not a credential.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let message = if stdout.trim().is_empty() {
                stderr
            } else {
                stdout
            };
            return Err(failed(format!(
                "exited with {}: {}",
                output.status,
                shorten(message.trim())
            )));
        }
        parse_helper_answer(&output.stdout)
            .map(Some)
            .map_err(failed)
    }
}

/// A helper's answer as credentials: `Username` `<token>` means the secret is an identity
/// token. The error never quotes the answer (it holds the secret).
///
/// ```
/// use imgsvc_registry_transport::credentials::parse_helper_answer;
///
/// let creds = parse_helper_answer(br#"{"ServerURL":"ghcr.io","Username":"alice","Secret":"pw"}"#)?;
/// assert_eq!(creds.user_and_password(), Some(("alice", "pw")));
/// let creds = parse_helper_answer(br#"{"Username":"<token>","Secret":"refresh"}"#)?;
/// assert_eq!((creds.username(), creds.identity()), (None, Some("refresh")));
/// assert!(parse_helper_answer(b"Secret=pw").is_err());
/// # Ok::<(), String>(())
/// ```
pub fn parse_helper_answer(stdout: &[u8]) -> Result<Credentials, String> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let answer: Answer = serde_json::from_slice(stdout).map_err(|err| {
        format!(
            "its answer is not the JSON expected (at line {}, column {})",
            err.line(),
            err.column()
        )
    })?;
    Ok(if answer.username == TOKEN_USERNAME {
        Credentials::identity_token("", &answer.secret)
    } else {
        Credentials::basic(&answer.username, &answer.secret)
    })
}

/// Starts the helper, retrying briefly on "text file busy": a helper written moments ago
/// can still be open for writing in a child another thread forked.
async fn spawn(program: &Path) -> std::io::Result<tokio::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut attempts = 0;
    loop {
        let spawned = tokio::process::Command::new(program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        match spawned {
            Err(err) if err.raw_os_error() == Some(ETXTBSY) && attempts < 20 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}

fn valid_name(helper: &str) -> bool {
    !helper.is_empty()
        && helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !helper.starts_with('.')
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(MAX_REASON).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Writes an executable `docker-credential-<name>` script into `dir`.
    fn script(dir: &Path, name: &str, body: &str) {
        let path = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("the temp dir is writable");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("the script is ours");
    }

    fn runner(dir: &Path, timeout: Duration) -> HelperRunner {
        HelperRunner::new(Some(dir.as_os_str().to_owned()), timeout)
    }

    #[tokio::test]
    async fn the_server_url_goes_to_stdin_and_the_answer_is_parsed() {
        let dir = tempfile::tempdir().expect("a temp dir");
        // Echoes the server it was asked about as the user name, to prove stdin was used.
        script(
            dir.path(),
            "test",
            r#"[ "$1" = get ] || exit 3; read server; printf '{"ServerURL":"%s","Username":"%s","Secret":"pw"}' "$server" "$server""#,
        );
        let creds = runner(dir.path(), Duration::from_secs(10))
            .get("test", "registry.lan:5000")
            .await
            .expect("the helper answers")
            .expect("it holds credentials");
        assert_eq!(creds.user_and_password(), Some(("registry.lan:5000", "pw")));
    }

    #[tokio::test]
    async fn not_found_is_none_and_failures_never_quote_the_secret() {
        let dir = tempfile::tempdir().expect("a temp dir");
        script(
            dir.path(),
            "empty",
            "echo 'credentials not found in native keychain'; exit 1",
        );
        script(dir.path(), "broken", "echo 'keychain locked' >&2; exit 2");
        script(
            dir.path(),
            "garbled",
            r#"echo '{"Username":"alice","Secret":"s3cret"'"#,
        );
        let runner = runner(dir.path(), Duration::from_secs(10));
        assert!(
            runner
                .get("empty", "ghcr.io")
                .await
                .expect("not found is fine")
                .is_none()
        );
        let err = runner
            .get("broken", "ghcr.io")
            .await
            .expect_err("it exits 2");
        assert!(err.to_string().contains("keychain locked"), "{err}");
        let err = runner
            .get("garbled", "ghcr.io")
            .await
            .expect_err("bad JSON");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let err = runner
            .get("absent", "ghcr.io")
            .await
            .expect_err("no such helper");
        assert!(
            err.to_string().contains("docker-credential-absent"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_helper_that_hangs_is_killed_at_the_timeout() {
        let dir = tempfile::tempdir().expect("a temp dir");
        script(dir.path(), "slow", "exec sleep 30");
        let err = runner(dir.path(), Duration::from_millis(300))
            .get("slow", "ghcr.io")
            .await
            .expect_err("it never answers");
        assert!(err.to_string().contains("no answer within"), "{err}");
    }

    #[test]
    fn helper_names_cannot_leave_the_search_path() {
        let dir = tempfile::tempdir().expect("a temp dir");
        script(dir.path(), "ok", "exit 0");
        let runner = runner(dir.path(), Duration::from_secs(1));
        assert!(runner.locate("ok").is_some());
        for bad in ["../ok", "a/b", "", ".hidden"] {
            assert!(runner.locate(bad).is_none(), "{bad}");
        }
        assert!(
            HelperRunner::new(None, Duration::from_secs(1))
                .locate("ok")
                .is_none()
        );
    }
}
