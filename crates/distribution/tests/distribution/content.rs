//! The content store on real directories: ingests, resumption, locking, verification,
//! leases and garbage collection.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use imgsvc_distribution::Error;
use imgsvc_distribution::content::{ContentStore, GcOptions, Writer, WriterOutcome};
use imgsvc_distribution::digest::Digest;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn store() -> Result<(tempfile::TempDir, ContentStore)> {
    let dir = tempfile::tempdir()?;
    let store = ContentStore::open(dir.path().join("content"))?;
    Ok((dir, store))
}

fn new_writer(
    store: &ContentStore,
    reference: &str,
    expected: Option<Digest>,
    total: Option<u64>,
) -> Result<Writer> {
    let writer = store.writer(reference, expected, total)?.into_writer();
    Ok(writer.ok_or_else(|| format!("the content of {reference:?} exists already"))?)
}

fn put(store: &ContentStore, reference: &str, data: &[u8]) -> Result<Digest> {
    let mut writer = new_writer(store, reference, None, None)?;
    writer.write_all(data)?;
    Ok(writer.commit(Some(data.len() as u64), None)?.digest)
}

mod ingest {
    use super::*;

    #[test]
    fn a_dropped_writer_is_resumed_where_it_stopped() -> Result {
        let (_dir, store) = store()?;
        let data: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
        let (first, rest) = data.split_at(100_000);
        let digest = Digest::from_bytes(&data);

        let mut writer = new_writer(&store, "layer-x", Some(digest), Some(data.len() as u64))?;
        writer.write_all(first)?;
        drop(writer);

        let mut writer = new_writer(&store, "layer-x", None, None)?;
        assert_eq!(writer.offset(), first.len() as u64);
        assert_eq!(writer.digest(), Digest::from_bytes(first));
        let status = writer.status();
        assert_eq!(status.total, Some(data.len() as u64));
        assert_eq!(status.expected, Some(digest));
        writer.write_all(rest)?;
        let info = writer.commit(None, None)?;
        assert_eq!((info.digest, info.size), (digest, data.len() as u64));
        assert_eq!(store.read_verified(digest, 1 << 20)?, data);
        assert!(store.ingests()?.is_empty());
        Ok(())
    }

    #[test]
    fn a_wrong_size_at_commit_removes_the_ingest() -> Result {
        let (_dir, store) = store()?;
        let mut writer = new_writer(&store, "r", None, None)?;
        writer.write_all(b"abc")?;
        let err = writer.commit(Some(4), None).expect_err("the size is wrong");
        assert!(matches!(
            err,
            Error::SizeMismatch {
                expected: 4,
                actual: 3,
                ..
            }
        ));
        assert!(store.ingests()?.is_empty());
        assert_eq!(new_writer(&store, "r", None, None)?.offset(), 0);
        Ok(())
    }

    #[test]
    fn a_wrong_digest_at_commit_removes_the_ingest() -> Result {
        let (_dir, store) = store()?;
        let wanted = Digest::from_bytes(b"abd");
        let mut writer = new_writer(&store, "r", Some(wanted), None)?;
        writer.write_all(b"abc")?;
        let err = writer.commit(None, None).expect_err("the digest is wrong");
        assert!(matches!(
            err,
            Error::DigestMismatch { expected, actual, .. }
                if expected == wanted && actual == Digest::from_bytes(b"abc")
        ));
        assert!(store.ingests()?.is_empty());
        assert!(!store.contains(wanted));
        Ok(())
    }

    #[test]
    fn a_ref_held_by_another_store_is_locked_until_dropped() -> Result {
        let (dir, store) = store()?;
        let other = ContentStore::open(dir.path().join("content"))?;
        let writer = new_writer(&store, "shared", None, None)?;
        assert!(matches!(
            other.writer("shared", None, None),
            Err(Error::IngestLocked { reference }) if reference == "shared"
        ));
        assert!(matches!(
            other.abort("shared"),
            Err(Error::IngestLocked { .. })
        ));
        drop(writer);
        assert!(other.writer("shared", None, None)?.into_writer().is_some());
        Ok(())
    }

    #[test]
    fn the_same_content_under_two_refs_commits_to_one_blob() -> Result {
        let (dir, store) = store()?;
        let other = ContentStore::open(dir.path().join("content"))?;
        let mut a = new_writer(&store, "a", None, None)?;
        let mut b = new_writer(&other, "b", None, None)?;
        a.write_all(b"same")?;
        b.write_all(b"same")?;
        let first = a.commit(None, None)?;
        let second = b.commit(None, None)?;
        assert_eq!(first.digest, second.digest);
        assert_eq!(store.list()?.len(), 1);
        assert!(store.ingests()?.is_empty());
        Ok(())
    }

    #[test]
    fn concurrent_writers_of_one_digest_all_succeed() -> Result {
        let (_dir, store) = store()?;
        let handles: Vec<_> = (0..8)
            .map(|n| {
                let store = store.clone();
                std::thread::spawn(move || put(&store, &format!("ref-{n}"), b"contended").is_ok())
            })
            .collect();
        for handle in handles {
            assert!(handle.join().expect("the thread does not panic"));
        }
        assert_eq!(store.list()?.len(), 1);
        Ok(())
    }

    #[test]
    fn a_writer_for_existing_content_reports_it() -> Result {
        let (_dir, store) = store()?;
        let digest = put(&store, "one", b"here")?;
        match store.writer("two", Some(digest), None)? {
            WriterOutcome::Exists(info) => assert_eq!((info.digest, info.size), (digest, 4)),
            WriterOutcome::Writer(_) => panic!("the blob exists"),
        }
        Ok(())
    }

    #[test]
    fn a_different_expected_digest_starts_the_ingest_over() -> Result {
        let (_dir, store) = store()?;
        let mut writer = new_writer(&store, "r", Some(Digest::from_bytes(b"one")), None)?;
        writer.write_all(b"on")?;
        drop(writer);
        let writer = new_writer(&store, "r", Some(Digest::from_bytes(b"two")), None)?;
        assert_eq!(writer.offset(), 0);
        Ok(())
    }

    #[test]
    fn truncate_to_zero_starts_over() -> Result {
        let (_dir, store) = store()?;
        let mut writer = new_writer(&store, "r", None, None)?;
        writer.write_all(b"garbage")?;
        writer.truncate(0)?;
        assert_eq!(writer.offset(), 0);
        writer.write_all(b"good")?;
        assert_eq!(
            writer.commit(None, None)?.digest,
            Digest::from_bytes(b"good")
        );
        Ok(())
    }

    #[test]
    fn invalid_refs_are_refused() -> Result {
        let (_dir, store) = store()?;
        for reference in ["", "a\nb", "a\0b"] {
            assert!(matches!(
                store.writer(reference, None, None),
                Err(Error::InvalidIngestRef { .. })
            ));
        }
        Ok(())
    }

    #[test]
    fn abort_removes_an_ingest_and_then_finds_none() -> Result {
        let (_dir, store) = store()?;
        let mut writer = new_writer(&store, "r", None, Some(10))?;
        writer.write_all(b"12345")?;
        drop(writer);
        let statuses = store.ingests()?;
        assert_eq!(statuses.len(), 1);
        assert_eq!(
            (
                statuses[0].reference.as_str(),
                statuses[0].offset,
                statuses[0].total
            ),
            ("r", 5, Some(10))
        );
        store.abort("r")?;
        assert!(store.ingests()?.is_empty());
        assert!(matches!(
            store.abort("r"),
            Err(Error::IngestNotFound { .. })
        ));
        Ok(())
    }
}

mod blobs {
    use super::*;

    #[test]
    fn read_verified_detects_a_damaged_blob() -> Result {
        let (_dir, store) = store()?;
        let digest = put(&store, "m", br#"{"schemaVersion":2}"#)?;
        let path = store.blob_path(digest);
        assert_eq!(
            std::fs::metadata(&path)?.permissions().mode() & 0o777,
            0o444
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        std::fs::write(&path, br#"{"schemaVersion":3}"#)?;
        assert!(matches!(
            store.read_verified(digest, 1024),
            Err(Error::DigestMismatch { expected, .. }) if expected == digest
        ));
        Ok(())
    }

    #[test]
    fn put_stores_a_document_once_and_refuses_a_wrong_digest() -> Result {
        let (_dir, store) = store()?;
        let document = br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#;
        let digest = Digest::from_bytes(document);
        let first = store.put(document, digest)?;
        assert_eq!(store.put(document, digest)?, first);
        let wrong = Digest::from_bytes(b"other");
        assert!(matches!(
            store.put(document, wrong),
            Err(Error::DigestMismatch { expected, .. }) if expected == wrong
        ));
        assert!(store.ingests()?.is_empty());
        assert_eq!(store.list()?.len(), 1);
        Ok(())
    }

    #[test]
    fn a_blob_reader_knows_its_size_and_reads_at_offsets() -> Result {
        let (_dir, store) = store()?;
        let digest = put(&store, "b", b"0123456789")?;
        let blob = store.blob(digest)?;
        assert_eq!((blob.digest(), blob.size()), (digest, 10));
        let mut buf = [0u8; 3];
        assert_eq!(blob.read_at(&mut buf, 7)?, 3);
        assert_eq!(&buf, b"789");
        Ok(())
    }
}

mod gc {
    use super::*;

    #[test]
    fn a_leased_blob_survives_and_an_unleased_one_goes() -> Result {
        let (_dir, store) = store()?;
        let lease = store.lease("pull-1")?;
        let leased = Digest::from_bytes(b"leased");
        lease.add(leased)?;
        put(&store, "a", b"leased")?;
        let loose = put(&store, "b", b"loose")?;
        let kept = put(&store, "c", b"kept")?;

        let outcome = store.garbage_collect(&|d| *d == kept, &GcOptions::default())?;
        assert_eq!(outcome.blobs, [loose]);
        assert!(store.contains(leased) && store.contains(kept));

        assert!(store.delete_lease("pull-1")?);
        assert!(!store.delete_lease("pull-1")?);
        let outcome = store.garbage_collect(&|d| *d == kept, &GcOptions::default())?;
        assert_eq!(outcome.blobs, [leased]);
        Ok(())
    }

    #[test]
    fn old_unlocked_ingests_are_removed_and_locked_ones_kept() -> Result {
        let (_dir, store) = store()?;
        let mut old = new_writer(&store, "old", None, None)?;
        old.write_all(b"partial")?;
        drop(old);
        let _busy = new_writer(&store, "busy", None, None)?;

        let outcome = store.garbage_collect(&|_| true, &GcOptions::default())?;
        assert!(outcome.ingests.is_empty(), "nothing is a day old");

        let options = GcOptions::default().with_max_ingest_age(Duration::ZERO);
        let outcome = store.garbage_collect(&|_| true, &options)?;
        assert_eq!(outcome.ingests, ["old"]);
        let left: Vec<_> = store.ingests()?.into_iter().map(|s| s.reference).collect();
        assert_eq!(left, ["busy"]);
        Ok(())
    }

    #[test]
    fn leases_list_their_digests_once_and_reopen_by_id() -> Result {
        let (_dir, store) = store()?;
        let digest = Digest::from_bytes(b"x");
        assert!(store.lease("moby-image-sha256:abc")?.add(digest)?);
        let lease = store.lease("moby-image-sha256:abc")?;
        assert!(!lease.add(digest)?);
        assert_eq!(lease.digests()?, [digest]);
        assert_eq!(store.leases()?, ["moby-image-sha256:abc"]);
        assert!(lease.remove(digest)?);
        assert!(lease.digests()?.is_empty());
        assert!(matches!(
            store.lease("../x"),
            Err(Error::InvalidLeaseId { .. })
        ));
        Ok(())
    }
}
