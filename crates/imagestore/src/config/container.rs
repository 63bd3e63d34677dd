//! [`ContainerConfig`] and [`HealthConfig`]: how a container of the image runs (the config's
//! `config` and `container_config` objects), with Docker's JSON keys.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::serde_util::{is_false, is_zero, key_set, nullable, str_slice, write_key_set};

/// The run configuration of an image: Docker's `container.Config`, which OCI image configs
/// share a subset of (`User`, `ExposedPorts`, `Env`, `Entrypoint`, `Cmd`, `Volumes`,
/// `WorkingDir`, `Labels`, `StopSignal`, `ArgsEscaped`).
///
/// Fields missing from the JSON, or `null` there, take their zero value, as in Docker;
/// `Cmd`, `Entrypoint` and `Shell` stay `None` then, since "not set" and "empty" differ for
/// them. Keys not listed here are ignored (the image keeps its exact bytes).
///
/// ```
/// use imgsvc_imagestore::ContainerConfig;
/// let config: ContainerConfig = serde_json::from_str(
///     r#"{"Env":["PATH=/bin"],"Cmd":"/bin/sh","ExposedPorts":{"80/tcp":{}},"Labels":null}"#,
/// )?;
/// assert_eq!(config.cmd, Some(vec!["/bin/sh".to_owned()]));
/// assert!(config.exposed_ports.contains("80/tcp"));
/// assert!(config.labels.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerConfig {
    /// The container's host name.
    #[serde(rename = "Hostname", default, deserialize_with = "nullable")]
    pub hostname: String,
    /// The container's domain name.
    #[serde(rename = "Domainname", default, deserialize_with = "nullable")]
    pub domainname: String,
    /// The user (and group) commands run as.
    #[serde(rename = "User", default, deserialize_with = "nullable")]
    pub user: String,
    /// Attach standard input.
    #[serde(rename = "AttachStdin", default, deserialize_with = "nullable")]
    pub attach_stdin: bool,
    /// Attach standard output.
    #[serde(rename = "AttachStdout", default, deserialize_with = "nullable")]
    pub attach_stdout: bool,
    /// Attach standard error.
    #[serde(rename = "AttachStderr", default, deserialize_with = "nullable")]
    pub attach_stderr: bool,
    /// Ports the image exposes (`80/tcp`).
    #[serde(
        rename = "ExposedPorts",
        default,
        deserialize_with = "key_set",
        serialize_with = "write_key_set",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    pub exposed_ports: BTreeSet<String>,
    /// Allocate a terminal.
    #[serde(rename = "Tty", default, deserialize_with = "nullable")]
    pub tty: bool,
    /// Keep standard input open.
    #[serde(rename = "OpenStdin", default, deserialize_with = "nullable")]
    pub open_stdin: bool,
    /// Close standard input after the first client detaches.
    #[serde(rename = "StdinOnce", default, deserialize_with = "nullable")]
    pub stdin_once: bool,
    /// Environment variables, `NAME=value`.
    #[serde(rename = "Env", default, deserialize_with = "nullable")]
    pub env: Vec<String>,
    /// The default command (or arguments to the entrypoint).
    #[serde(rename = "Cmd", default, deserialize_with = "str_slice")]
    pub cmd: Option<Vec<String>>,
    /// How to check that a container is healthy.
    #[serde(
        rename = "Healthcheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub healthcheck: Option<HealthConfig>,
    /// The command is already escaped (Windows).
    #[serde(
        rename = "ArgsEscaped",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub args_escaped: bool,
    /// The image the container was made from (in `container_config`).
    #[serde(rename = "Image", default, deserialize_with = "nullable")]
    pub image: String,
    /// Paths that are volumes.
    #[serde(
        rename = "Volumes",
        default,
        deserialize_with = "key_set",
        serialize_with = "write_key_set"
    )]
    pub volumes: BTreeSet<String>,
    /// The working directory of commands.
    #[serde(rename = "WorkingDir", default, deserialize_with = "nullable")]
    pub working_dir: String,
    /// The entrypoint.
    #[serde(rename = "Entrypoint", default, deserialize_with = "str_slice")]
    pub entrypoint: Option<Vec<String>>,
    /// The container has no network.
    #[serde(
        rename = "NetworkDisabled",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub network_disabled: bool,
    /// A MAC address (deprecated in Docker's API).
    #[serde(
        rename = "MacAddress",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub mac_address: String,
    /// Build instructions run when the image is used as a base.
    #[serde(rename = "OnBuild", default, deserialize_with = "nullable")]
    pub on_build: Vec<String>,
    /// Labels.
    #[serde(rename = "Labels", default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// The signal that stops the container.
    #[serde(
        rename = "StopSignal",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    /// Seconds to wait for the container to stop.
    #[serde(
        rename = "StopTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_timeout: Option<i64>,
    /// The shell for the shell form of commands.
    #[serde(
        rename = "Shell",
        default,
        deserialize_with = "str_slice",
        skip_serializing_if = "Option::is_none"
    )]
    pub shell: Option<Vec<String>>,
}

/// A health check (`HEALTHCHECK` in a Dockerfile). Durations are in nanoseconds, as Docker
/// writes them; zero means "inherit" or "default".
///
/// ```
/// use imgsvc_imagestore::HealthConfig;
/// let check: HealthConfig = serde_json::from_str(
///     r#"{"Test":["CMD-SHELL","curl -f http://localhost/"],"Interval":30000000000,"Retries":3}"#,
/// )?;
/// assert_eq!(check.interval, 30_000_000_000);
/// assert_eq!(check.retries, 3);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HealthConfig {
    /// The test: `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    #[serde(
        rename = "Test",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub test: Vec<String>,
    /// Time between checks, in nanoseconds.
    #[serde(
        rename = "Interval",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub interval: i64,
    /// Time before a check counts as hung, in nanoseconds.
    #[serde(
        rename = "Timeout",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub timeout: i64,
    /// Start-up time during which failures do not count, in nanoseconds.
    #[serde(
        rename = "StartPeriod",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub start_period: i64,
    /// Time between checks during the start period, in nanoseconds.
    #[serde(
        rename = "StartInterval",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub start_interval: i64,
    /// Consecutive failures before the container is unhealthy.
    #[serde(
        rename = "Retries",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub retries: i64,
}
