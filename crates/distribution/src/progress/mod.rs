//! Progress of a pull: Docker's per-layer action words, repository messages, and the
//! rate-limited reader that reports bytes as they stream.
//!
//! A pull reports [`Event`]s to a [`Progress`] sink. Layer events carry an [`Action`]
//! (`Downloading`, `Extracting`, ...) and byte counts; repository events carry a text
//! (`Pulling from library/alpine`, `Digest: sha256:...`). [`Event::to_docker_json`] writes the
//! JSON message that `docker pull` clients read, so existing tooling can consume our stream.
//!
//! Byte counts come from a [`ProgressReader`] wrapped around the stream, which reports through
//! a [`RateLimiter`] the way Docker does: not more than one update per 100 ms, only after
//! min(512 KiB, 1% of the total) new bytes, and always the final count.
//!
//! ```
//! use std::io::Read;
//! use std::sync::Arc;
//! use imgsvc_distribution::progress::{Action, Collect, Event, ProgressReader};
//!
//! let sink = Arc::new(Collect::new());
//! let data = vec![7u8; 4096];
//! let mut reader = ProgressReader::new(&data[..], sink.clone(), "0123456789ab", Action::Downloading, Some(4096));
//! std::io::copy(&mut reader, &mut std::io::sink())?;
//! reader.finish();
//!
//! let last = sink.events().pop();
//! assert_eq!(last, Some(Event::layer("0123456789ab", Action::Downloading, 4096, Some(4096))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod action;
mod event;
mod json;
mod rate;
mod reader;
mod sink;

pub use action::Action;
pub use event::{Event, layer_id};
pub use rate::{MAX_STEP, MIN_INTERVAL, RateLimiter};
pub use reader::ProgressReader;
pub use sink::{Collect, Progress};
