//! Opening a store from disk (SPEC.md §3, restore): references re-taken, children rebuilt,
//! damaged images skipped and reported, never served.

use imgsvc_imagestore::layerstore::ChainId;
use imgsvc_imagestore::{Error, FsBackend, ImageStore, StoreBackend};

use crate::support::{
    FakeLayers, TestResult, config, config_with_layers, diff_id, fixture, fs_store, imagedb,
};

#[test]
fn open_retakes_one_reference_per_image() -> TestResult {
    let dir = tempfile::tempdir()?;
    let shared = ChainId::of(&[diff_id(1)]).expect("one layer");
    let alone = ChainId::of(&[diff_id(1), diff_id(2)]).expect("two layers");
    let unused = ChainId::of(&[diff_id(9)]).expect("one layer");
    {
        let store = fs_store(dir.path(), FakeLayers::with(&[shared, alone]));
        store.create(&config_with_layers("a", &[diff_id(1)]))?;
        store.create(&config_with_layers("b", &[diff_id(1)]))?;
        store.create(&config_with_layers("c", &[diff_id(1), diff_id(2)]))?;
        store.create(&config("no layers"))?;
    }
    // A layer store that starts every layer at zero references, as Docker's does.
    let store = fs_store(dir.path(), FakeLayers::with(&[shared, alone, unused]));
    assert_eq!(store.len()?, 4);
    assert_eq!(store.layers().references(shared), Some(2));
    assert_eq!(store.layers().references(alone), Some(1));
    assert_eq!(
        store.layers().references(unused),
        Some(0),
        "no image holds it"
    );
    Ok(())
}

#[test]
fn open_rebuilds_children_from_parent_metadata() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (a, b, c) = {
        let store = fs_store(dir.path(), FakeLayers::default());
        let a = store.create(&config("a"))?;
        let b = store.create(&config("b"))?;
        let c = store.create(&config("c"))?;
        store.set_parent(b, a)?;
        store.set_parent(c, a)?;
        (a, b, c)
    };
    let store = fs_store(dir.path(), FakeLayers::default());
    let mut children = vec![b, c];
    children.sort();
    assert_eq!(store.children(a)?, children);
    assert_eq!(store.heads()?, children);
    assert_eq!(store.get(b)?.parent(), Some(a));
    Ok(())
}

#[test]
fn a_config_truncated_by_a_crash_is_reported_not_served() -> TestResult {
    let dir = tempfile::tempdir()?;
    let raw = fixture("docker-hello-world.json");
    let good = config("good");
    let hello_chain = imgsvc_imagestore::Image::parse(&raw)?
        .chain_id()
        .expect("one layer");
    let (damaged, kept) = {
        let store = fs_store(dir.path(), FakeLayers::with(&[hello_chain]));
        (store.create(&raw)?, store.create(&good)?)
    };
    let backend = FsBackend::open(imagedb(dir.path()))?;
    let path = backend.content_path(damaged);
    std::fs::write(&path, &raw[..raw.len() / 2])?;

    let (store, skipped) = ImageStore::open_report(backend, FakeLayers::with(&[hello_chain]))?;
    assert_eq!(store.len()?, 1, "the good image loads");
    assert_eq!(
        store.layers().references(hello_chain),
        Some(0),
        "no reference for it"
    );
    assert!(store.contains(kept)?);
    assert_eq!(skipped.len(), 1);
    let (id, err) = &skipped[0];
    assert_eq!(*id, damaged);
    assert!(matches!(err, Error::Corrupted { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    // Not served: not found by prefix, and reading it reports the damage.
    assert!(matches!(
        store.search(&damaged.digest().short()),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(store.get(damaged), Err(Error::Corrupted { .. })));
    assert!(path.exists(), "skipped images stay on disk");
    Ok(())
}

#[test]
fn unloadable_images_are_skipped_with_their_reasons() -> TestResult {
    let dir = tempfile::tempdir()?;
    let backend = FsBackend::open(imagedb(dir.path()))?;
    let not_json = backend.set(b"{\"rootfs\":")?;
    let no_rootfs = backend.set(b"{\"os\":\"linux\"}")?;
    let missing_layer = backend.set(&config_with_layers("m", &[diff_id(5)]))?;
    let windows = backend.set(&fixture("windows-servercore.json"))?;
    let fine = backend.set(&fixture("oci-buildkit-app.json"))?;
    let parent_damaged = backend.set(&config("p"))?;
    backend.set_metadata(parent_damaged, "parent", b"sha256:short")?;

    let oci = imgsvc_imagestore::Image::parse(&fixture("oci-buildkit-app.json"))?;
    let oci_chain = oci.chain_id().expect("layers");
    let windows_chain = imgsvc_imagestore::Image::parse(&fixture("windows-servercore.json"))?
        .chain_id()
        .expect("layers");
    let layers = FakeLayers::with(&[oci_chain, windows_chain]);
    let (store, skipped) = ImageStore::open_report(backend, layers)?;

    let reasons: Vec<_> = skipped.iter().map(|(id, err)| (*id, err)).collect();
    let reason = |id| {
        reasons
            .iter()
            .find(|(skipped, _)| *skipped == id)
            .map(|(_, err)| err.to_string())
            .unwrap_or_else(|| panic!("{id} was not reported"))
    };
    assert!(reason(not_json).contains("invalid image config"));
    assert!(reason(no_rootfs).contains("no RootFS key"));
    assert!(reason(missing_layer).contains("layer does not exist"));
    assert!(reason(windows).contains("operating system is not supported"));
    assert!(reason(parent_damaged).contains("invalid \"parent\" metadata"));
    assert_eq!(skipped.len(), 5);

    // The loadable images are there (the one with a damaged parent, parentless); the others
    // are not, and hold no layer reference.
    assert_eq!(store.ids()?.len(), 2);
    assert!(store.contains(fine)? && store.contains(parent_damaged)?);
    assert_eq!(store.layers().references(oci_chain), Some(1));
    assert_eq!(store.layers().references(windows_chain), Some(0));
    Ok(())
}

#[test]
fn an_empty_store_opens_and_creates_its_directories() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = fs_store(dir.path(), FakeLayers::default());
    assert!(store.is_empty()?);
    assert!(imagedb(dir.path()).join("content/sha256").is_dir());
    assert!(imagedb(dir.path()).join("metadata/sha256").is_dir());
    Ok(())
}

#[test]
fn a_large_store_loads_on_every_core_with_the_same_result() -> TestResult {
    // Enough images to take the parallel path; written directly, in Docker's layout.
    let dir = tempfile::tempdir()?;
    let imagedb = imagedb(dir.path());
    let backend = FsBackend::open(&imagedb)?;
    let chain = ChainId::of(&[diff_id(7)]).expect("one layer");
    let mut ids = Vec::new();
    for i in 0..1500 {
        let raw = if i % 2 == 0 {
            config_with_layers(&format!("big{i}"), &[diff_id(7)])
        } else {
            config(&format!("big{i}"))
        };
        let id = imgsvc_imagestore::ImageId::of(&raw);
        std::fs::write(backend.content_path(id), &raw)?;
        if let Some(&parent) = ids.last().filter(|_| i % 3 == 0) {
            let meta = backend.metadata_dir(id);
            std::fs::create_dir_all(&meta)?;
            std::fs::write(meta.join("parent"), format!("{parent}"))?;
        }
        ids.push(id);
    }
    // One damaged file among them.
    std::fs::write(backend.content_path(ids[1000]), b"{")?;

    let (store, skipped) = ImageStore::open_report(backend, FakeLayers::with(&[chain]))?;
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].0, ids[1000]);
    assert_eq!(store.len()?, 1499);
    assert_eq!(
        store.layers().references(chain),
        Some(749),
        "one per image with the layer"
    );
    assert_eq!(store.children(ids[2])?, [ids[3]]);
    for id in &ids[..10] {
        assert_eq!(store.search(&id.digest().short())?, *id);
    }
    Ok(())
}
