use std::io::{self, Read, Write};

use imgsvc_digest::Digest;

use super::{Compression, decoder};
use crate::Error;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn sample(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i / 4096) as u8)
        .collect()
}

fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data)?;
    encoder.finish()
}

fn zstd(data: &[u8]) -> io::Result<Vec<u8>> {
    zstd::stream::encode_all(data, 1)
}

fn decode(blob: &[u8], hint: Option<Compression>) -> Result<Vec<u8>, Error> {
    let digest = Digest::from_bytes(blob);
    let mut out = Vec::new();
    decoder(blob, hint, digest)?
        .read_to_end(&mut out)
        .map_err(|err| super::decompress_error(digest, err))?;
    Ok(out)
}

/// Hands out one byte per read, to show that detection copes with short reads.
struct OneByte<'a>(&'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((byte, rest)), Some(slot)) => {
                *slot = *byte;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn every_supported_compression_round_trips() -> TestResult {
    let data = sample(300_000);
    let blobs = [
        (Compression::None, data.clone()),
        (Compression::Gzip, gzip(&data)?),
        (Compression::Zstd, zstd(&data)?),
    ];
    for (compression, blob) in blobs {
        assert_eq!(Compression::detect(&blob), compression);
        assert_eq!(decode(&blob, Some(compression))?, data, "{compression}");
        assert_eq!(decode(&blob, None)?, data, "{compression} without a hint");
    }
    Ok(())
}

#[test]
fn gzip_members_are_read_one_after_the_other() -> TestResult {
    let (a, b, c) = (sample(70_000), b"second member".to_vec(), sample(10));
    let blob = [gzip(&a)?, gzip(&b)?, gzip(&c)?].concat();
    assert_eq!(decode(&blob, Some(Compression::Gzip))?, [a, b, c].concat());
    Ok(())
}

#[test]
fn zstd_frames_and_skippable_frames_are_read_in_order() -> TestResult {
    let (a, b) = (sample(70_000), b"second frame".to_vec());
    let skippable = [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
    let blob = [zstd(&a)?, skippable.to_vec(), zstd(&b)?].concat();
    assert_eq!(
        decode(&blob, Some(Compression::Zstd))?,
        [a.clone(), b.clone()].concat()
    );
    let leading_skippable = [skippable.to_vec(), zstd(&b)?].concat();
    assert_eq!(decode(&leading_skippable, None)?, b);
    Ok(())
}

#[test]
fn the_bytes_win_over_the_media_type() -> TestResult {
    let tar = sample(5_000);
    assert_eq!(
        decode(&tar, Some(Compression::Gzip))?,
        tar,
        "labelled gzip, plain tar"
    );
    assert_eq!(
        decode(&tar, Some(Compression::Zstd))?,
        tar,
        "labelled zstd, plain tar"
    );
    assert_eq!(
        decode(&gzip(&tar)?, Some(Compression::None))?,
        tar,
        "labelled tar, gzip"
    );
    assert_eq!(
        decode(&zstd(&tar)?, Some(Compression::Gzip))?,
        tar,
        "labelled gzip, zstd"
    );
    Ok(())
}

#[test]
fn short_reads_do_not_hide_the_magic_number() -> TestResult {
    let data = sample(1_000);
    for blob in [gzip(&data)?, zstd(&data)?, data.clone()] {
        let mut out = Vec::new();
        decoder(OneByte(&blob), None, Digest::from_bytes(&blob))?.read_to_end(&mut out)?;
        assert_eq!(out, data);
    }
    Ok(())
}

#[test]
fn streams_shorter_than_a_magic_number_pass_through() -> TestResult {
    for blob in [&b""[..], b"a", &[0x1f, 0x8b], b"BZ"] {
        assert_eq!(decode(blob, Some(Compression::Gzip))?, blob);
    }
    Ok(())
}

#[test]
fn a_truncated_stream_fails_naming_the_layer() -> TestResult {
    let data = sample(200_000);
    for blob in [gzip(&data)?, zstd(&data)?] {
        let cut = blob.get(..blob.len() / 2).unwrap_or_default();
        match decode(cut, None) {
            Err(Error::Decompress { digest, reason }) => {
                assert_eq!(digest, Digest::from_bytes(cut));
                assert!(!reason.is_empty());
            }
            other => panic!("a truncated stream must fail to decompress, got {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn corrupt_gzip_fails() -> TestResult {
    let mut blob = gzip(&sample(100_000))?;
    if let Some(byte) = blob.get_mut(100) {
        *byte ^= 0xff;
    }
    assert!(matches!(decode(&blob, None), Err(Error::Decompress { .. })));
    Ok(())
}

#[test]
fn bzip2_and_xz_are_refused_clearly() {
    let table: [(&[u8], &str); 2] = [
        (b"BZh91AY&SY\0\0\0\0", "bzip2"),
        (&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04], "xz"),
    ];
    for (blob, name) in table {
        let message = match decoder(blob, Some(Compression::Gzip), Digest::from_bytes(blob)) {
            Err(err @ Error::Decompress { .. }) => err.to_string(),
            Err(err) => panic!("{name}: wrong error {err}"),
            Ok(_) => panic!("{name} must be refused"),
        };
        assert!(message.contains(&format!("{name}-compressed")), "{message}");
        assert!(message.contains("media type says gzip"), "{message}");
        assert!(
            message.contains(&Digest::from_bytes(blob).to_string()),
            "{message}"
        );
    }
}

#[test]
fn a_first_read_error_is_a_decompress_error() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let digest = Digest::from_bytes(b"");
    match decoder(Broken, None, digest) {
        Err(Error::Decompress { reason, .. }) => assert!(reason.contains("disk on fire")),
        Err(err) => panic!("wrong error {err}"),
        Ok(_) => panic!("a broken reader cannot be decoded"),
    }
}

#[test]
fn large_streams_decode_without_holding_them() -> TestResult {
    // 64 MiB of zeros compressed on the fly: neither side is ever held whole.
    const LEN: u64 = 64 << 20;
    let blob = flate2::read::GzEncoder::new(io::repeat(0).take(LEN), flate2::Compression::fast());
    let mut decoded = decoder(blob, Some(Compression::Gzip), Digest::from_bytes(b""))?;
    assert_eq!(io::copy(&mut decoded, &mut io::sink())?, LEN);
    Ok(())
}
