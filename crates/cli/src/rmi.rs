//! `imgsvc rmi`: untag and delete images, with Docker's conflict rules.

use crate::{Global, Reported, Result};

/// `rmi [OPTIONS] IMAGE...`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Force removal of the image (references in several repositories, a stopped user).
    #[arg(short, long)]
    force: bool,
    /// Do not delete untagged parents.
    #[arg(long)]
    no_prune: bool,
    /// Images, by reference, ID or unique ID prefix.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

/// Runs `rmi`: every image is tried; each failure is an error line, and any makes the exit
/// status 1.
pub(crate) fn run(args: Args, global: &Global) -> Result<()> {
    let service = global.open()?;
    let mut failed = false;
    for image in &args.images {
        match service.delete_image(image, args.force, !args.no_prune) {
            Ok(removed) => {
                let text: String = removed.iter().map(|r| format!("{r}\n")).collect();
                crate::output::print(&text)?;
            }
            Err(err) => {
                crate::output::print_error(&err, global.debug);
                failed = true;
            }
        }
    }
    if failed { Err(Reported.into()) } else { Ok(()) }
}
