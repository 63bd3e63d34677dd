//! [`LayerDiff`]: a layer's tar, entry by entry, on its way into a driver.

use std::io::Read;
use std::path::Path;

use crate::Error;
use crate::apply::{Applier, ApplyError, Item};

/// One step of a diff: hands the next entry to `apply`, or says the archive ended.
pub(crate) type NextEntry<'a> = dyn FnMut(&mut dyn FnMut(&Item<'_>, &mut dyn Read) -> Result<(), ApplyError>) -> Result<bool, Error>
    + 'a;

/// A layer diff being applied: the entries of a layer tar, read once, in order, while the
/// layer store hashes the stream and records its tar-split metadata.
///
/// A [`Driver`](crate::driver::Driver) receives one in
/// [`apply_diff`](crate::driver::Driver::apply_diff) and applies it to the layer's directory
/// with [`apply_to`](Self::apply_to).
pub struct LayerDiff<'a> {
    next: &'a mut NextEntry<'a>,
    stash: Option<std::path::PathBuf>,
}

/// How a driver wants whiteout entries applied.
pub use crate::apply::Whiteouts;

impl<'a> LayerDiff<'a> {
    pub(crate) fn new(
        next: &'a mut NextEntry<'a>,
        stash: Option<std::path::PathBuf>,
    ) -> LayerDiff<'a> {
        LayerDiff { next, stash }
    }

    /// Applies every entry to the directory `dir` and returns the layer's size (the sum of
    /// the entries' header sizes, as Docker counts it).
    pub fn apply_to(&mut self, dir: &Path, whiteouts: Whiteouts) -> Result<u64, Error> {
        let mut applier = Applier::new(dir, whiteouts)?;
        if let Some(stash) = self.stash.take() {
            applier = applier.with_stash(stash);
        }
        while (self.next)(&mut |item, body| applier.apply(item, body))? {}
        Ok(applier.finish()?)
    }
}
