//! `imgsvc login` and `logout`: the client config, helpers, and authenticated pulls.

use std::os::unix::fs::PermissionsExt as _;

use base64::Engine as _;
use imgsvc_testkit::{Auth, BearerAuth, RegistryConfig};

use crate::harness::{Env, image, registry_with, remote};

/// The client config as JSON.
fn config(env: &Env) -> serde_json::Value {
    let bytes = std::fs::read(env.config_dir().join("config.json")).expect("config.json exists");
    serde_json::from_slice(&bytes).expect("config.json is JSON")
}

#[test]
fn login_to_a_basic_auth_registry_stores_credentials_that_pulls_use() {
    let image = image("basic");
    let registry = registry_with(
        RegistryConfig::new().auth(Auth::basic("u", "p")),
        &[("demo/basic", "v1", &image)],
    );
    let env = Env::new();
    let name = format!("{}:v1", remote(&registry, "demo/basic"));
    std::fs::write(
        env.config_dir().join("config.json"),
        r#"{"psFormat": "kept"}"#,
    )
    .expect("a config to keep");

    let run = env.run_with_stdin(
        &["login", "-u", "u", "--password-stdin", &registry.host()],
        "p\n",
    );
    assert_eq!(run.ok().stdout, "Login Succeeded\n");
    let stored = config(&env);
    let auth = base64::engine::general_purpose::STANDARD.encode("u:p");
    assert_eq!(stored["auths"][registry.host()]["auth"], auth.as_str());
    assert_eq!(stored["psFormat"], "kept");
    let mode = std::fs::metadata(env.config_dir().join("config.json"))
        .expect("config.json exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    env.run(&["pull", "-q", &name]).ok();

    let run = env.run(&["logout", &registry.host()]).ok();
    assert!(
        run.stdout.starts_with("Removing login credentials"),
        "{run:?}"
    );
    assert!(config(&env)["auths"].get(registry.host()).is_none());
    let run = env.run(&["logout", &registry.host()]).ok();
    assert!(run.stdout.starts_with("Not logged in"), "{run:?}");
}

#[test]
fn a_wrong_password_is_refused_and_not_stored() {
    let registry = registry_with(RegistryConfig::new().auth(Auth::basic("u", "p")), &[]);
    let env = Env::new();
    let run = env.run(&["login", "-u", "u", "-p", "wrong", &registry.host()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.to_lowercase().contains("unauthorized"),
        "{run:?}"
    );
    assert!(!env.config_dir().join("config.json").exists());
}

#[test]
fn pulling_with_wrong_stored_credentials_is_unauthorized() {
    let image = image("wrong");
    let registry = registry_with(
        RegistryConfig::new().auth(Auth::basic("u", "p")),
        &[("demo/wrong", "v1", &image)],
    );
    let env = Env::new();
    let auth = base64::engine::general_purpose::STANDARD.encode("u:wrong");
    let config = serde_json::json!({"auths": {registry.host(): {"auth": auth}}});
    std::fs::write(env.config_dir().join("config.json"), config.to_string()).expect("a config");
    let run = env.run(&["pull", &format!("{}:v1", remote(&registry, "demo/wrong"))]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.to_lowercase().contains("unauthorized"),
        "{run:?}"
    );
    // Without credentials at all, too.
    let bare = Env::new().run(&["pull", &format!("{}:v1", remote(&registry, "demo/wrong"))]);
    assert_eq!(bare.code, 1, "{bare:?}");
}

#[test]
fn login_to_a_token_registry_then_pull() {
    let image = image("bearer");
    let auth = Auth::Bearer(BearerAuth::new().credentials("u", "p"));
    let registry = registry_with(
        RegistryConfig::new().auth(auth),
        &[("demo/bearer", "v1", &image)],
    );
    let env = Env::new();
    let refused = env.run_with_stdin(
        &["login", "-u", "u", "--password-stdin", &registry.host()],
        "x",
    );
    assert_eq!(refused.code, 1, "{refused:?}");
    env.run_with_stdin(
        &["login", "-u", "u", "--password-stdin", &registry.host()],
        "p",
    )
    .ok();
    env.run(&[
        "pull",
        "-q",
        &format!("{}:v1", remote(&registry, "demo/bearer")),
    ])
    .ok();
}

#[test]
fn a_configured_helper_stores_and_erases() {
    let registry = registry_with(RegistryConfig::new().auth(Auth::basic("u", "p")), &[]);
    let bin = tempfile::tempdir().expect("a dir for the helper");
    let helper = bin.path().join("docker-credential-test");
    std::fs::write(&helper, "#!/bin/sh\ncat > \"$(dirname \"$0\")/$1.txt\"\n").expect("a helper");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let env = Env::new().with_path(bin.path());
    std::fs::write(
        env.config_dir().join("config.json"),
        r#"{"credsStore": "test"}"#,
    )
    .expect("a config naming the helper");

    env.run_with_stdin(
        &["login", "-u", "u", "--password-stdin", &registry.host()],
        "p",
    )
    .ok();
    let stored = std::fs::read_to_string(bin.path().join("store.txt")).expect("the helper ran");
    let stored: serde_json::Value = serde_json::from_str(&stored).expect("JSON on stdin");
    assert_eq!(stored["ServerURL"], registry.host().as_str());
    assert_eq!(stored["Username"], "u");
    assert_eq!(stored["Secret"], "p");
    let file = config(&env);
    assert_eq!(file["auths"][registry.host()], serde_json::json!({}));
    assert_eq!(file["credsStore"], "test");

    env.run(&["logout", &registry.host()]).ok();
    let erased = std::fs::read_to_string(bin.path().join("erase.txt")).expect("the helper ran");
    assert_eq!(erased, registry.host());
}

#[test]
fn login_needs_a_user_and_a_password() {
    let env = Env::new();
    env.run(&["login", "--password-stdin", "example.com"])
        .fails_with("--username");
    env.run(&["login", "-u", "u", "example.com"])
        .fails_with("no password");
}
