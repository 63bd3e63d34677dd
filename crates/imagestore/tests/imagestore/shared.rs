//! Sharing: many threads on one store, and several stores (as several processes would) on
//! one root.

use std::collections::BTreeSet;

use imgsvc_imagestore::{Error, ImageId, StoreBackend};

use crate::support::{FakeLayers, TestResult, config, fs_store};

#[test]
fn many_threads_create_and_search_at_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = fs_store(dir.path(), FakeLayers::default());
    let ids: Vec<ImageId> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let store = &store;
                scope.spawn(move || {
                    (0..25)
                        .map(|i| {
                            let id = store.create(&config(&format!("t{t}-{i}")))?;
                            assert_eq!(store.search(&id.to_string())?, id);
                            Ok(id)
                        })
                        .collect::<Result<Vec<_>, Error>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker does not panic"))
            .collect::<Result<Vec<Vec<_>>, Error>>()
            .map(|all| all.into_iter().flatten().collect())
    })?;
    assert_eq!(store.len()?, 100);
    let reopened = fs_store(dir.path(), FakeLayers::default());
    assert_eq!(
        reopened.ids()?.into_iter().collect::<BTreeSet<_>>(),
        ids.into_iter().collect::<BTreeSet<_>>()
    );
    Ok(())
}

#[test]
fn two_stores_on_one_root_see_each_others_changes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let a = fs_store(dir.path(), FakeLayers::default());
    let b = fs_store(dir.path(), FakeLayers::default());

    let base = a.create(&config("base"))?;
    assert_eq!(b.search(&base.digest().short())?, base, "b sees a's image");
    let child = b.create(&config("child"))?;
    b.set_parent(child, base)?;
    assert_eq!(a.children(base)?, [child], "a sees b's parent");
    assert_eq!(a.heads()?, [child]);

    assert!(a.delete(base)?.is_empty());
    assert!(matches!(
        b.search(&base.to_string()),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(b.try_get_parent(child)?, None);
    assert_eq!(b.len()?, 1);
    Ok(())
}

#[test]
fn a_store_releases_layers_of_images_another_store_deleted() -> TestResult {
    let dir = tempfile::tempdir()?;
    let chain = imgsvc_imagestore::layerstore::ChainId::of(&[crate::support::diff_id(1)])
        .expect("one layer");
    let a = fs_store(dir.path(), FakeLayers::with(&[chain]));
    let b = fs_store(dir.path(), FakeLayers::with(&[chain]));
    let image = a.create(&crate::support::config_with_layers(
        "x",
        &[crate::support::diff_id(1)],
    ))?;
    assert!(b.contains(image)?);
    assert_eq!(
        b.layers().references(chain),
        Some(1),
        "b took its reference"
    );
    a.delete(image)?;
    assert!(!b.contains(image)?);
    assert_eq!(
        b.layers().references(chain),
        None,
        "b gave its reference back"
    );
    Ok(())
}

#[test]
fn concurrent_stores_never_corrupt_metadata_or_miss_changes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = fs_store(dir.path(), FakeLayers::default());
    let base = root.create(&config("root"))?;
    let stores = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..3)
            .map(|t| {
                let path = dir.path();
                scope.spawn(move || {
                    // Each thread has its own store, with its own lock file handle: as a
                    // process would.
                    let store = fs_store(path, FakeLayers::default());
                    let mut previous = base;
                    for i in 0..20 {
                        let id = store
                            .create(&config(&format!("s{t}-{i}")))
                            .expect("created");
                        store.set_parent(id, previous).expect("parent set");
                        store.set_last_updated(id).expect("time set");
                        if i % 5 == 4 {
                            store.delete(previous).expect("deleted");
                        }
                        previous = id;
                    }
                    store
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker does not panic"))
            .collect::<Vec<_>>()
    });
    // A fresh store, the first one and every writer agree on what is there.
    let fresh = fs_store(dir.path(), FakeLayers::default());
    assert_eq!(fresh.ids()?, root.ids()?);
    assert_eq!(fresh.heads()?, root.heads()?);
    for store in &stores {
        assert_eq!(
            store.ids()?,
            fresh.ids()?,
            "a writer missed another's change"
        );
        assert_eq!(store.heads()?, fresh.heads()?);
    }
    // Every parent value is an image in the store, and every value reads back.
    for id in fresh.ids()? {
        if let Some(parent) = fresh.try_get_parent(id)? {
            assert!(
                fresh.contains(parent)?,
                "{id}'s parent {parent} is in the store"
            );
            assert!(fresh.children(parent)?.contains(&id));
        }
        // Every image but the first was given a time.
        assert_eq!(fresh.get_last_updated(id)?.is_some(), id != base);
        fresh.backend().get(id)?;
    }
    Ok(())
}
