//! `tar`: the streaming reader on archives made by GNU tar and Python's `tarfile` (checked
//! against Python's reading of them), on odd endings, and on hostile input.

pub(crate) mod fixtures;
pub(crate) mod support;

mod endings;
mod formats;
mod hostile;
mod pax;
