//! Writing the Docker client config (`config.json`): `auths` entries and credential helpers.
//!
//! Reading for pulls goes through the registry transport's `DockerConfigStore`; this module
//! edits the one file `docker login` writes, keeping every key it does not touch.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Map, Value};

use crate::Result;

/// Why the config or a helper failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Neither `DOCKER_CONFIG` nor `HOME` is set.
    #[error("no Docker client config: set DOCKER_CONFIG or HOME")]
    NoPath,
    /// The file is not a JSON object.
    #[error("{}: not a JSON object; fix or remove it", path.display())]
    NotAnObject {
        /// The file.
        path: PathBuf,
    },
    /// Reading or writing the file.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A credential helper failed.
    #[error("credential helper docker-credential-{helper} {action}: {reason}")]
    Helper {
        /// The helper's name.
        helper: String,
        /// `store`, `erase`.
        action: &'static str,
        /// What it said, or why it could not run.
        reason: String,
    },
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub(crate) fn path() -> Result<PathBuf, Error> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    match var("DOCKER_CONFIG") {
        Some(dir) => Ok(dir.join("config.json")),
        None => var("HOME")
            .map(|home| home.join(".docker/config.json"))
            .ok_or(Error::NoPath),
    }
}

/// The file's top-level object; empty when the file does not exist.
pub(crate) fn load(path: &Path) -> Result<Map<String, Value>, Error> {
    let io = |source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let bytes = match std::fs::read(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        other => other.map_err(io)?,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::NotAnObject {
            path: path.to_owned(),
        }),
    }
}

/// Writes `config` to `path` atomically: a new file (mode 0600) in the same directory,
/// renamed over the old one, so a reader never sees half a file.
pub(crate) fn save(path: &Path, config: &Map<String, Value>) -> Result<(), Error> {
    let io = |action, source| Error::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(err) => return Err(io("create the directory of", err)),
    }
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    serde::Serialize::serialize(config, &mut serializer)
        .map_err(|err| io("encode", std::io::Error::other(err)))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".config.json.{}.{nanos}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(&bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(err) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io("write", err));
    }
    Ok(())
}

/// The helper `config` names for the server key `key`: its `credHelpers` entry, else
/// `credsStore`.
pub(crate) fn helper_for(config: &Map<String, Value>, key: &str) -> Option<String> {
    config
        .get("credHelpers")
        .and_then(|helpers| helpers.get(key))
        .or_else(|| config.get("credsStore"))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// Takes the `auths` object out of `config` (empty when missing or not an object); the
/// caller puts it back with `config.insert("auths", …)`.
pub(crate) fn take_auths(config: &mut Map<String, Value>) -> Map<String, Value> {
    match config.remove("auths") {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Runs `docker-credential-<helper> <action>` with `input` on stdin.
pub(crate) fn run_helper(helper: &str, action: &'static str, input: &[u8]) -> Result<(), Error> {
    let failed = |reason: String| Error::Helper {
        helper: helper.to_owned(),
        action,
        reason,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| failed(err.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|err| failed(err.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|err| failed(err.to_string()))?;
    if output.status.success() {
        return Ok(());
    }
    // Helpers print their error on stdout; some use stderr.
    let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let said = if said.is_empty() {
        String::from_utf8_lossy(&output.stderr).trim().to_owned()
    } else {
        said
    };
    Err(failed(format!("{} ({})", said, output.status)))
}

#[cfg(test)]
mod tests {
    use super::{helper_for, load, save, take_auths};
    use serde_json::{Value, json};

    #[test]
    fn helpers_are_chosen_per_server_then_default() {
        let Value::Object(config) =
            json!({"credsStore": "desktop", "credHelpers": {"gcr.io": "gcloud"}})
        else {
            return;
        };
        assert_eq!(helper_for(&config, "gcr.io").as_deref(), Some("gcloud"));
        assert_eq!(helper_for(&config, "quay.io").as_deref(), Some("desktop"));
        assert_eq!(helper_for(&serde_json::Map::new(), "quay.io"), None);
    }

    #[test]
    fn saving_keeps_other_keys_and_is_private() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("sub/config.json");
        std::fs::create_dir_all(dir.path().join("sub"))?;
        std::fs::write(&path, r#"{"psFormat": "x", "auths": {"a": {}}}"#)?;
        let mut config = load(&path)?;
        let mut auths = take_auths(&mut config);
        auths.insert("b".into(), json!({"auth": "eDp5"}));
        config.insert("auths".into(), auths.into());
        save(&path, &config)?;
        let again = load(&path)?;
        assert_eq!(again.get("psFormat"), Some(&json!("x")));
        assert_eq!(
            again.get("auths"),
            Some(&json!({"a": {}, "b": {"auth": "eDp5"}}))
        );
        assert_eq!(
            std::fs::metadata(&path)?.permissions().mode() & 0o777,
            0o600
        );
        Ok(())
    }
}
