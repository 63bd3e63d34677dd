//! One progress report: a layer's action and bytes, or a repository message.

use imgsvc_digest::Digest;

use super::Action;
use super::json;

/// One progress report of a pull.
///
/// ```
/// use imgsvc_distribution::progress::{Action, Event};
///
/// let event = Event::layer("0123456789ab", Action::Downloading, 32768, Some(3623807));
/// assert_eq!(
///     event.to_docker_json(),
///     r#"{"status":"Downloading","progressDetail":{"current":32768,"total":3623807},"id":"0123456789ab"}"#
/// );
/// assert_eq!(
///     Event::pulling_from("latest", "library/alpine").to_docker_json(),
///     r#"{"status":"Pulling from library/alpine","id":"latest"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// Something happened to one layer.
    Layer {
        /// The layer's short ID: the first 12 hex digits of its blob digest ([`layer_id`]).
        id: String,
        /// What happened.
        action: Action,
        /// Bytes done so far (0 for actions without a byte count).
        current: u64,
        /// Bytes in all, when known.
        total: Option<u64>,
    },
    /// A message about the repository or the image as a whole.
    Message {
        /// What the message is about (the tag for `Pulling from ...`), if anything.
        id: Option<String>,
        /// The text, for instance `Digest: sha256:...`.
        text: String,
    },
}

/// The short ID Docker shows for a layer: the first 12 hex digits of its blob digest.
///
/// ```
/// let digest = imgsvc_distribution::digest::Digest::from_bytes(b"foo");
/// assert_eq!(imgsvc_distribution::progress::layer_id(&digest), "2c26b46b68ff");
/// ```
pub fn layer_id(digest: &Digest) -> String {
    digest.short().to_string()
}

/// Construction
impl Event {
    /// A layer event: `action` with `current` of `total` bytes (0 and `None` for actions
    /// without a byte count).
    ///
    /// ```
    /// use imgsvc_distribution::progress::{Action, Event};
    ///
    /// let json = Event::layer("0123456789ab", Action::Extracting, 512, Some(1024)).to_docker_json();
    /// assert_eq!(json, r#"{"status":"Extracting","progressDetail":{"current":512,"total":1024},"id":"0123456789ab"}"#);
    /// ```
    pub fn layer(id: impl Into<String>, action: Action, current: u64, total: Option<u64>) -> Event {
        Event::Layer {
            id: id.into(),
            action,
            current,
            total,
        }
    }

    /// A layer event without a byte count (`Pulling fs layer`, `Pull complete`, ...).
    ///
    /// ```
    /// use imgsvc_distribution::progress::{Action, Event};
    ///
    /// let json = Event::action("0123456789ab", Action::PullComplete).to_docker_json();
    /// assert_eq!(json, r#"{"status":"Pull complete","progressDetail":{},"id":"0123456789ab"}"#);
    /// ```
    pub fn action(id: impl Into<String>, action: Action) -> Event {
        Event::layer(id, action, 0, None)
    }

    /// A repository message, about `id` if given.
    pub fn message(id: Option<String>, text: impl Into<String>) -> Event {
        Event::Message {
            id,
            text: text.into(),
        }
    }

    /// `Pulling from <repository>`, about `tag_or_digest` (what was asked for).
    pub fn pulling_from(tag_or_digest: impl Into<String>, repository: &str) -> Event {
        Event::Message {
            id: Some(tag_or_digest.into()),
            text: format!("Pulling from {repository}"),
        }
    }

    /// `Digest: <manifest digest>`.
    ///
    /// ```
    /// use imgsvc_distribution::{digest::Digest, progress::Event};
    ///
    /// let json = Event::digest(&Digest::from_bytes(b"foo")).to_docker_json();
    /// assert_eq!(json, r#"{"status":"Digest: sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}"#);
    /// ```
    pub fn digest(digest: &Digest) -> Event {
        Event::message(None, format!("Digest: {digest}"))
    }

    /// `Status: Downloaded newer image for <reference>`.
    pub fn downloaded_newer(reference: &str) -> Event {
        Event::message(
            None,
            format!("Status: Downloaded newer image for {reference}"),
        )
    }

    /// `Status: Image is up to date for <reference>`.
    pub fn up_to_date(reference: &str) -> Event {
        Event::message(None, format!("Status: Image is up to date for {reference}"))
    }
}

/// Access
impl Event {
    /// The layer ID or the message's ID.
    pub fn id(&self) -> Option<&str> {
        match self {
            Event::Layer { id, .. } => Some(id),
            Event::Message { id, .. } => id.as_deref(),
        }
    }

    /// The status text: the action's words or the message.
    pub fn status(&self) -> String {
        match self {
            Event::Layer { action, .. } => action.to_string(),
            Event::Message { text, .. } => text.clone(),
        }
    }
}

/// Output
impl Event {
    /// Docker's JSON message for this event, on one line without a newline.
    ///
    /// Layer events always carry `progressDetail` (`{}` without numbers; zero numbers are
    /// left out, as Docker's encoder does); messages carry none, and leave out `id` when
    /// they have none. Strings are escaped as Go escapes them (`<` is `\u003c`).
    pub fn to_docker_json(&self) -> String {
        match self {
            Event::Layer {
                id,
                action,
                current,
                total,
            } => json::message(
                &action.to_string(),
                Some((*current, total.unwrap_or(0))),
                id,
            ),
            Event::Message { id, text } => json::message(text, None, id.as_deref().unwrap_or("")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, Event};

    const ID: &str = "0123456789ab";

    #[test]
    fn layer_events_match_dockers_lines() {
        let table = [
            (
                Event::action(ID, Action::PullingFsLayer),
                r#"{"status":"Pulling fs layer","progressDetail":{},"id":"0123456789ab"}"#,
            ),
            (
                Event::action(ID, Action::Waiting),
                r#"{"status":"Waiting","progressDetail":{},"id":"0123456789ab"}"#,
            ),
            (
                Event::layer(ID, Action::Downloading, 1, Some(2)),
                r#"{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"0123456789ab"}"#,
            ),
            (
                Event::layer(ID, Action::Extracting, 1024, None),
                r#"{"status":"Extracting","progressDetail":{"current":1024},"id":"0123456789ab"}"#,
            ),
            (
                Event::action(ID, Action::Retrying { seconds: 1 }),
                r#"{"status":"Retrying in 1 second","progressDetail":{},"id":"0123456789ab"}"#,
            ),
            (
                Event::action(ID, Action::AlreadyExists),
                r#"{"status":"Already exists","progressDetail":{},"id":"0123456789ab"}"#,
            ),
        ];
        for (event, want) in table {
            assert_eq!(event.to_docker_json(), want);
        }
    }

    #[test]
    fn messages_have_no_progress_detail() {
        let table = [
            (
                Event::pulling_from("latest", "library/alpine"),
                r#"{"status":"Pulling from library/alpine","id":"latest"}"#,
            ),
            (
                Event::downloaded_newer("alpine:latest"),
                r#"{"status":"Status: Downloaded newer image for alpine:latest"}"#,
            ),
            (
                Event::up_to_date("alpine:latest"),
                r#"{"status":"Status: Image is up to date for alpine:latest"}"#,
            ),
        ];
        for (event, want) in table {
            assert_eq!(event.to_docker_json(), want);
        }
    }

    #[test]
    fn every_line_is_valid_json_without_newline() {
        let events = [
            Event::message(None, "a \"quoted\"\nline <with> &"),
            Event::layer(ID, Action::Downloading, u64::MAX, Some(u64::MAX)),
        ];
        for event in events {
            let line = event.to_docker_json();
            assert!(!line.contains('\n'));
            let value: serde_json::Value =
                serde_json::from_str(&line).expect("our JSON lines must parse");
            assert_eq!(value["status"], event.status().as_str());
        }
    }
}
