//! Finding, running and stopping the external programs.

use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use super::Error;

/// The first of `names` found as an executable file on `PATH`.
pub(crate) fn find_tool(names: &[&str]) -> Result<PathBuf, Error> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(Error::ToolMissing {
        tool: names.join("` or `"),
    })
}

/// The registry binary: `$IMGSVC_REGISTRY_BIN`, else `docker-registry` (Debian), else `registry`.
pub(crate) fn registry_binary() -> Result<PathBuf, Error> {
    match std::env::var_os("IMGSVC_REGISTRY_BIN") {
        Some(bin) if !bin.is_empty() => Ok(PathBuf::from(bin)),
        _ => find_tool(&["docker-registry", "registry"]),
    }
}

/// Runs `tool args...` to completion; an unsuccessful exit is an error with its stderr.
pub(crate) fn run(tool: &str, configure: impl FnOnce(&mut Command)) -> Result<Output, Error> {
    let program = find_tool(&[tool])?;
    let mut cmd = Command::new(program);
    configure(&mut cmd);
    let command = describe(&cmd);
    let output = cmd.output().map_err(|source| Error::Io {
        what: "run",
        path: PathBuf::from(&command),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::Command {
            command,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_owned(),
        });
    }
    Ok(output)
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Stops `child` by its PID: SIGTERM, then SIGKILL if it has not exited after `grace`; reaps it.
pub(crate) fn terminate(child: &mut Child, grace: Duration) -> Result<(), Error> {
    let pid = child.id();
    let stop_error = |reason: String| Error::Stop { pid, reason };
    if child
        .try_wait()
        .map_err(|e| stop_error(e.to_string()))?
        .is_some()
    {
        return Ok(());
    }
    let raw = i32::try_from(pid).map_err(|e| stop_error(e.to_string()))?;
    if let Some(pid) = rustix::process::Pid::from_raw(raw) {
        // ESRCH means it exited meanwhile; the wait below reaps it either way.
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if child
            .try_wait()
            .map_err(|e| stop_error(e.to_string()))?
            .is_some()
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child
        .kill()
        .map_err(|e| stop_error(format!("SIGKILL: {e}")))?;
    child.wait().map_err(|e| stop_error(e.to_string()))?;
    Ok(())
}

/// Whether a process with `pid` exists (signal 0 succeeds or is refused for permissions).
pub fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tool_error_says_what_to_install() {
        let error = find_tool(&["imgsvc-no-such-tool"]).expect_err("no such tool on PATH");
        let message = error.to_string();
        assert!(message.contains("imgsvc-no-such-tool"), "{message}");
        assert!(
            message.contains("apt-get install docker-registry skopeo umoci"),
            "{message}"
        );
        assert!(message.contains("IMGSVC_SKIP_REAL_REGISTRY=1"), "{message}");
    }

    #[test]
    fn own_process_exists_and_reaped_child_does_not() {
        assert!(process_exists(std::process::id()));
        let mut child = Command::new("true").spawn().expect("`true` runs");
        let pid = child.id();
        child.wait().expect("reaped");
        assert!(!process_exists(pid));
    }
}
