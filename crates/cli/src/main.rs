//! `imgsvc`: a daemonless `docker image`. It opens a Docker-style data root directly (no
//! daemon) and pulls, lists, inspects, tags and deletes images with Docker's flags and
//! Docker's output, and keeps registry logins in the Docker client config.
//!
//! Errors print as one `Error: <message>` line on stderr (with `--debug`, the chain of causes
//! under it) and exit with status 1; usage errors exit with clap's status 2.

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod archive;
mod docker_config;
mod format;
mod history;
mod images;
mod info;
mod inspect;
mod login;
mod maintenance;
mod output;
mod progress;
mod pull;
mod rmi;
mod root;
mod table;
mod tag;
mod unauthorized;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use imgsvc::{ImageService, Options};

/// What commands return: any error, printed with its causes.
pub(crate) type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "imgsvc",
    version,
    about = "A daemonless `docker image`: pull, list, inspect, tag and remove images"
)]
struct Cli {
    /// The data root (default: $IMGSVC_ROOT; /var/lib/imgsvc as root; else
    /// $XDG_DATA_HOME/imgsvc or ~/.local/share/imgsvc).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,

    /// The storage driver (default: what the root holds, else overlay2 where it works, else
    /// vfs).
    #[arg(long, global = true, value_parser = ["vfs", "overlay2"])]
    driver: Option<String>,

    /// Print the causes of an error too.
    #[arg(long, short = 'D', global = true)]
    debug: bool,

    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Download an image from a registry.
    Pull(pull::Args),
    /// List images.
    Images(images::Args),
    /// Show the low-level information of images, as JSON.
    Inspect(inspect::Args),
    /// Create a tag TARGET that refers to SOURCE.
    Tag(tag::Args),
    /// Remove images.
    Rmi(rmi::Args),
    /// Show the history of an image.
    History(history::Args),
    /// Show the storage driver, the image count and the data root.
    Info,
    /// Log in to a registry.
    Login(login::Args),
    /// Log out from a registry.
    Logout(login::LogoutArgs),
    /// Write images to a `docker save` tar.
    Save(archive::SaveArgs),
    /// Load images from a `docker save` tar.
    Load(archive::LoadArgs),
    /// Materialize an image's root filesystem in a directory.
    Unpack(maintenance::UnpackArgs),
    /// Remove unused images.
    Prune(maintenance::PruneArgs),
    /// Check every stored config, layer and manifest against its digest.
    Fsck,
}

/// Errors already printed by the command (one per failed operand); only the exit status is
/// left to set.
#[derive(Debug)]
pub(crate) struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("errors were reported above")
    }
}

impl std::error::Error for Reported {}

/// The options every command shares.
#[derive(Debug)]
pub(crate) struct Global {
    root: Option<PathBuf>,
    driver: Option<String>,
    /// Print causes of errors.
    pub(crate) debug: bool,
}

/// Opening the data root
impl Global {
    /// Opens the image service over the chosen root and driver.
    pub(crate) fn open(&self) -> Result<ImageService> {
        let root = match &self.root {
            Some(root) => root.clone(),
            None => root::default_root()?,
        };
        let mut options = Options::default();
        options.driver = self.driver.clone();
        Ok(ImageService::open(root, options)?)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = Global {
        root: cli.root,
        driver: cli.driver,
        debug: cli.debug,
    };
    match run(cli.command, &global) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if !err.is::<Reported>() {
                output::print_error(err.as_ref(), global.debug);
            }
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, global: &Global) -> Result<()> {
    match command {
        Command::Pull(args) => pull::run(args, global),
        Command::Images(args) => images::run(args, global),
        Command::Inspect(args) => inspect::run(args, global),
        Command::Tag(args) => tag::run(args, global),
        Command::Rmi(args) => rmi::run(args, global),
        Command::History(args) => history::run(args, global),
        Command::Info => info::run(global),
        Command::Login(args) => login::run(args),
        Command::Logout(args) => login::logout(args),
        Command::Save(args) => archive::save(args, global),
        Command::Load(args) => archive::load(args, global),
        Command::Unpack(args) => maintenance::unpack(args, global),
        Command::Prune(args) => maintenance::prune(args, global),
        Command::Fsck => maintenance::fsck(global),
    }
}

/// A tokio runtime for the commands that talk to registries.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
