//! Showing a pull's progress: per-layer bars on a terminal, plain status lines otherwise,
//! Docker's JSON messages with `--json`.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Mutex, PoisonError};

use imgsvc::distribution::progress::{Action, Event, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Writes one line to stdout; a reader that left does not stop the pull.
fn line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// A message event as Docker prints it: `<id>: <text>`, or the text alone.
fn message_line(id: Option<&str>, text: &str) -> String {
    match id {
        Some(id) => format!("{id}: {text}"),
        None => text.to_owned(),
    }
}

/// Docker's JSON message per event, one per line.
#[derive(Debug)]
pub(crate) struct JsonLines;

impl Progress for JsonLines {
    fn event(&self, event: Event) {
        line(&event.to_docker_json());
    }
}

/// Status lines without byte counts, as `docker pull` prints when stdout is not a terminal.
#[derive(Debug)]
pub(crate) struct Plain;

impl Progress for Plain {
    fn event(&self, event: Event) {
        match &event {
            Event::Layer {
                action: Action::Downloading | Action::Extracting,
                ..
            } => {}
            // One line per loaded layer, when it is read whole.
            Event::Layer {
                id,
                action: Action::LoadingLayer,
                current,
                total,
            } => {
                if total.is_some_and(|t| *current >= t) {
                    line(&format!("{id}: Loading layer done"));
                }
            }
            Event::Layer { id, action, .. } => line(&format!("{id}: {action}")),
            Event::Message { id, text } => line(&message_line(id.as_deref(), text)),
        }
    }
}

/// One line per layer with its action and, while bytes move, a bar, as `docker pull` draws
/// on a terminal.
pub(crate) struct Bars {
    multi: MultiProgress,
    layers: Mutex<HashMap<String, ProgressBar>>,
    with_bar: ProgressStyle,
    without_bar: ProgressStyle,
}

impl std::fmt::Debug for Bars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bars").finish_non_exhaustive()
    }
}

/// Construction
impl Bars {
    /// Bars drawn on stdout.
    pub(crate) fn new() -> Bars {
        let style = |template: &str| {
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
        };
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            layers: Mutex::new(HashMap::new()),
            with_bar: style("{prefix}: {msg:<18} [{bar:50}] {bytes}/{total_bytes}")
                .progress_chars("=> "),
            without_bar: style("{prefix}: {msg}"),
        }
    }
}

/// Drawing
impl Bars {
    fn bar(&self, id: &str) -> ProgressBar {
        let mut layers = self.layers.lock().unwrap_or_else(PoisonError::into_inner);
        layers
            .entry(id.to_owned())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new(0));
                bar.set_style(self.without_bar.clone());
                bar.set_prefix(id.to_owned());
                bar
            })
            .clone()
    }

    /// Stops drawing; the lines stay as they are.
    pub(crate) fn finish(&self) {
        let layers = self.layers.lock().unwrap_or_else(PoisonError::into_inner);
        for bar in layers.values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}

impl Progress for Bars {
    fn event(&self, event: Event) {
        match event {
            Event::Message { id, text } => {
                let _ = self.multi.println(message_line(id.as_deref(), &text));
            }
            Event::Layer {
                id,
                action,
                current,
                total,
            } => {
                let bar = self.bar(&id);
                match (action, total) {
                    (
                        Action::Downloading | Action::Extracting | Action::LoadingLayer,
                        Some(total),
                    ) if total > 0 => {
                        bar.set_style(self.with_bar.clone());
                        bar.set_length(total);
                        bar.set_position(current);
                    }
                    _ => bar.set_style(self.without_bar.clone()),
                }
                bar.set_message(action.to_string());
                if matches!(action, Action::PullComplete | Action::AlreadyExists) {
                    bar.finish();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::message_line;

    #[test]
    fn messages_with_an_id_name_it_first() {
        assert_eq!(
            message_line(Some("latest"), "Pulling from a/b"),
            "latest: Pulling from a/b"
        );
        assert_eq!(message_line(None, "Digest: sha256:x"), "Digest: sha256:x");
    }
}
