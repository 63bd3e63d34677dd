//! The distribution metadata in Docker's layout: files written by Docker read back, and
//! files we write are what Docker writes.

use imgsvc_distribution::Error;
use imgsvc_distribution::digest::Digest;
use imgsvc_distribution::metadata::{V2Metadata, V2MetadataService};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const BLOB: &str = "sha256:8a1e25ce7c4f75e372e9884f8f7b1bedcfe4a7a7d452eb4b0a1c7477c9a90345";
const DIFF_ID: &str = "sha256:5498e8c22f6996f25ef193ee58617d5b37e2a96decf22e72de13c3b34e147591";

fn entry(repository: &str, hmac: &str) -> Result<V2Metadata> {
    Ok(V2Metadata {
        digest: BLOB.parse()?,
        source_repository: repository.to_owned(),
        hmac: hmac.to_owned(),
    })
}

/// Writes the two files Docker keeps for one pulled layer, byte for byte as it does.
fn write_docker_files(root: &std::path::Path) -> Result {
    let blob_hex = BLOB.trim_start_matches("sha256:");
    let diff_hex = DIFF_ID.trim_start_matches("sha256:");
    std::fs::create_dir_all(root.join("diffid-by-digest/sha256"))?;
    std::fs::create_dir_all(root.join("v2metadata-by-diffid/sha256"))?;
    std::fs::write(root.join("diffid-by-digest/sha256").join(blob_hex), DIFF_ID)?;
    let list = format!(
        r#"[{{"Digest":"{BLOB}","SourceRepository":"docker.io/library/ubuntu","HMAC":""}},{{"Digest":"{BLOB}","SourceRepository":"registry.example.com/mirror/ubuntu","HMAC":"3f2a"}}]"#
    );
    std::fs::write(
        root.join("v2metadata-by-diffid/sha256").join(diff_hex),
        list,
    )?;
    Ok(())
}

#[test]
fn files_written_by_docker_read_back() -> Result {
    let dir = tempfile::tempdir()?;
    write_docker_files(dir.path())?;
    let service = V2MetadataService::open(dir.path())?;
    let blob: Digest = BLOB.parse()?;
    let diff_id: Digest = DIFF_ID.parse()?;
    assert_eq!(service.get_diff_id(blob)?, Some(diff_id));
    assert_eq!(
        service.get_metadata(diff_id)?,
        [
            entry("docker.io/library/ubuntu", "")?,
            entry("registry.example.com/mirror/ubuntu", "3f2a")?
        ]
    );
    assert_eq!(
        service.source_repositories(blob)?,
        [
            "docker.io/library/ubuntu",
            "registry.example.com/mirror/ubuntu"
        ]
    );
    Ok(())
}

#[test]
fn add_writes_what_docker_writes() -> Result {
    let dir = tempfile::tempdir()?;
    let service = V2MetadataService::open(dir.path())?;
    let diff_id: Digest = DIFF_ID.parse()?;
    service.add(diff_id, &entry("docker.io/library/ubuntu", "")?)?;
    let list = std::fs::read_to_string(
        dir.path()
            .join("v2metadata-by-diffid/sha256")
            .join(diff_id.encoded().as_str()),
    )?;
    assert_eq!(
        list,
        format!(
            r#"[{{"Digest":"{BLOB}","SourceRepository":"docker.io/library/ubuntu","HMAC":""}}]"#
        )
    );
    let mapping = std::fs::read_to_string(
        dir.path()
            .join("diffid-by-digest/sha256")
            .join(BLOB.trim_start_matches("sha256:")),
    )?;
    assert_eq!(mapping, DIFF_ID);
    Ok(())
}

#[test]
fn adding_to_a_docker_list_moves_the_entry_to_the_end() -> Result {
    let dir = tempfile::tempdir()?;
    write_docker_files(dir.path())?;
    let service = V2MetadataService::open(dir.path())?;
    let diff_id: Digest = DIFF_ID.parse()?;
    service.add(diff_id, &entry("docker.io/library/ubuntu", "")?)?;
    let repositories: Vec<_> = service
        .get_metadata(diff_id)?
        .into_iter()
        .map(|m| m.source_repository)
        .collect();
    assert_eq!(
        repositories,
        [
            "registry.example.com/mirror/ubuntu",
            "docker.io/library/ubuntu"
        ]
    );
    Ok(())
}

#[test]
fn unknown_blobs_and_diff_ids_have_no_metadata() -> Result {
    let dir = tempfile::tempdir()?;
    let service = V2MetadataService::open(dir.path().join("distribution"))?;
    let digest = Digest::from_bytes(b"unknown");
    assert_eq!(service.get_diff_id(digest)?, None);
    assert!(service.get_metadata(digest)?.is_empty());
    assert!(service.source_repositories(digest)?.is_empty());
    assert!(!service.remove(&entry("docker.io/library/x", "")?)?);
    Ok(())
}

#[test]
fn a_malformed_diff_id_file_is_a_corrupt_record() -> Result {
    let dir = tempfile::tempdir()?;
    let blob = Digest::from_bytes(b"blob");
    let path = dir.path().join("diffid-by-digest/sha256");
    std::fs::create_dir_all(&path)?;
    std::fs::write(path.join(blob.encoded().as_str()), "not a digest")?;
    let service = V2MetadataService::open(dir.path())?;
    assert!(matches!(
        service.get_diff_id(blob),
        Err(Error::CorruptRecord { .. })
    ));
    Ok(())
}

#[test]
fn two_services_on_one_directory_see_each_others_changes() -> Result {
    let dir = tempfile::tempdir()?;
    let first = V2MetadataService::open(dir.path())?;
    let second = V2MetadataService::open(dir.path())?;
    let diff_id: Digest = DIFF_ID.parse()?;
    first.add(diff_id, &entry("docker.io/library/a", "")?)?;
    second.add(diff_id, &entry("docker.io/library/b", "")?)?;
    assert_eq!(first.get_metadata(diff_id)?.len(), 2);
    assert!(first.remove(&entry("docker.io/library/b", "")?)?);
    assert_eq!(
        second.source_repositories(BLOB.parse()?)?,
        ["docker.io/library/a"]
    );
    Ok(())
}
