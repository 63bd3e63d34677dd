//! Docker's per-layer action words.

use std::fmt;

/// What is happening to one layer, with the exact words Docker prints.
///
/// ```
/// use imgsvc_distribution::progress::Action;
///
/// assert_eq!(Action::VerifyingChecksum.to_string(), "Verifying Checksum");
/// assert_eq!(Action::Retrying { seconds: 5 }.to_string(), "Retrying in 5 seconds");
/// assert_eq!(Action::Retrying { seconds: 1 }.to_string(), "Retrying in 1 second");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The layer is missing and will be downloaded: `Pulling fs layer`.
    PullingFsLayer,
    /// The download waits for a free concurrency slot: `Waiting`.
    Waiting,
    /// Bytes are arriving: `Downloading`.
    Downloading,
    /// The download is complete and its digest is being checked: `Verifying Checksum`.
    VerifyingChecksum,
    /// The blob is downloaded and verified: `Download complete`.
    DownloadComplete,
    /// The layer is being decompressed and applied: `Extracting`.
    Extracting,
    /// The layer is registered: `Pull complete`.
    PullComplete,
    /// The layer was found locally and is not downloaded: `Already exists`.
    AlreadyExists,
    /// A layer of an archive is being read into the layer store (`docker load`):
    /// `Loading layer`.
    LoadingLayer,
    /// A failed download is retried after a countdown: `Retrying in N seconds`.
    Retrying {
        /// Seconds left before the next attempt.
        seconds: u64,
    },
}

/// Access
impl Action {
    /// The words of every action except [`Action::Retrying`], whose text has a number.
    ///
    /// ```
    /// use imgsvc_distribution::progress::Action;
    ///
    /// assert_eq!(Action::PullComplete.as_static_str(), Some("Pull complete"));
    /// assert_eq!(Action::Retrying { seconds: 3 }.as_static_str(), None);
    /// ```
    pub const fn as_static_str(self) -> Option<&'static str> {
        Some(match self {
            Action::PullingFsLayer => "Pulling fs layer",
            Action::Waiting => "Waiting",
            Action::Downloading => "Downloading",
            Action::VerifyingChecksum => "Verifying Checksum",
            Action::DownloadComplete => "Download complete",
            Action::Extracting => "Extracting",
            Action::PullComplete => "Pull complete",
            Action::AlreadyExists => "Already exists",
            Action::LoadingLayer => "Loading layer",
            Action::Retrying { .. } => return None,
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.as_static_str(), self) {
            (Some(words), _) => f.write_str(words),
            (None, Action::Retrying { seconds: 1 }) => f.write_str("Retrying in 1 second"),
            (None, Action::Retrying { seconds }) => write!(f, "Retrying in {seconds} seconds"),
            (None, _) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_prints_dockers_words() {
        let table = [
            (Action::PullingFsLayer, "Pulling fs layer"),
            (Action::Waiting, "Waiting"),
            (Action::Downloading, "Downloading"),
            (Action::VerifyingChecksum, "Verifying Checksum"),
            (Action::DownloadComplete, "Download complete"),
            (Action::Extracting, "Extracting"),
            (Action::PullComplete, "Pull complete"),
            (Action::AlreadyExists, "Already exists"),
            (Action::Retrying { seconds: 20 }, "Retrying in 20 seconds"),
            (Action::Retrying { seconds: 2 }, "Retrying in 2 seconds"),
            (Action::Retrying { seconds: 1 }, "Retrying in 1 second"),
            (Action::Retrying { seconds: 0 }, "Retrying in 0 seconds"),
        ];
        for (action, words) in table {
            assert_eq!(action.to_string(), words, "{action:?}");
        }
    }
}
