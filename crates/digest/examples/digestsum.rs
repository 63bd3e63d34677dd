//! `digestsum`: prints the digest of files or standard input, like `sha256sum` but in digest
//! form (`sha256:<hex>  <path>`).
//!
//! ```text
//! cargo run --release -p imgsvc-digest --example digestsum -- [-a sha256|sha384|sha512] [FILE|-]...
//! ```
//!
//! With no file, or `-`, it reads standard input. A file that cannot be read is reported on
//! standard error and the exit status is 1; the other files are still hashed.

use std::fs::File;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use imgsvc_digest::{Algorithm, Digest, Digester};

/// Bytes read per call: large enough that system calls vanish next to hashing.
const BUFFER: usize = 1 << 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (algorithm, paths) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("digestsum: {message}");
            eprintln!("usage: digestsum [-a sha256|sha384|sha512] [FILE|-]...");
            return ExitCode::from(2);
        }
    };

    let mut buffer = vec![0u8; BUFFER];
    let mut stdout = io::stdout().lock();
    let mut failed = false;
    for path in &paths {
        match hash_path(algorithm, path, &mut buffer) {
            Ok(digest) => {
                if writeln!(stdout, "{digest}  {path}").is_err() {
                    return ExitCode::FAILURE;
                }
            }
            Err(err) => {
                eprintln!("digestsum: {path}: {err}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Splits the arguments into the algorithm (`-a NAME`, default sha256) and the paths.
fn parse_args(args: &[String]) -> Result<(Algorithm, Vec<String>), String> {
    let mut algorithm = Algorithm::CANONICAL;
    let mut paths = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-a" | "--algorithm" => {
                let name = args.next().ok_or("-a needs an algorithm name")?;
                algorithm = name.parse().map_err(|err| format!("{err}"))?;
            }
            "-h" | "--help" => return Err("prints `algorithm:hex  path` for each file".into()),
            _ => paths.push(arg.clone()),
        }
    }
    if paths.is_empty() {
        paths.push("-".into());
    }
    Ok((algorithm, paths))
}

/// The digest of one file, or of standard input for `-`.
fn hash_path(algorithm: Algorithm, path: &str, buffer: &mut [u8]) -> io::Result<Digest> {
    if path == "-" {
        hash_stream(algorithm, io::stdin().lock(), buffer)
    } else {
        hash_stream(algorithm, File::open(path)?, buffer)
    }
}

/// Streams `reader` through a digester with one reusable buffer.
fn hash_stream(
    algorithm: Algorithm,
    mut reader: impl Read,
    buffer: &mut [u8],
) -> io::Result<Digest> {
    let mut digester = Digester::new(algorithm);
    loop {
        match reader.read(buffer) {
            Ok(0) => return Ok(digester.finish()),
            Ok(n) => digester.update(buffer.get(..n).unwrap_or_default()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}
