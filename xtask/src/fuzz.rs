//! `cargo xtask fuzz`: a bounded smoke run of every fuzz target, or one unbounded run.
//!
//! The fuzz crate lives in `fuzz/`, its own workspace. cargo-fuzz needs nightly-only rustc
//! flags (`-Zsanitizer=address`, sanitizer coverage); `RUSTC_BOOTSTRAP=1` lets the stable
//! toolchain accept them, so CI needs no nightly toolchain.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::Result;
use crate::cmd::{self, cargo};

/// Seconds each target runs in a smoke run unless `--seconds` says otherwise.
const DEFAULT_SECONDS: u64 = 20;

/// libFuzzer's memory ceiling per target, in MiB: a parser that allocates more on small
/// input is a bug worth a crash report.
const RSS_LIMIT_MB: u32 = 2048;

/// What `cargo xtask fuzz` was asked to do.
enum Mode<'a> {
    /// Build every target, then run each for `seconds`.
    Smoke {
        /// Wall-clock budget per target.
        seconds: u64,
    },
    /// `cargo fuzz run <target> <args...>`, unbounded.
    One {
        /// The fuzz target to run.
        target: &'a str,
        /// Passed to `cargo fuzz run` after the target.
        args: &'a [String],
    },
}

/// Parses the arguments after `fuzz` and runs the requested fuzzing.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let mode = parse(args)?;
    ensure_cargo_fuzz()?;
    match mode {
        Mode::Smoke { seconds } => smoke(seconds),
        Mode::One { target, args } => {
            let mut command = cargo_fuzz(["run", target])?;
            command.args(args);
            cmd::run(&mut command)
        }
    }
}

/// Parses `--smoke [--seconds N]` or `<target> [args...]`.
fn parse(args: &[String]) -> Result<Mode<'_>> {
    let Some((first, rest)) = args.split_first() else {
        return Err(
            "usage: `cargo xtask fuzz --smoke [--seconds N]` or `cargo xtask fuzz <target> [args...]`"
                .into(),
        );
    };
    if first != "--smoke" {
        if first.starts_with('-') {
            return Err(
                format!("unknown fuzz option `{first}`; expected `--smoke` or a target").into(),
            );
        }
        return Ok(Mode::One {
            target: first,
            args: rest,
        });
    }
    let mut seconds = DEFAULT_SECONDS;
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        let value = match arg.strip_prefix("--seconds=") {
            Some(value) => value,
            None if arg == "--seconds" => rest
                .next()
                .ok_or("`--seconds` needs a value, e.g. `--seconds 20`")?,
            None => return Err(format!("unknown option `{arg}` for `fuzz --smoke`").into()),
        };
        seconds = match value.parse() {
            Ok(0) | Err(_) => {
                return Err(
                    format!("`--seconds` wants a positive whole number, got `{value}`").into(),
                );
            }
            Ok(seconds) => seconds,
        };
    }
    Ok(Mode::Smoke { seconds })
}

/// Installs cargo-fuzz with `cargo install --locked` unless `cargo fuzz --version` works.
fn ensure_cargo_fuzz() -> Result<()> {
    if cmd::succeeds(&mut cargo(["fuzz", "--version"])?) {
        return Ok(());
    }
    cmd::header("cargo-fuzz is not installed; installing it");
    cmd::run(&mut cargo(["install", "cargo-fuzz", "--locked"])?)
}

/// Returns `cargo fuzz <args>` with `RUSTC_BOOTSTRAP=1`, so it works on the stable toolchain.
fn cargo_fuzz<const N: usize>(args: [&str; N]) -> Result<Command> {
    let mut command = cargo(["fuzz"].into_iter().chain(args))?;
    command.env("RUSTC_BOOTSTRAP", "1");
    Ok(command)
}

/// Builds every fuzz target once, then runs each for `seconds`, and fails naming every target
/// that found a crash or could not run.
fn smoke(seconds: u64) -> Result<()> {
    let targets = list_targets()?;
    cmd::run(&mut cargo_fuzz(["build", "--release"])?)?;
    let fuzz_dir = cmd::project_root()?.join("fuzz");
    let mut failures = Vec::new();
    for target in &targets {
        if let Err(err) = run_bounded(&fuzz_dir, target, seconds) {
            eprintln!("xtask: fuzz target `{target}` failed: {err}");
            failures.push(target.as_str());
        }
    }
    if failures.is_empty() {
        cmd::header(&format!(
            "fuzz smoke: {} target(s) ran {seconds} s each without a crash",
            targets.len()
        ));
        Ok(())
    } else {
        Err(format!(
            "fuzz smoke failed for {}; crashing inputs are saved under fuzz/artifacts/<target>/",
            failures.join(", ")
        )
        .into())
    }
}

/// Returns the targets `cargo fuzz list` reports, failing if there are none.
fn list_targets() -> Result<Vec<String>> {
    let listing = cmd::stdout_of(&mut cargo_fuzz(["list"])?)?;
    let targets: Vec<String> = listing
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if targets.is_empty() {
        return Err(
            "`cargo fuzz list` found no fuzz targets; add `[[bin]]` entries to fuzz/Cargo.toml"
                .into(),
        );
    }
    Ok(targets)
}

/// Runs `target` for `seconds`, writing new inputs to `fuzz/corpus/<target>` and reading the
/// committed seeds in `fuzz/seeds/<target>` when that directory exists.
fn run_bounded(fuzz_dir: &Path, target: &str, seconds: u64) -> Result<()> {
    // Naming a corpus replaces cargo-fuzz's default one, so name the default explicitly
    // (first, where libFuzzer writes new inputs) and create it as cargo-fuzz would.
    let corpus = fuzz_dir.join("corpus").join(target);
    fs::create_dir_all(&corpus).map_err(|err| {
        format!(
            "could not create corpus directory {}: {err}",
            corpus.display()
        )
    })?;
    let mut command = cargo_fuzz(["run", target, "--release"])?;
    command.arg(&corpus);
    let seeds = fuzz_dir.join("seeds").join(target);
    if seeds.is_dir() {
        command.arg(&seeds);
    }
    command.args([
        "--".to_owned(),
        format!("-max_total_time={seconds}"),
        format!("-rss_limit_mb={RSS_LIMIT_MB}"),
    ]);
    cmd::run(&mut command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| (*word).to_owned()).collect()
    }

    #[test]
    fn smoke_defaults_to_twenty_seconds() {
        let args = args(&["--smoke"]);
        assert!(matches!(parse(&args), Ok(Mode::Smoke { seconds: 20 })));
    }

    #[test]
    fn smoke_accepts_seconds_in_both_spellings() {
        for words in [
            &["--smoke", "--seconds", "5"][..],
            &["--smoke", "--seconds=5"],
        ] {
            let args = args(words);
            assert!(matches!(parse(&args), Ok(Mode::Smoke { seconds: 5 })));
        }
    }

    #[test]
    fn smoke_rejects_zero_missing_and_unknown() {
        for words in [
            &["--smoke", "--seconds", "0"][..],
            &["--smoke", "--seconds"],
            &["--smoke", "--minutes", "1"],
            &["--bogus"],
            &[],
        ] {
            let args = args(words);
            assert!(parse(&args).is_err(), "{words:?} should be rejected");
        }
    }

    #[test]
    fn a_target_passes_the_rest_through() {
        let args = args(&["parse_reference", "--", "-max_len=64"]);
        let Ok(Mode::One { target, args }) = parse(&args) else {
            panic!("a target name should select a single run");
        };
        assert_eq!(target, "parse_reference");
        assert_eq!(args, ["--", "-max_len=64"]);
    }
}
