//! Registering in two steps (overlay2): layers extracted in parallel before their parents
//! exist, committed in chain order, give the same layers as registering one by one.

use std::io::Read;

use imgsvc_layerstore::{ChainId, DiffId, Error};

use crate::support::{Fixture, Kind, driver_tests, tar_of};

fn digest(tar: &[u8]) -> DiffId {
    DiffId::new(imgsvc_digest::Digest::from_bytes(tar))
}

fn prepared_layers_commit_in_order(fx: Fixture) {
    let store = &fx.store;
    let tars = [
        tar_of(&[
            ("etc/", ""),
            ("etc/hostname", "base\n"),
            ("etc/motd", "hi\n"),
        ]),
        tar_of(&[("usr/", ""), ("usr/app", "app\n")]),
        tar_of(&[("etc/", ""), ("etc/motd", "changed\n")]),
    ];
    if !store.supports_prepare() {
        assert_eq!(fx.kind, Kind::Vfs);
        assert!(matches!(
            store.prepare(&tars[0][..], None),
            Err(Error::Unsupported { .. })
        ));
        return;
    }
    // Extract all three at once, the top first, none knowing its parent.
    let prepared: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = tars
            .iter()
            .rev()
            .map(|tar| scope.spawn(move || store.prepare(&tar[..], Some(digest(tar)))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .expect("the thread ends")
                    .expect("the layer prepares")
            })
            .collect()
    });
    let mut parent: Option<ChainId> = None;
    let mut layers = Vec::new();
    for prepared in prepared.into_iter().rev() {
        let layer = store
            .commit_prepared(prepared, parent)
            .expect("the layer commits");
        parent = Some(layer.chain_id());
        layers.push(layer);
    }
    let diff_ids: Vec<DiffId> = tars.iter().map(|t| digest(t)).collect();
    assert_eq!(parent, ChainId::of(&diff_ids));
    for (layer, tar) in layers.iter().zip(&tars) {
        let mut out = Vec::new();
        store
            .tar_stream(layer)
            .expect("a tar stream")
            .read_to_end(&mut out)
            .expect("the stream reads");
        assert_eq!(&out, tar, "the exact tar comes back");
    }
    fx.with_tree(layers.last().expect("three layers"), |root| {
        assert_eq!(
            std::fs::read(root.join("etc/motd")).expect("motd"),
            b"changed\n"
        );
        assert_eq!(
            std::fs::read(root.join("etc/hostname")).expect("hostname"),
            b"base\n"
        );
        assert_eq!(std::fs::read(root.join("usr/app")).expect("app"), b"app\n");
    });
    // The same chain registered again from a prepared copy: the existing layer, no new dir.
    let dirs = fx.driver_dirs().len();
    let again = store.prepare(&tars[0][..], None).expect("prepares");
    let existing = store.commit_prepared(again, None).expect("commits");
    assert_eq!(existing.chain_id(), layers[0].chain_id());
    assert_eq!(
        fx.driver_dirs().len(),
        dirs,
        "the duplicate's files are gone"
    );
    for layer in layers.into_iter().chain([existing]) {
        store.release(layer).expect("released");
    }
}

fn dropped_or_wrong_prepared_layers_leave_nothing(fx: Fixture) {
    let store = &fx.store;
    if !store.supports_prepare() {
        return;
    }
    let tar = tar_of(&[("a", "1")]);
    drop(store.prepare(&tar[..], None).expect("prepares"));
    assert!(fx.driver_dirs().is_empty(), "{:?}", fx.driver_dirs());
    let wrong = digest(b"something else");
    assert!(matches!(
        store.prepare(&tar[..], Some(wrong)),
        Err(Error::DiffIdMismatch { .. })
    ));
    assert!(fx.driver_dirs().is_empty());
    // A parent that does not exist: refused, nothing kept.
    let prepared = store.prepare(&tar[..], None).expect("prepares");
    let missing = ChainId::new(imgsvc_digest::Digest::from_bytes(b"no such layer"));
    assert!(store.commit_prepared(prepared, Some(missing)).is_err());
    assert!(fx.driver_dirs().is_empty());
    assert!(store.map().is_empty());
}

driver_tests!(
    prepared_layers_commit_in_order,
    dropped_or_wrong_prepared_layers_leave_nothing
);
