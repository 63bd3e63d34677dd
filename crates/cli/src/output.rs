//! Writing to stdout and stderr: whole texts at once, and errors with their causes.

use std::io::Write as _;

/// Writes `text` to stdout. A closed pipe (`imgsvc images | head -1`) is not an error.
pub(crate) fn print(text: &str) -> crate::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Writes `Error: <message>` to stderr, and with `debug` one `  caused by: …` line per cause.
pub(crate) fn print_error(err: &(dyn std::error::Error + 'static), debug: bool) {
    let mut text = format!("Error: {err}\n");
    if debug {
        let mut source = err.source();
        while let Some(cause) = source {
            text.push_str(&format!("  caused by: {cause}\n"));
            source = cause.source();
        }
    }
    // Nothing is left to tell if stderr is gone.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
