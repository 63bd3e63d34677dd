//! `imgsvc tag`: another reference to an image.

use crate::{Global, Result};

/// `tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The image to tag: reference, ID or unique ID prefix.
    source: String,
    /// The new reference.
    target: String,
}

/// Runs `tag`; silent on success, as Docker is.
pub(crate) fn run(args: Args, global: &Global) -> Result<()> {
    global.open()?.tag_image(&args.source, &args.target)?;
    Ok(())
}
