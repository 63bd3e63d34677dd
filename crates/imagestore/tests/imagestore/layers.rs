//! The image store over the real layer store (vfs driver): layer references taken at create,
//! re-taken at open, and given back at delete.

use std::path::Path;
use std::sync::Arc;

use imgsvc_imagestore::layerstore::driver::Vfs;
use imgsvc_imagestore::layerstore::{ChainId, DiffId, LayerStore};
use imgsvc_imagestore::{Error, FsBackend, ImageStore};

use crate::support::{TestResult, imagedb};

/// A one-file layer tar.
fn layer_tar(name: &str, body: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, name, body)
        .expect("appending to a tar in memory");
    builder.into_inner().expect("finishing a tar in memory")
}

fn open_layers(root: &Path) -> Arc<LayerStore> {
    let driver = Vfs::open(root.join("vfs")).expect("the vfs driver opens");
    Arc::new(LayerStore::open(root.join("image/vfs/layerdb"), Box::new(driver)).expect("opens"))
}

fn open_images(root: &Path, layers: Arc<LayerStore>) -> ImageStore<FsBackend, Arc<LayerStore>> {
    let backend = FsBackend::open(imagedb(root)).expect("the backend opens");
    ImageStore::open(backend, layers).expect("the image store opens")
}

fn config(diff_ids: &[DiffId]) -> Vec<u8> {
    let ids: Vec<String> = diff_ids.iter().map(|d| format!("\"{d}\"")).collect();
    let history: Vec<String> = (0..diff_ids.len())
        .map(|i| format!(r#"{{"created_by":"ADD layer{i} /"}}"#))
        .collect();
    format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}},"history":[{},{{"created_by":"CMD [\"/app/run\"]","empty_layer":true}}]}}"#,
        ids.join(","),
        history.join(",")
    )
    .into_bytes()
}

#[test]
fn references_are_retaken_at_open_and_released_at_delete() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    let (image, top, base, stray) = {
        let layers = open_layers(root);
        let base = layers.register(&layer_tar("etc/os-release", b"ID=test\n")[..], None)?;
        let top = layers.register(
            &layer_tar("app/run", b"#!/bin/sh\n")[..],
            Some(base.chain_id()),
        )?;
        let stray = layers.register(&layer_tar("stray", b"held by nothing\n")[..], None)?;
        let images = open_images(root, Arc::clone(&layers));
        let image = images.create(&config(&[base.diff_id(), top.diff_id()]))?;
        assert_eq!(images.get(image)?.chain_id(), Some(top.chain_id()));
        let ids = (image, top.chain_id(), base.chain_id(), stray.chain_id());
        // The image holds the chain now; the registration's own references go, as after a pull.
        assert!(layers.release(top)?.is_empty());
        assert!(layers.release(base)?.is_empty());
        // `stray`'s handle is never given back: it is referenced in this process only, and
        // on disk nothing holds it.
        ids
    };

    // A fresh layer store starts every layer unreferenced; the image store re-takes its own.
    let layers = open_layers(root);
    let images = open_images(root, Arc::clone(&layers));
    assert_eq!(images.len()?, 1);

    // The stray layer is not held: one reference and one release remove it.
    let probe = layers.get(stray)?;
    let removed = layers.release(probe)?;
    assert_eq!(
        removed.iter().map(|m| m.chain_id).collect::<Vec<_>>(),
        [stray]
    );

    // The image's chain is held: a probe's release removes nothing.
    let probe = layers.get(top)?;
    assert!(layers.release(probe)?.is_empty());

    // Deleting the image releases its reference, and the whole chain goes, child first.
    let removed = images.delete(image)?;
    assert_eq!(
        removed.iter().map(|m| m.chain_id).collect::<Vec<ChainId>>(),
        [top, base]
    );
    assert!(layers.map().is_empty());
    Ok(())
}

#[test]
fn an_unregistered_chain_is_refused_by_the_real_layer_store() -> TestResult {
    let dir = tempfile::tempdir()?;
    let layers = open_layers(dir.path());
    let images = open_images(dir.path(), Arc::clone(&layers));
    let missing = DiffId::new(imgsvc_imagestore::digest::Digest::from_bytes(
        b"no such layer",
    ));
    let err = images
        .create(&config(&[missing, missing]))
        .expect_err("no layer is registered");
    assert!(matches!(err, Error::LayerNotRegistered { .. }), "{err:?}");
    assert_eq!(images.len()?, 0);
    Ok(())
}

#[test]
fn an_image_whose_layers_vanished_is_skipped_at_open() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    let image = {
        let layers = open_layers(root);
        let layer = layers.register(&layer_tar("f", b"x")[..], None)?;
        let images = open_images(root, Arc::clone(&layers));
        let image = images.create(&config(&[layer.diff_id()]))?;
        let chain = layer.chain_id();
        layers.release(layer)?;
        drop(images);
        // Another layer store, on which no image store holds anything, removes the layer.
        let other = open_layers(root);
        let probe = other.get(chain)?;
        assert_eq!(other.release(probe)?.len(), 1);
        image
    };
    let layers = open_layers(root);
    let backend = FsBackend::open(imagedb(root))?;
    let (images, skipped) = ImageStore::open_report(backend, Arc::clone(&layers))?;
    assert_eq!(images.len()?, 0);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].0, image);
    assert!(matches!(skipped[0].1, Error::LayerNotRegistered { .. }));
    Ok(())
}
