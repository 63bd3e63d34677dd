//! `imgsvc save` and `imgsvc load`: images as a `docker save` tar (with an OCI layout
//! inside), to and from files or pipes.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;

use imgsvc::distribution::progress::Progress;

use crate::progress::Bars;

use crate::{Global, Result};

/// `save [-o FILE] IMAGE...`.
#[derive(Debug, clap::Args)]
pub(crate) struct SaveArgs {
    /// Write to a file (written whole, then renamed into place) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Images, by reference, ID or unique ID prefix.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

/// Runs `save`.
pub(crate) fn save(args: SaveArgs, global: &Global) -> Result<()> {
    let service = global.open()?;
    let refs: Vec<&str> = args.images.iter().map(String::as_str).collect();
    match args.output {
        Some(path) => {
            let partial = path.with_extension("partial");
            let file = std::fs::File::create(&partial)?;
            let saved = service
                .save(&refs, std::io::BufWriter::new(&file))
                .and_then(|()| {
                    file.sync_all().map_err(|source| imgsvc::Error::Io {
                        action: "sync",
                        path: partial.clone(),
                        source,
                    })
                });
            if let Err(err) = saved {
                let _ = std::fs::remove_file(&partial);
                return Err(err.into());
            }
            std::fs::rename(&partial, &path)?;
            Ok(())
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                return Err(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect".into(),
                );
            }
            Ok(service.save(&refs, std::io::BufWriter::new(stdout.lock()))?)
        }
    }
}

/// `load [-i FILE] [-q]`.
#[derive(Debug, clap::Args)]
pub(crate) struct LoadArgs {
    /// Read from a file, or an OCI layout directory, instead of stdin.
    #[arg(short, long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Print nothing.
    #[arg(short, long)]
    quiet: bool,
}

/// Runs `load`: `Loading layer` bars on a terminal (Docker's), nothing else otherwise.
pub(crate) fn load(args: LoadArgs, global: &Global) -> Result<()> {
    let service = global.open()?;
    let bars = (!args.quiet && std::io::stdout().is_terminal()).then(|| Arc::new(Bars::new()));
    let progress: Arc<dyn Progress> = match &bars {
        Some(bars) => Arc::clone(bars) as Arc<dyn Progress>,
        None => Arc::new(()),
    };
    let loaded = match args.input {
        Some(path) if path.is_dir() => service.load_layout_with(&path, &progress),
        Some(path) => service.load_with(
            std::io::BufReader::new(std::fs::File::open(&path)?),
            &progress,
        ),
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err("requested load from stdin, but stdin is empty".into());
            }
            service.load_with(stdin.lock(), &progress)
        }
    };
    if let Some(bars) = &bars {
        bars.finish();
    }
    let loaded = loaded?;
    if !args.quiet {
        let text: String = loaded.iter().map(|l| format!("{l}\n")).collect();
        crate::output::print(&text)?;
    }
    Ok(())
}
