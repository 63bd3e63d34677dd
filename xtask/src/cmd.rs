//! Running child commands from the project root, with a header before each and an error
//! naming the command when it fails.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;

/// Returns the workspace root: the parent of the xtask package.
pub(crate) fn project_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "the xtask package has no parent directory".into())
}

/// Returns the target directory: `$CARGO_TARGET_DIR` if set (relative to the root), else
/// `<root>/target`.
pub(crate) fn target_dir() -> Result<PathBuf> {
    let root = project_root()?;
    Ok(match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    })
}

/// Returns `cargo <args>` to run in the project root, using the cargo that started xtask so a
/// `cargo +toolchain xtask` stays on that toolchain.
pub(crate) fn cargo<I, S>(args: I) -> Result<Command>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let program = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command
        .args(args.into_iter().map(Into::into))
        .current_dir(project_root()?);
    Ok(command)
}

/// Prints a `==> ` header line, the marker every step starts with.
pub(crate) fn header(text: &str) {
    println!("==> {text}");
}

/// Prints a header naming `command`, runs it with inherited output and fails if it does not
/// exit successfully.
pub(crate) fn run(command: &mut Command) -> Result<()> {
    let shown = display(command);
    header(&shown);
    let status = command
        .status()
        .map_err(|err| format!("could not start `{shown}`: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})").into())
    }
}

/// Runs `command` silently and reports whether it started and exited successfully; used to
/// probe for optional tools such as `cargo nextest`.
pub(crate) fn succeeds(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs `command` with captured output and returns its stdout, failing with its stderr if it
/// does not exit successfully.
pub(crate) fn stdout_of(command: &mut Command) -> Result<String> {
    let shown = display(command);
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("could not start `{shown}`: {err}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`{shown}` failed ({}):\n{}",
            output.status,
            stderr.trim_end()
        )
        .into());
    }
    String::from_utf8(output.stdout)
        .map_err(|err| format!("`{shown}` printed output that is not UTF-8: {err}").into())
}

/// Renders `command` the way a user would type it: environment assignments, then the program's
/// file name (not the full path of the toolchain's cargo), then the arguments.
pub(crate) fn display(command: &Command) -> String {
    let mut words: Vec<String> = command
        .get_envs()
        .filter_map(|(key, value)| {
            let value = value?.to_string_lossy();
            Some(format!("{}={}", key.to_string_lossy(), quote(&value)))
        })
        .collect();
    let program = Path::new(command.get_program());
    let program = program.file_name().unwrap_or(program.as_os_str());
    words.push(program.to_string_lossy().into_owned());
    words.extend(command.get_args().map(|arg| quote(&arg.to_string_lossy())));
    words.join(" ")
}

/// Quotes `word` for display if it contains a space, so a header can be pasted into a shell.
fn quote(word: &str) -> String {
    if word.contains(' ') {
        format!("\"{word}\"")
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_environment_program_name_and_quoted_arguments() {
        let mut command = Command::new("/opt/toolchain/bin/cargo");
        command
            .args(["doc", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            display(&command),
            "RUSTDOCFLAGS=\"-D warnings\" cargo doc --no-deps"
        );
    }
}
