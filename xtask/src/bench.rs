//! `cargo xtask bench`: criterion micro-benchmarks, then whole-command comparisons against
//! the tools imgsvc replaces (first: `sha256sum` against our `digestsum` example).
//!
//! A new comparison is a function returning a [`compare::Comparison`], added to the list in
//! [`comparisons`].

mod compare;
mod input;
mod layers;
mod pull;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::cmd::{self, cargo};
use compare::{Comparison, Contender};

/// One mebibyte.
const MIB: u64 = 1 << 20;

/// How much work `cargo xtask bench` does.
struct Settings {
    /// Size of the pseudo-random input file.
    input_bytes: u64,
    /// Counted runs per command, after one warm-up each.
    runs: usize,
    /// Whether to pass `--quick` to criterion.
    quick: bool,
}

impl Settings {
    /// Full run: 1 GiB input, 7 counted runs per command.
    const FULL: Self = Self {
        input_bytes: 1024 * MIB,
        runs: 7,
        quick: false,
    };
    /// `--quick`: 256 MiB input, 3 counted runs per command.
    const QUICK: Self = Self {
        input_bytes: 256 * MIB,
        runs: 3,
        quick: true,
    };
}

/// The groups of benchmarks, for `--only`.
const GROUPS: [&str; 4] = ["criterion", "digest", "layers", "pull"];

/// Parses `[--quick] [--only GROUP]` and runs the benchmarks (all groups by default).
pub(crate) fn run(args: &[String]) -> Result<()> {
    let usage = || {
        format!(
            "usage: `cargo xtask bench [--quick] [--only {}]`, got {args:?}",
            GROUPS.join("|")
        )
    };
    let mut settings = Settings::FULL;
    let mut only: Option<&str> = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => settings = Settings::QUICK,
            "--only" => match rest.next() {
                Some(group) if GROUPS.contains(&group.as_str()) => only = Some(group),
                _ => return Err(usage().into()),
            },
            _ => return Err(usage().into()),
        }
    }
    let wanted = |group: &str| only.is_none_or(|only| only == group);
    if wanted("criterion") {
        criterion(&settings)?;
    }
    if wanted("digest") {
        let digestsum = build_digestsum()?;
        let file = cmd::target_dir()?
            .join("xtask-bench")
            .join(input_name(settings.input_bytes));
        input::ensure_random_file(&file, settings.input_bytes)?;
        for mut comparison in comparisons(&digestsum, &file, settings.input_bytes) {
            let outcome = comparison.run(settings.runs)?;
            report::print(&comparison, &outcome);
        }
    }
    if wanted("layers") {
        layer_comparisons(&settings)?;
    }
    if wanted("pull") {
        pull_comparisons(&settings)?;
    }
    Ok(())
}

/// A whole pull against `skopeo copy` + `umoci unpack`, on both drivers.
fn pull_comparisons(settings: &Settings) -> Result<()> {
    let tool = pull::build_pull_tool()?;
    let dir = cmd::target_dir()?.join("xtask-bench");
    let scratch = dir.join("pull");
    let (tar, _) = layers::ensure_usr_tar(&dir)?;
    let (layout, compressed) = pull::ensure_layout(&dir, &tar)?;
    let _ = std::fs::remove_dir_all(dir.join("pull-registry"));
    let registry = pull::Registry::start(&dir.join("pull-registry"))?;
    pull::push(&layout, &registry)?;
    let mut outcomes = Vec::new();
    for driver in ["vfs", "overlay2"] {
        let mut comparison = pull::comparison(&tool, &registry, &scratch, driver, compressed);
        let outcome = comparison.run(settings.runs);
        outcomes.push((comparison, outcome));
    }
    layers::clean_runs(&scratch)?;
    drop(registry);
    for (comparison, outcome) in outcomes {
        report::print(&comparison, &outcome?);
    }
    Ok(())
}

/// Registering a layer of real files against GNU tar extracting it, and rebuilding its tar
/// against GNU tar archiving the files, on both drivers.
fn layer_comparisons(settings: &Settings) -> Result<()> {
    let layer = layers::build_layer_tool()?;
    let scratch = cmd::target_dir()?.join("xtask-bench").join("layers");
    let (tar, bytes) = layers::ensure_usr_tar(&cmd::target_dir()?.join("xtask-bench"))?;
    // Every extraction runs on a fresh filesystem (see `layers::register`).
    let mut outcomes = Vec::new();
    for driver in ["vfs", "overlay2"] {
        let mut comparison = layers::register(&layer, &tar, &scratch, driver, bytes);
        let outcome = comparison.run(settings.runs);
        outcomes.push((comparison, outcome));
    }
    layers::clean_runs(&scratch)?;
    for (comparison, outcome) in outcomes {
        report::print(&comparison, &outcome?);
    }
    for driver in ["vfs", "overlay2"] {
        let mut comparison = layers::tar_stream(&layer, &tar, &scratch, driver, bytes)?;
        let outcome = comparison.run(settings.runs)?;
        report::print(&comparison, &outcome);
    }
    Ok(())
}

/// Names the input file after its size: `1GiB.bin`, `256MiB.bin`.
fn input_name(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * MIB) {
        format!("{}GiB.bin", bytes / (1024 * MIB))
    } else {
        format!("{}MiB.bin", bytes.div_ceil(MIB))
    }
}

/// Runs the criterion benches in `benches/`.
fn criterion(settings: &Settings) -> Result<()> {
    let mut command = cargo(["bench", "--package", "imgsvc-benches"])?;
    if settings.quick {
        // `--benches` keeps a libtest harness (which rejects `--quick`) out of the run.
        command.args(["--benches", "--", "--quick"]);
    }
    cmd::run(&mut command)
}

/// Builds the `digestsum` example in release mode and returns its path.
fn build_digestsum() -> Result<PathBuf> {
    cmd::run(&mut cargo([
        "build",
        "--release",
        "-p",
        "imgsvc-digest",
        "--example",
        "digestsum",
    ])?)?;
    let binary = cmd::target_dir()?
        .join("release")
        .join("examples")
        .join("digestsum");
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "the build succeeded but {} does not exist",
            binary.display()
        )
        .into())
    }
}

/// Every whole-command comparison, run in this order over the `bytes`-long input `file`.
fn comparisons(digestsum: &Path, file: &Path, bytes: u64) -> Vec<Comparison> {
    vec![sha256_file(digestsum, file, bytes)]
}

/// `sha256sum FILE` against `digestsum FILE`: both must print the same digest.
fn sha256_file(digestsum: &Path, file: &Path, bytes: u64) -> Comparison {
    let mut a = Command::new("sha256sum");
    a.arg(file);
    let mut b = Command::new(digestsum);
    b.arg(file);
    Comparison {
        name: format!("sha256 of {}", file.display()),
        a: Contender {
            label: "sha256sum".to_owned(),
            command: a,
            answer: sha256sum_hex,
        },
        b: Contender {
            label: "digestsum".to_owned(),
            command: b,
            answer: digestsum_hex,
        },
        bytes: Some(bytes),
    }
}

/// Reads the hex digest from `sha256sum` output: `<hex>  <path>`.
fn sha256sum_hex(stdout: &str) -> Result<String> {
    // sha256sum prefixes the line with `\` when it escapes a file name.
    let first = stdout.split_whitespace().next().unwrap_or_default();
    sha256_hex(first.strip_prefix('\\').unwrap_or(first))
}

/// Reads the hex digest from `digestsum` output: `sha256:<hex>  <path>`.
fn digestsum_hex(stdout: &str) -> Result<String> {
    let first = stdout.split_whitespace().next().unwrap_or_default();
    let hex = first
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("expected `sha256:<hex>  <path>`, got {first:?}"))?;
    sha256_hex(hex)
}

/// Checks that `hex` is 64 lowercase hex digits, the form both tools print.
fn sha256_hex(hex: &str) -> Result<String> {
    let valid = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if valid {
        Ok(hex.to_owned())
    } else {
        Err(format!("expected 64 lowercase hex digits, got {hex:?}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn both_output_forms_yield_the_same_hex() {
        let plain = sha256sum_hex(&format!("{EMPTY}  /tmp/empty\n")).expect("sha256sum form");
        let typed = digestsum_hex(&format!("sha256:{EMPTY}  /tmp/empty\n")).expect("digest form");
        assert_eq!(plain, typed);
    }

    #[test]
    fn malformed_output_is_rejected() {
        assert!(sha256sum_hex("").is_err());
        assert!(sha256sum_hex("abc  file").is_err());
        assert!(digestsum_hex(&format!("{EMPTY}  file")).is_err());
        assert!(digestsum_hex(&format!("sha256:{}  file", EMPTY.to_uppercase())).is_err());
    }
}
