//! Project automation for imgsvc, run as `cargo xtask <command>`.
//!
//! The commands wrap the checks CI runs (`ci`), fuzzing (`fuzz`) and benchmarks (`bench`) so
//! that a developer runs exactly what CI runs. xtask uses only the standard library: it must
//! build in seconds on a fresh machine.

mod bench;
mod ci;
mod cmd;
mod demo;
mod fuzz;

use std::env;
use std::error::Error;
use std::process::ExitCode;

/// Result of an xtask step: errors are boxed and carry a message meant for the terminal.
pub(crate) type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// Usage text listing every subcommand.
const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  demo                         the main job: a token-auth test registry on loopback serving a
                               multi-platform image; the imgsvc CLI pulls, lists, inspects, unpacks it
  ci                           fmt check, clippy -D warnings, tests (nextest if installed,
                               plus doctests), rustdoc with -D warnings
  fuzz --smoke [--seconds N]   build every fuzz target, run each for N seconds (default 20)
  fuzz <target> [args...]      run one fuzz target unbounded: `cargo fuzz run <target> args...`
  bench [--quick] [--only G]   criterion benches, then whole-command comparisons such as
                               `sha256sum` against `digestsum` on a 1 GiB file
                               (--quick: criterion --quick, 256 MiB, 3 runs;
                               --only criterion|digest|layers|pull: one group)
  help                         print this text
";

/// Parses the command line, runs the subcommand and turns its error into exit status 1.
fn main() -> ExitCode {
    let args = match collect_args() {
        Ok(args) => args,
        Err(err) => return fail(&*err),
    };
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    };
    let outcome = match command.as_str() {
        "ci" => ci::run(rest),
        "fuzz" => fuzz::run(rest),
        "bench" => bench::run(rest),
        "demo" => demo::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        unknown => {
            eprintln!("xtask: unknown command `{unknown}`\n");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&*err),
    }
}

/// Returns the arguments after the program name, refusing any that are not UTF-8.
fn collect_args() -> Result<Vec<String>> {
    env::args_os()
        .skip(1)
        .map(|arg| {
            arg.into_string()
                .map_err(|arg| format!("argument {arg:?} is not valid UTF-8").into())
        })
        .collect()
}

/// Prints `err` and returns the failure exit status.
fn fail(err: &dyn Error) -> ExitCode {
    eprintln!("xtask: error: {err}");
    ExitCode::FAILURE
}
