//! The registry's `config.yml` and htpasswd file.

use std::path::Path;

use super::{Error, io_error, process};

/// What the `auth:` section of the config says.
pub(crate) enum Auth<'a> {
    None,
    Htpasswd {
        realm: &'a str,
        path: &'a Path,
    },
    Token {
        realm: &'a str,
        service: &'a str,
        issuer: &'a str,
        root_cert_bundle: &'a Path,
    },
}

/// A YAML double-quoted scalar: JSON string syntax is valid YAML.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn quoted_path(path: &Path) -> String {
    quoted(&path.to_string_lossy())
}

/// The config text for a registry on `127.0.0.1:port` storing in `storage`.
pub(crate) fn config_yml(port: u16, storage: &Path, auth: &Auth<'_>) -> String {
    let mut yml = format!(
        "version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: imgsvc-testkit-not-a-secret
  headers:
    X-Content-Type-Options: [nosniff]
",
        storage = quoted_path(storage),
    );
    match auth {
        Auth::None => {}
        Auth::Htpasswd { realm, path } => yml.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: {}\n    path: {}\n",
            quoted(realm),
            quoted_path(path)
        )),
        Auth::Token { realm, service, issuer, root_cert_bundle } => yml.push_str(&format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            quoted(realm),
            quoted(service),
            quoted(issuer),
            quoted_path(root_cert_bundle)
        )),
    }
    yml
}

/// Writes an htpasswd file with a bcrypt entry (the only hash distribution accepts), made by
/// `htpasswd -Bbn` from apache2-utils.
pub(crate) fn write_htpasswd(path: &Path, user: &str, password: &str) -> Result<(), Error> {
    let output = process::run("htpasswd", |cmd| {
        cmd.args(["-B", "-b", "-n", user, password]);
    })?;
    // `-n` prints `user:hash` and a blank line; the registry wants just the entry.
    let text = String::from_utf8_lossy(&output.stdout);
    let entry = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    std::fs::write(path, format!("{entry}\n")).map_err(io_error("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_config_quotes_every_value() {
        let yml = config_yml(
            5000,
            Path::new("/tmp/s \"x\""),
            &Auth::Token {
                realm: "http://127.0.0.1:1/token",
                service: "svc",
                issuer: "iss",
                root_cert_bundle: Path::new("/tmp/c.pem"),
            },
        );
        assert!(
            yml.contains("rootdirectory: \"/tmp/s \\\"x\\\"\"\n"),
            "{yml}"
        );
        assert!(yml.contains("  addr: 127.0.0.1:5000\n"), "{yml}");
        assert!(
            yml.contains("    realm: \"http://127.0.0.1:1/token\"\n"),
            "{yml}"
        );
        assert!(
            yml.contains("    rootcertbundle: \"/tmp/c.pem\"\n"),
            "{yml}"
        );
    }
}
