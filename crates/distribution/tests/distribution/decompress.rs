//! Layer blobs made by the test kit decode to their tars, whatever their compression.

use std::io::Read;

use imgsvc_distribution::decompress::{self, Compression};
use imgsvc_distribution::digest::Digest;
use imgsvc_testkit::fixture::{self, Layer, LayerBuilder, ManifestFormat};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn layer(compression: fixture::Compression) -> Result<Layer, fixture::Error> {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 7 + i / 1000) as u8).collect();
    LayerBuilder::new()
        .dir("etc")
        .file("etc/hostname", b"imgsvc\n")
        .file("usr/lib/big.bin", &big)
        .symlink("usr/lib/link", "big.bin")
        .compression(compression)
        .build()
}

fn decode(
    blob: &[u8],
    hint: Option<Compression>,
    digest: Digest,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut tar = Vec::new();
    decompress::decoder(blob, hint, digest)?
        .read_to_end(&mut tar)
        .map_err(|err| decompress::decompress_error(digest, err))?;
    Ok(tar)
}

#[test]
fn fixture_layers_decode_to_their_diff_ids() -> TestResult {
    for compression in [
        fixture::Compression::None,
        fixture::Compression::Gzip,
        fixture::Compression::Zstd,
    ] {
        let layer = layer(compression)?;
        for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
            let hint = Compression::from_media_type(layer.media_type(format));
            assert!(hint.is_some(), "{}", layer.media_type(format));
            let tar = decode(layer.blob(), hint, layer.digest())?;
            assert_eq!(
                Digest::from_bytes(&tar),
                layer.diff_id(),
                "{compression:?} {format:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_plain_tar_served_as_gzip_still_applies() -> TestResult {
    let layer = layer(fixture::Compression::None)?;
    let hint = Compression::from_media_type(fixture::media_type::OCI_LAYER_GZIP);
    assert_eq!(hint, Some(Compression::Gzip));
    let tar = decode(layer.blob(), hint, layer.digest())?;
    assert_eq!(Digest::from_bytes(&tar), layer.diff_id());
    Ok(())
}

#[test]
fn a_truncated_layer_names_its_digest() -> TestResult {
    let layer = layer(fixture::Compression::Gzip)?;
    let cut = layer
        .blob()
        .get(..layer.blob().len() - 100)
        .unwrap_or_default();
    let err = decode(cut, Some(Compression::Gzip), layer.digest())
        .err()
        .ok_or("a truncated gzip layer must not decode")?;
    let message = err.to_string();
    assert!(message.contains(&layer.digest().to_string()), "{message}");
    assert!(message.contains("could not decompress layer"), "{message}");
    Ok(())
}
