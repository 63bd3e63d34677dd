//! Benchmark input: a large file of pseudo-random bytes, made once and kept in the target
//! directory.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::Result;
use crate::cmd;

/// Bytes generated and written at a time, so the file is never held in memory.
const CHUNK: usize = 1 << 20;

/// Fixed seed: every machine benchmarks the same bytes.
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// Creates `path` holding `size` pseudo-random bytes unless a file of that size is already
/// there.
///
/// The bytes go to a temporary file renamed into place at the end, so an interrupted run
/// leaves no truncated input behind.
pub(crate) fn ensure_random_file(path: &Path, size: u64) -> Result<()> {
    if fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.len() == size) {
        return Ok(());
    }
    cmd::header(&format!(
        "writing {size} pseudo-random bytes to {}",
        path.display()
    ));
    let context =
        |what: &str, err: std::io::Error| format!("could not {what} {}: {err}", path.display());
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|err| context("create the directory for", err))?;
    }
    let partial = path.with_extension("partial");
    let mut file = File::create(&partial).map_err(|err| context("create", err))?;
    let mut rng = XorShift64(SEED);
    let mut buf = vec![0; CHUNK];
    let mut remaining = size;
    while remaining > 0 {
        rng.fill(&mut buf);
        let len = usize::try_from(remaining).map_or(CHUNK, |remaining| remaining.min(CHUNK));
        let chunk = buf.get(..len).unwrap_or(&buf);
        file.write_all(chunk).map_err(|err| context("write", err))?;
        remaining = remaining.saturating_sub(chunk.len() as u64);
    }
    file.sync_all().map_err(|err| context("flush", err))?;
    fs::rename(&partial, path).map_err(|err| context("move the finished file to", err))?;
    Ok(())
}

/// Marsaglia's xorshift64: fast, and random enough that no hash takes a shortcut.
struct XorShift64(u64);

impl XorShift64 {
    /// Returns the next 64 bits.
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Fills `buf` with the next bytes; a tail shorter than 8 bytes gets a partial word.
    fn fill(&mut self, buf: &mut [u8]) {
        let mut words = buf.chunks_exact_mut(8);
        for word in &mut words {
            word.copy_from_slice(&self.next().to_le_bytes());
        }
        let tail = words.into_remainder();
        let bytes = self.next().to_le_bytes();
        for (byte, random) in tail.iter_mut().zip(bytes) {
            *byte = random;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_has_the_requested_size_and_is_kept_when_present() {
        let dir = std::env::temp_dir().join(format!("xtask-input-{}", std::process::id()));
        let path = dir.join("odd.bin");
        let size = 3 * CHUNK as u64 + 13;
        ensure_random_file(&path, size).expect("temp dir is writable");
        let first = fs::read(&path).expect("file was just written");
        assert_eq!(first.len() as u64, size);
        assert!(
            first.iter().any(|byte| *byte != 0),
            "bytes should be random, not zero"
        );

        let modified = fs::metadata(&path)
            .and_then(|meta| meta.modified())
            .expect("mtime");
        ensure_random_file(&path, size).expect("file of the right size is kept");
        let again = fs::metadata(&path)
            .and_then(|meta| meta.modified())
            .expect("mtime");
        assert_eq!(modified, again, "a file of the right size is not rewritten");
        fs::remove_dir_all(&dir).expect("temp dir can be removed");
    }

    #[test]
    fn same_seed_gives_same_bytes() {
        let (mut a, mut b) = ([0; 21], [0; 21]);
        XorShift64(SEED).fill(&mut a);
        XorShift64(SEED).fill(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, [0; 21]);
    }
}
