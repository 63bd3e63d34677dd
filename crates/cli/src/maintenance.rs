//! `imgsvc unpack`, `imgsvc prune` and `imgsvc fsck`.

use std::path::PathBuf;

use crate::{Global, Result};

/// `unpack IMAGE DIR`.
#[derive(Debug, clap::Args)]
pub(crate) struct UnpackArgs {
    /// The image, by reference, ID or unique ID prefix.
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Where its root filesystem goes (must not exist).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// Runs `unpack`.
pub(crate) fn unpack(args: UnpackArgs, global: &Global) -> Result<()> {
    let service = global.open()?;
    service.unpack(&args.image, &args.dir)?;
    Ok(())
}

/// `prune [-a]`.
#[derive(Debug, clap::Args)]
pub(crate) struct PruneArgs {
    /// Remove every image no other image depends on, not only dangling ones.
    #[arg(short, long)]
    all: bool,
    /// Do not ask (there is nothing to ask: kept for Docker's flag).
    #[arg(short, long)]
    force: bool,
}

/// Runs `prune`.
pub(crate) fn prune(args: PruneArgs, global: &Global) -> Result<()> {
    let _ = args.force;
    let service = global.open()?;
    let removed = service.prune(!args.all)?;
    let mut text = String::new();
    if !removed.is_empty() {
        text.push_str("Deleted Images:\n");
        for line in &removed {
            text.push_str(&format!("{}\n", lowercase_kind(&line.to_string())));
        }
    }
    crate::output::print(&text)?;
    Ok(())
}

/// Docker prints `untagged: …` and `deleted: …` under `Deleted Images:`.
fn lowercase_kind(line: &str) -> String {
    match line.split_once(": ") {
        Some((kind, rest)) => format!("{}: {rest}", kind.to_lowercase()),
        None => line.to_owned(),
    }
}

/// Runs `fsck`: re-hashes every config, layer and manifest; exit status 1 when anything is
/// damaged.
pub(crate) fn fsck(global: &Global) -> Result<()> {
    let service = global.open()?;
    let damage = service.verify()?;
    if damage.is_empty() {
        crate::output::print("ok: every image config, layer and manifest matches its digest\n")?;
        return Ok(());
    }
    let text: String = damage.iter().map(|d| format!("damaged: {d}\n")).collect();
    crate::output::print(&text)?;
    Err(format!("{} damaged object(s)", damage.len()).into())
}
