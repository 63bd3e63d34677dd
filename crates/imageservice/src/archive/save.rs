//! Writing images as a `docker save` tar with an OCI layout inside.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use imgsvc_imagestore::ImageId;
use imgsvc_layerstore::{ChainId, DiffId};
use imgsvc_reference::Reference;
use serde_json::json;

use super::{IMAGE_NAME, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, REF_NAME};
use crate::error::Error;
use crate::service::ImageService;

/// Counts bytes written.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn io_error(path: &str) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::Io {
        action: "write the archive entry",
        path: path.into(),
        source,
    }
}

/// Archiving
impl ImageService {
    /// Writes the images `refs` name to `out` as `docker save` does (Docker 25+ format: a
    /// `manifest.json` and an OCI layout in one tar). An image named by reference keeps that
    /// tag in the archive; one named by ID keeps none. Layers go as uncompressed tars,
    /// rebuilt from disk and streamed (each is read twice: once to learn its length).
    pub fn save(&self, refs: &[&str], out: impl Write) -> Result<(), Error> {
        let mut tar = tar::Builder::new(out);
        let mut written: HashSet<String> = HashSet::new();
        let mut manifest_json = Vec::new();
        let mut index = Vec::new();
        for name in refs {
            let id = self.resolve(name)?;
            let tag = self.saved_tag(name, id)?;
            let image = self.stores.images.get(id)?;
            let diff_ids = image.rootfs().diff_ids.clone();
            let mut layer_descriptors = Vec::new();
            let mut layer_paths = Vec::new();
            for i in 1..=diff_ids.len() {
                let prefix: &[DiffId] = diff_ids.get(..i).unwrap_or_default();
                let (Some(chain), Some(diff_id)) = (ChainId::of(prefix), prefix.last()) else {
                    continue;
                };
                let path = format!("blobs/sha256/{}", diff_id.digest().encoded().as_str());
                let size = self.write_layer(&mut tar, chain, &path, &mut written)?;
                layer_descriptors.push(
                    json!({"mediaType": OCI_LAYER, "digest": diff_id.to_string(), "size": size}),
                );
                layer_paths.push(path);
            }
            let config_path = format!("blobs/sha256/{}", id.digest().encoded().as_str());
            let raw = image.raw_json();
            add_bytes(&mut tar, &config_path, raw, &mut written)?;
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": id.digest().to_string(), "size": raw.len()},
                "layers": layer_descriptors,
            });
            let manifest_bytes = manifest.to_string().into_bytes();
            let manifest_digest = imgsvc_digest::Digest::from_bytes(&manifest_bytes);
            let manifest_path = format!("blobs/sha256/{}", manifest_digest.encoded().as_str());
            add_bytes(&mut tar, &manifest_path, &manifest_bytes, &mut written)?;
            let mut entry = json!({"mediaType": OCI_MANIFEST, "digest": manifest_digest.to_string(), "size": manifest_bytes.len()});
            if let Some(tag) = &tag {
                entry["annotations"] = json!({
                    IMAGE_NAME: tag.to_string(),
                    REF_NAME: tag.tag().map(|t| t.as_str().to_owned()).unwrap_or_default(),
                });
            }
            index.push(entry);
            manifest_json.push(json!({
                "Config": config_path,
                "RepoTags": tag.iter().map(Reference::familiar_string).collect::<Vec<_>>(),
                "Layers": layer_paths,
            }));
        }
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": index});
        add_bytes(
            &mut tar,
            "index.json",
            index.to_string().as_bytes(),
            &mut written,
        )?;
        add_bytes(
            &mut tar,
            "manifest.json",
            serde_json::Value::Array(manifest_json)
                .to_string()
                .as_bytes(),
            &mut written,
        )?;
        add_bytes(
            &mut tar,
            "oci-layout",
            br#"{"imageLayoutVersion":"1.0.0"}"#,
            &mut written,
        )?;
        tar.into_inner()
            .map_err(io_error("the archive"))?
            .flush()
            .map_err(io_error("the archive"))?;
        Ok(())
    }

    /// The tag to record for `name`: the reference it was given as, if it names the image.
    fn saved_tag(&self, name: &str, id: ImageId) -> Result<Option<Reference>, Error> {
        let hex = id.digest().encoded().as_str().to_owned();
        if id.digest().to_string().starts_with(name) || hex.starts_with(name) {
            return Ok(None);
        }
        let reference = crate::tag::parse(name)?.tag_name_only();
        Ok((reference.digest().is_none()).then_some(reference))
    }

    /// Streams layer `chain`'s tar into the archive at `path` (once per archive).
    fn write_layer<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        chain: ChainId,
        path: &str,
        written: &mut HashSet<String>,
    ) -> Result<u64, Error> {
        let layer = self.stores.layers.get(chain)?;
        let result = (|| {
            let mut counter = Counter(0);
            io::copy(&mut self.stores.layers.tar_stream(&layer)?, &mut counter)
                .map_err(io_error(path))?;
            if written.insert(path.to_owned()) {
                let stream = self.stores.layers.tar_stream(&layer)?;
                append(tar, path, counter.0, stream)?;
            }
            Ok(counter.0)
        })();
        self.stores.layers.release(layer)?;
        result
    }
}

fn add_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    bytes: &[u8],
    written: &mut HashSet<String>,
) -> Result<(), Error> {
    if written.insert(path.to_owned()) {
        append(tar, path, bytes.len() as u64, bytes)?;
    }
    Ok(())
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: impl Read,
) -> Result<(), Error> {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, data)
        .map_err(io_error(path))
}
