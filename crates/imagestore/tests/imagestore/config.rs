//! Parsing real Docker and OCI image configs, and the image ID rules (SPEC.md §3, JSON types).

use imgsvc_imagestore::layerstore::ChainId;
use imgsvc_imagestore::{Error, Image, ImageId, RootFs, Timestamp};

use crate::support::{TestResult, fixture};

#[test]
fn the_known_image_id_vector() -> TestResult {
    let config = br#"{"comment": "abc", "rootfs": {"type": "layers", "diff_ids": ["2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]}}"#;
    // Docker does not validate diff IDs; here a DiffID must be a digest (see RootFs), so the
    // vector's bare hex is refused by the parser, while its ID is still the digest of the bytes.
    assert_eq!(
        ImageId::of(config).to_string(),
        "sha256:8d25a9c45df515f9d0fe8e4a6b1c64dd3b965a84790ddbcc7954bb9bc89eb993"
    );
    match Image::parse(config) {
        Err(Error::InvalidConfig { message, .. }) => {
            assert!(
                message.contains("invalid checksum digest format"),
                "{message}"
            );
        }
        other => panic!("expected the bare-hex DiffID to be refused, got {other:?}"),
    }
    let with_prefix = br#"{"comment": "abc", "rootfs": {"type": "layers", "diff_ids": ["sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]}}"#;
    let image = Image::parse(with_prefix)?;
    assert_eq!(image.id(), ImageId::of(with_prefix));
    assert_eq!(image.config().comment.as_deref(), Some("abc"));
    Ok(())
}

#[test]
fn the_real_hello_world_config_has_its_real_id() -> TestResult {
    // hello-world:latest as pulled from Docker Hub in 2021-2023: `docker images` showed
    // IMAGE ID feb5d9fea6a5.
    let raw = fixture("docker-hello-world.json");
    let image = Image::parse(&raw)?;
    assert_eq!(
        image.id().to_string(),
        "sha256:feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412"
    );
    assert_eq!(image.raw_json(), raw.as_slice());
    let config = image.config();
    assert_eq!(config.architecture.as_deref(), Some("amd64"));
    assert_eq!(config.docker_version.as_deref(), Some("20.10.7"));
    assert_eq!(
        config.created,
        Some("2021-09-23T23:47:57.442225064Z".parse::<Timestamp>()?)
    );
    let run = config.config.as_ref().expect("a config object");
    assert_eq!(run.cmd, Some(vec!["/hello".to_owned()]));
    assert_eq!(run.entrypoint, None);
    assert!(run.labels.is_empty());
    let container = config
        .container_config
        .as_ref()
        .expect("a container_config object");
    assert_eq!(container.hostname, "8746661ca3c2");
    assert_eq!(image.history().len(), 2);
    assert!(!image.history()[0].empty_layer);
    assert!(image.history()[1].empty_layer);
    assert_eq!(image.rootfs().kind, RootFs::LAYERS);
    assert_eq!(image.rootfs().diff_ids.len(), 1);
    assert_eq!(
        image.chain_id().map(|c| c.to_string()).as_deref(),
        Some("sha256:e07ee1baac5fae6a26f30cabfe54a36d3402f96afda318fe0a96cec4ca393359")
    );
    image.check_history()?;
    image.check_os()?;
    Ok(())
}

#[test]
fn a_classic_builder_config_with_every_run_field() -> TestResult {
    let image = Image::parse(&fixture("docker-nginx-like.json"))?;
    let run = image.config().config.clone().expect("a config object");
    assert!(run.exposed_ports.contains("80/tcp"));
    assert_eq!(run.env.len(), 4);
    assert_eq!(run.cmd.as_deref().map(<[String]>::len), Some(3));
    assert_eq!(
        run.entrypoint,
        Some(vec!["/docker-entrypoint.sh".to_owned()])
    );
    assert!(run.volumes.contains("/var/cache/nginx"));
    assert_eq!(run.stop_signal, "SIGQUIT");
    assert_eq!(run.stop_timeout, Some(20));
    assert_eq!(run.shell.as_deref().map(<[String]>::len), Some(4));
    assert_eq!(
        run.labels.get("maintainer").map(String::as_str),
        Some("NGINX Docker Maintainers <docker-maint@nginx.com>")
    );
    let health = run.healthcheck.expect("a health check");
    assert_eq!(health.test[0], "CMD-SHELL");
    assert_eq!(health.interval, 30_000_000_000);
    assert_eq!(health.timeout, 5_000_000_000);
    assert_eq!(health.start_period, 10_000_000_000);
    assert_eq!(health.start_interval, 2_000_000_000);
    assert_eq!(health.retries, 3);
    // Ten history steps, three of which made layers: exactly the three diff IDs.
    assert_eq!(image.history().len(), 10);
    assert_eq!(image.history().iter().filter(|h| !h.empty_layer).count(), 3);
    image.check_history()?;
    Ok(())
}

#[test]
fn an_oci_buildkit_config_keeps_unknown_keys_in_its_bytes() -> TestResult {
    let raw = fixture("oci-buildkit-app.json");
    let image = Image::parse(&raw)?;
    let config = image.config();
    assert_eq!(config.architecture.as_deref(), Some("arm64"));
    assert_eq!(config.variant.as_deref(), Some("v8"));
    assert_eq!(
        config.author.as_deref(),
        Some("Platform Team <platform@example.com>")
    );
    let created = config.created.expect("a creation time");
    assert_eq!(created.offset_seconds(), 7200);
    assert_eq!(created.to_string(), "2024-06-11T09:42:17.318245103+02:00");
    assert!(config.container_config.is_none());
    let run = config.config.as_ref().expect("a config object");
    assert_eq!(run.user, "10001:10001");
    assert_eq!(run.exposed_ports.len(), 2);
    assert!(run.args_escaped);
    assert_eq!(run.working_dir, "/srv/app");
    assert_eq!(
        image
            .history()
            .iter()
            .map(|h| h.empty_layer)
            .collect::<Vec<_>>(),
        [false, true, false, true, false, true]
    );
    assert_eq!(
        image.history()[2].comment.as_deref(),
        Some("buildkit.dockerfile.v0")
    );
    assert_eq!(image.chain_id(), ChainId::of(&image.rootfs().diff_ids));
    // The buildkit key is not a typed field, but it is in the bytes the ID is made of.
    let text = std::str::from_utf8(image.raw_json())?;
    assert!(text.contains("moby.buildkit.buildinfo.v1"));
    assert_eq!(image.id(), ImageId::of(&raw));
    Ok(())
}

#[test]
fn a_windows_config_has_the_oci_platform_fields() -> TestResult {
    let image = Image::parse(&fixture("windows-servercore.json"))?;
    let config = image.config();
    assert_eq!(config.os_version.as_deref(), Some("10.0.20348.2461"));
    assert_eq!(config.os_features, ["win32k"]);
    assert_eq!(image.operating_system(), "windows");
    assert_eq!(config.created.map(|c| c.offset_seconds()), Some(-7 * 3600));
    assert!(matches!(image.check_os(), Err(Error::UnsupportedOs { .. })));
    Ok(())
}

#[test]
fn whitespace_changes_the_id() -> TestResult {
    let compact = Image::parse(br#"{"rootfs":{"type":"layers"}}"#)?;
    let spaced = Image::parse(br#"{"rootfs": {"type": "layers"}}"#)?;
    assert_eq!(compact.config(), spaced.config());
    assert_ne!(compact.id(), spaced.id());
    Ok(())
}

#[test]
fn rootfs_is_required_and_may_be_empty() -> TestResult {
    for missing in [&b"{}"[..], br#"{"rootfs":null}"#, br#"{"os":"linux"}"#] {
        let err = Image::parse(missing).expect_err("no rootfs");
        assert!(matches!(err, Error::NoRootFs), "{err:?}");
        assert!(
            err.to_string()
                .contains("invalid image JSON, no RootFS key")
        );
    }
    let empty = Image::parse(br#"{"rootfs":{}}"#)?;
    assert_eq!(empty.rootfs().kind, "");
    assert_eq!(empty.chain_id(), None);
    Ok(())
}

#[test]
fn go_style_nulls_and_shapes_are_accepted() -> TestResult {
    let raw = br#"{"rootfs":{"type":null,"diff_ids":null},"history":null,"os.features":null,
        "created":null,"config":{"Cmd":"/bin/sh","Env":null,"ExposedPorts":null,"Tty":null,
        "Labels":null,"Volumes":{"/data":{"ignored":1}},"Healthcheck":null},"Size":0}"#;
    let image = Image::parse(raw)?;
    let config = image.config();
    assert_eq!(config.created, None);
    assert!(image.history().is_empty());
    let run = config.config.as_ref().expect("a config object");
    assert_eq!(run.cmd, Some(vec!["/bin/sh".to_owned()]));
    assert!(run.env.is_empty() && run.exposed_ports.is_empty() && !run.tty);
    assert!(run.volumes.contains("/data"));
    assert_eq!(config.size, Some(0));
    Ok(())
}

#[test]
fn wrong_types_and_bad_json_are_invalid_configs_with_a_position() {
    for (raw, line) in [
        (&br#"{"rootfs":{},"os":1}"#[..], 1),
        (b"{\"rootfs\":{},\n\"created\":\"yesterday\"}", 2),
        (b"{\"rootfs\":{\"diff_ids\":[\"sha256:abc\"]}}", 1),
        (b"{\"rootfs\":{}} trailing", 1),
        (b"[]", 1),
        (b"", 1),
        (b"{\"rootfs\":{},\"config\":{\"Cmd\":[1]}}", 1),
    ] {
        match Image::parse(raw) {
            Err(Error::InvalidConfig { line: l, .. }) => assert_eq!(l, line, "{raw:?}"),
            other => panic!(
                "{:?}: expected an invalid config, got {other:?}",
                String::from_utf8_lossy(raw)
            ),
        }
    }
}

#[test]
fn history_may_not_name_more_layers_than_rootfs_has() -> TestResult {
    let ok = Image::parse(
        br#"{"rootfs":{"type":"layers"},"history":[{"created_by":"CMD x","empty_layer":true}]}"#,
    )?;
    ok.check_history()?;
    let bad = Image::parse(br#"{"rootfs":{"type":"layers"},"history":[{"created_by":"RUN x"}]}"#)?;
    let err = bad.check_history().expect_err("one layer too many");
    assert!(matches!(
        err,
        Error::TooManyNonEmptyLayers {
            non_empty: 1,
            diff_ids: 0
        }
    ));
    assert!(
        err.to_string()
            .contains("too many non-empty layers in History section")
    );
    Ok(())
}

#[test]
fn serializing_the_typed_fields_writes_dockers_keys() -> TestResult {
    let image = Image::parse(&fixture("docker-hello-world.json"))?;
    let written = serde_json::to_string(image.config())?;
    // Keys Docker writes, in Docker's (sorted) order at the top level.
    let at = |key: &str| written.find(&format!("\"{key}\":")).expect(key);
    assert!(at("architecture") < at("config"));
    assert!(at("container_config") < at("created"));
    assert!(at("os") < at("rootfs"));
    assert!(written.contains(r#""created":"2021-09-23T23:47:57.442225064Z""#));
    // And what is written parses back to the same fields.
    let again = Image::parse(written.as_bytes())?;
    assert_eq!(again.config(), image.config());
    Ok(())
}
