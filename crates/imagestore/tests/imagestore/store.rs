//! The image store's operations (SPEC.md §3, image.Store), over the memory backend and a fake
//! layer provider that counts references.

use imgsvc_imagestore::layerstore::ChainId;
use imgsvc_imagestore::{
    Error, ErrorKind, ImageId, ImageStore, MemoryBackend, NoLayers, StoreBackend, Timestamp,
};

use crate::support::{FakeLayers, TestResult, config, config_with_layers, diff_id};

fn store(layers: FakeLayers) -> ImageStore<MemoryBackend, FakeLayers> {
    ImageStore::open(MemoryBackend::new(), layers).expect("an empty store opens")
}

fn chain(n: &[u32]) -> ChainId {
    let ids: Vec<_> = n.iter().map(|&i| diff_id(i)).collect();
    ChainId::of(&ids).expect("at least one layer")
}

mod create {
    use super::*;

    #[test]
    fn takes_a_reference_on_the_layer_chain() -> TestResult {
        let top = chain(&[1, 2]);
        let store = store(FakeLayers::with(&[top]));
        let id = store.create(&config_with_layers("a", &[diff_id(1), diff_id(2)]))?;
        assert_eq!(store.layers().references(top), Some(1));
        assert_eq!(store.len()?, 1);
        assert_eq!(store.get(id)?.chain_id(), Some(top));
        Ok(())
    }

    #[test]
    fn the_same_config_again_takes_no_new_reference() -> TestResult {
        let top = chain(&[1]);
        let store = store(FakeLayers::with(&[top]));
        let raw = config_with_layers("a", &[diff_id(1)]);
        let first = store.create(&raw)?;
        assert_eq!(store.create(&raw)?, first);
        assert_eq!(store.layers().references(top), Some(1));
        assert_eq!(store.len()?, 1);
        Ok(())
    }

    #[test]
    fn images_sharing_a_chain_each_hold_a_reference() -> TestResult {
        let top = chain(&[1]);
        let store = store(FakeLayers::with(&[top]));
        store.create(&config_with_layers("a", &[diff_id(1)]))?;
        store.create(&config_with_layers("b", &[diff_id(1)]))?;
        assert_eq!(store.layers().references(top), Some(2));
        Ok(())
    }

    #[test]
    fn an_unregistered_chain_is_refused_and_nothing_is_stored() -> TestResult {
        let store = store(FakeLayers::default());
        let raw = config_with_layers("a", &[diff_id(1)]);
        let err = store.create(&raw).expect_err("the layer is not registered");
        assert!(matches!(err, Error::LayerNotRegistered { chain_id } if chain_id == chain(&[1])));
        assert_eq!(err.kind(), ErrorKind::InvalidParameter);
        assert!(err.to_string().contains("failed to get layer"), "{err}");
        assert_eq!(store.len()?, 0);
        assert!(
            store.backend().get(ImageId::of(&raw)).is_err(),
            "no orphaned content"
        );
        Ok(())
    }

    #[test]
    fn an_image_without_layers_holds_none() -> TestResult {
        let store = ImageStore::open(MemoryBackend::new(), NoLayers)?;
        let id = store.create(br#"{"rootfs":{}}"#)?;
        assert!(store.delete(id)?.is_empty());
        Ok(())
    }

    #[test]
    fn needs_a_rootfs() -> TestResult {
        let store = store(FakeLayers::default());
        assert!(matches!(store.create(b"{}"), Err(Error::NoRootFs)));
        assert!(matches!(
            store.create(b"{\"rootfs\":null}"),
            Err(Error::NoRootFs)
        ));
        assert!(matches!(
            store.create(b"not json"),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(store.create(b""), Err(Error::EmptyData)));
        assert_eq!(store.len()?, 0);
        Ok(())
    }

    #[test]
    fn refuses_too_many_non_empty_history_entries() -> TestResult {
        let top = chain(&[1]);
        let store = store(FakeLayers::with(&[top]));
        let raw = format!(
            r#"{{"rootfs":{{"type":"layers","diff_ids":["{}"]}},"history":[{{"created_by":"a"}},{{"created_by":"b","empty_layer":true}},{{"created_by":"c"}}]}}"#,
            diff_id(1)
        );
        let err = store
            .create(raw.as_bytes())
            .expect_err("two layers in history, one in rootfs");
        assert!(matches!(
            err,
            Error::TooManyNonEmptyLayers {
                non_empty: 2,
                diff_ids: 1
            }
        ));
        assert_eq!(store.layers().references(top), Some(0));
        Ok(())
    }

    #[test]
    fn refuses_layers_for_another_operating_system() -> TestResult {
        let top = chain(&[1]);
        let store = store(FakeLayers::with(&[top]));
        let raw = format!(
            r#"{{"os":"windows","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
            diff_id(1)
        );
        let err = store
            .create(raw.as_bytes())
            .expect_err("not this system's OS");
        assert!(
            err.to_string()
                .contains("operating system is not supported"),
            "{err}"
        );
        assert_eq!(store.layers().references(top), Some(0));
        // The comparison ignores case, and an empty OS means this one.
        let upper = format!(
            r#"{{"os":"LINUX","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
            diff_id(1)
        );
        store.create(upper.as_bytes())?;
        // Without layers, the OS is not checked (as in Docker).
        store.create(br#"{"os":"windows","rootfs":{}}"#)?;
        Ok(())
    }
}

mod delete {
    use super::*;

    #[test]
    fn returns_the_layers_actually_released() -> TestResult {
        let top = chain(&[1]);
        let store = store(FakeLayers::with(&[top]));
        let a = store.create(&config_with_layers("a", &[diff_id(1)]))?;
        let b = store.create(&config_with_layers("b", &[diff_id(1)]))?;
        assert!(store.delete(a)?.is_empty(), "b still holds the chain");
        let released = store.delete(b)?;
        assert_eq!(released.len(), 1);
        assert_eq!(released[0].chain_id, top);
        assert_eq!(store.layers().references(top), None);
        assert_eq!(store.len()?, 0);
        Ok(())
    }

    #[test]
    fn detaches_children_and_leaves_the_parents_children() -> TestResult {
        let store = store(FakeLayers::default());
        let grandparent = store.create(&config("grandparent"))?;
        let parent = store.create(&config("parent"))?;
        let child = store.create(&config("child"))?;
        store.set_parent(parent, grandparent)?;
        store.set_parent(child, parent)?;

        store.delete(parent)?;
        assert_eq!(
            store.try_get_parent(child)?,
            None,
            "the child's parent metadata is gone"
        );
        assert_eq!(store.get(child)?.parent(), None);
        assert!(store.children(grandparent)?.is_empty());
        assert_eq!(store.heads()?, {
            let mut v = vec![grandparent, child];
            v.sort();
            v
        });
        assert!(store.backend().get(parent).is_err(), "the content is gone");
        Ok(())
    }

    #[test]
    fn an_unknown_image_is_not_found() -> TestResult {
        let store = store(FakeLayers::default());
        let err = store.delete(ImageId::of(b"never")).expect_err("unknown");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("unrecognized image ID"), "{err}");
        Ok(())
    }
}

mod search {
    use super::*;

    #[test]
    fn finds_by_unique_prefix() -> TestResult {
        let store = store(FakeLayers::default());
        let ids: Vec<ImageId> = (0..50)
            .map(|i| store.create(&config(&i.to_string())))
            .collect::<Result<_, _>>()?;
        for id in &ids {
            let hex = id.digest().encoded();
            assert_eq!(store.search(&hex[..12])?, *id);
            assert_eq!(store.search(&id.to_string())?, *id);
            assert_eq!(store.search(&format!("sha256:{}", &hex[..12]))?, *id);
            assert_eq!(store.search(&hex)?, *id);
        }
        Ok(())
    }

    #[test]
    fn no_match_is_not_found_with_dockers_message() -> TestResult {
        let store = store(FakeLayers::default());
        store.create(&config("a"))?;
        let err = store.search("zzzz").expect_err("no such image");
        assert_eq!(err.to_string(), "No such image: zzzz");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let empty = ImageStore::open(MemoryBackend::new(), NoLayers)?;
        assert!(matches!(empty.search(""), Err(Error::NotFound { .. })));
        Ok(())
    }

    #[test]
    fn a_shared_prefix_is_ambiguous() -> TestResult {
        let store = store(FakeLayers::default());
        // Find two configs whose IDs share a first hex digit.
        let mut by_digit: std::collections::HashMap<char, ImageId> = Default::default();
        let mut pair = None;
        for i in 0..64 {
            let id = store.create(&config(&format!("c{i}")))?;
            let first = id.digest().encoded().chars().next().expect("hex");
            if let Some(other) = by_digit.insert(first, id) {
                pair = Some((first, other, id));
                break;
            }
        }
        let (digit, _, _) = pair.expect("64 IDs share a first digit");
        let err = store.search(&digit.to_string()).expect_err("two match");
        assert!(matches!(err, Error::Ambiguous { .. }), "{err:?}");
        assert!(err.to_string().contains("ambiguous digest string"));
        Ok(())
    }

    #[test]
    fn the_empty_term_finds_the_only_image() -> TestResult {
        let store = store(FakeLayers::default());
        let id = store.create(&config("only"))?;
        assert_eq!(store.search("")?, id);
        store.create(&config("second"))?;
        assert!(matches!(store.search(""), Err(Error::Ambiguous { .. })));
        Ok(())
    }
}

mod parents {
    use super::*;

    #[test]
    fn set_parent_records_the_id_and_moves_children() -> TestResult {
        let store = store(FakeLayers::default());
        let (a, b, c) = (
            store.create(&config("a"))?,
            store.create(&config("b"))?,
            store.create(&config("c"))?,
        );
        store.set_parent(c, a)?;
        assert_eq!(
            store.backend().get_metadata(c, "parent")?,
            a.to_string().as_bytes()
        );
        assert_eq!(store.children(a)?, [c]);
        store.set_parent(c, b)?;
        assert!(store.children(a)?.is_empty());
        assert_eq!(store.children(b)?, [c]);
        assert_eq!(store.get_parent(c)?, b);
        Ok(())
    }

    #[test]
    fn an_unknown_parent_is_not_found() -> TestResult {
        let store = store(FakeLayers::default());
        let a = store.create(&config("a"))?;
        let err = store
            .set_parent(a, ImageId::of(b"nope"))
            .expect_err("unknown parent");
        assert!(err.to_string().contains("unknown parent image ID"), "{err}");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = store
            .set_parent(ImageId::of(b"nope"), a)
            .expect_err("unknown image");
        assert!(matches!(err, Error::UnknownImage { .. }));
        Ok(())
    }

    #[test]
    fn cycles_are_refused() -> TestResult {
        let store = store(FakeLayers::default());
        let (a, b, c) = (
            store.create(&config("a"))?,
            store.create(&config("b"))?,
            store.create(&config("c"))?,
        );
        store.set_parent(b, a)?;
        store.set_parent(c, b)?;
        assert!(matches!(
            store.set_parent(a, c),
            Err(Error::ParentCycle { .. })
        ));
        assert!(matches!(
            store.set_parent(a, a),
            Err(Error::ParentCycle { .. })
        ));
        assert_eq!(store.try_get_parent(a)?, None);
        Ok(())
    }

    #[test]
    fn a_missing_parent_is_not_found_and_a_damaged_one_is_reported() -> TestResult {
        let store = store(FakeLayers::default());
        let a = store.create(&config("a"))?;
        assert_eq!(
            store.get_parent(a).expect_err("none").kind(),
            ErrorKind::NotFound
        );
        store.backend().set_metadata(a, "parent", b"not an id")?;
        let err = store.try_get_parent(a).expect_err("damaged");
        assert!(matches!(err, Error::CorruptMetadata { .. }), "{err:?}");
        // `get` still works, without a parent.
        assert_eq!(store.get(a)?.parent(), None);
        Ok(())
    }

    #[test]
    fn heads_are_images_without_children() -> TestResult {
        let store = store(FakeLayers::default());
        let ids: Vec<ImageId> = (0..5)
            .map(|i| store.create(&config(&format!("h{i}"))))
            .collect::<Result<_, _>>()?;
        // A chain 0 <- 1 <- 2, and 3, 4 alone.
        store.set_parent(ids[1], ids[0])?;
        store.set_parent(ids[2], ids[1])?;
        let mut expected = vec![ids[2], ids[3], ids[4]];
        expected.sort();
        assert_eq!(store.heads()?, expected);
        assert_eq!(store.len()?, 5);
        let all = store.map()?;
        assert_eq!(all.len(), 5);
        assert_eq!(all[&ids[2]].parent(), Some(ids[1]));
        Ok(())
    }
}

mod metadata {
    use super::*;

    #[test]
    fn last_updated_is_rfc3339_with_nanoseconds() -> TestResult {
        let store = store(FakeLayers::default());
        let id = store.create(&config("a"))?;
        assert_eq!(store.get_last_updated(id)?, None);
        let time: Timestamp = "2024-05-01T10:11:12.123456789+02:00".parse()?;
        store.set_last_updated_at(id, time)?;
        assert_eq!(
            store.backend().get_metadata(id, "lastUpdated")?,
            b"2024-05-01T10:11:12.123456789+02:00"
        );
        assert_eq!(store.get_last_updated(id)?, Some(time));

        let before = Timestamp::now();
        store.set_last_updated(id)?;
        let now = store.get_last_updated(id)?.expect("just set");
        assert!(now.unix_seconds() >= before.unix_seconds());
        // Trailing zeros of the fraction are trimmed, as Go's RFC3339Nano does.
        let text = String::from_utf8(store.backend().get_metadata(id, "lastUpdated")?)?;
        assert!(
            !text.contains(".") || !text.trim_end_matches('Z').ends_with('0'),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn a_damaged_last_updated_is_an_error_and_an_empty_one_is_none() -> TestResult {
        let store = store(FakeLayers::default());
        let id = store.create(&config("a"))?;
        store.backend().set_metadata(id, "lastUpdated", b"")?;
        assert_eq!(store.get_last_updated(id)?, None);
        store
            .backend()
            .set_metadata(id, "lastUpdated", b"last tuesday")?;
        assert!(matches!(
            store.get_last_updated(id),
            Err(Error::CorruptMetadata { .. })
        ));
        Ok(())
    }

    #[test]
    fn built_locally_is_one_byte() -> TestResult {
        let store = store(FakeLayers::default());
        let id = store.create(&config("a"))?;
        assert!(!store.is_built_locally(id)?);
        store.set_built_locally(id)?;
        assert_eq!(store.backend().get_metadata(id, "builtLocally")?, [1]);
        assert!(store.is_built_locally(id)?);
        Ok(())
    }

    #[test]
    fn metadata_of_an_unknown_image_fails() {
        let store = store(FakeLayers::default());
        let unknown = ImageId::of(b"unknown");
        assert!(store.set_last_updated(unknown).is_err());
        assert!(store.get_last_updated(unknown).is_err());
        assert!(store.get(unknown).is_err());
        assert!(store.children(unknown).is_err());
    }
}
