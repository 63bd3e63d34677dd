//! `layer`: registers a layer tar into a layer store, or writes a layer's tar back out.
//!
//! ```text
//! cargo run --release -p imgsvc-layerstore --example layer -- register ROOT TAR [vfs|overlay2|auto]
//! cargo run --release -p imgsvc-layerstore --example layer -- tar-stream ROOT CHAIN_ID [vfs|overlay2|auto] > layer.tar
//! ```
//!
//! `ROOT` is a Docker-style data root (the layer database goes to
//! `ROOT/image/<driver>/layerdb`). `register` prints the ChainID and DiffID; `-` reads the tar
//! from standard input.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;

use imgsvc_layerstore::driver::{self, Driver, Overlay2, Vfs};
use imgsvc_layerstore::{ChainId, LayerStore};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("layer: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: layer register ROOT TAR [driver] | layer tar-stream ROOT CHAIN_ID [driver]";
    let [command, root, target, rest @ ..] = args else {
        return Err(usage.into());
    };
    let root = Path::new(root);
    let driver = open_driver(root, rest.first().map_or("auto", String::as_str))?;
    let store = LayerStore::open(
        root.join("image").join(driver.name()).join("layerdb"),
        driver,
    )?;
    match command.as_str() {
        "register" => {
            let input: Box<dyn Read + Send> = if target == "-" {
                Box::new(io::stdin())
            } else {
                Box::new(File::open(target)?)
            };
            let layer = store.register(input, None)?;
            println!("{} {}", layer.chain_id(), layer.diff_id());
            Ok(())
        }
        "tar-stream" => {
            let chain_id: ChainId = target.parse()?;
            let layer = store.get(chain_id)?;
            // Straight to the standard output's descriptor in large writes (the locked
            // stdout handle is line-buffered, which costs a scan for newlines in binary data).
            let stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
            let mut out = io::BufWriter::with_capacity(1 << 20, stdout);
            io::copy(&mut store.tar_stream(&layer)?, &mut out)?;
            out.flush()?;
            // The handle is not released: a layer whose last reference goes is deleted, and
            // this tool only reads.
            Ok(())
        }
        _ => Err(usage.into()),
    }
}

fn open_driver(root: &Path, name: &str) -> Result<Box<dyn Driver>, imgsvc_layerstore::Error> {
    Ok(match name {
        "vfs" => Box::new(Vfs::open(root.join("vfs"))?),
        "overlay2" => Box::new(Overlay2::open(root.join("overlay2"))?),
        _ => driver::open_default(root)?,
    })
}
