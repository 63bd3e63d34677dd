//! Reading images from a `docker save` tar or an OCI image layout.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use imgsvc_distribution::progress::{Action, Progress, ProgressReader};

use imgsvc_digest::Digest;
use imgsvc_distribution::manifest::{Manifest, Platform, select};
use imgsvc_imagestore::{Image, ImageId};
use imgsvc_layerstore::{ChainId, Layer};
use imgsvc_reference::Reference;

use super::{ArchiveError, IMAGE_NAME, REF_NAME};
use crate::error::Error;
use crate::service::ImageService;

/// The most bytes of a JSON document of an archive read.
const MAX_DOCUMENT: u64 = imgsvc_distribution::pull::MAX_CONFIG_BYTES;

/// One image a load brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loaded {
    /// The image.
    pub id: ImageId,
    /// The tags recorded for it.
    pub tags: Vec<Reference>,
}

impl std::fmt::Display for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.tags.is_empty() {
            return write!(f, "Loaded image ID: {}", self.id.digest());
        }
        let tags: Vec<String> = self.tags.iter().map(Reference::familiar_string).collect();
        write!(f, "Loaded image: {}", tags.join(", "))
    }
}

/// One image to load: its config and layer files, and its tags.
struct Entry {
    config: PathBuf,
    config_digest: Option<Digest>,
    layers: Vec<PathBuf>,
    tags: Vec<Reference>,
}

fn invalid(file: &str, reason: impl std::fmt::Display) -> Error {
    Error::Archive(ArchiveError::Invalid {
        file: file.to_owned(),
        reason: reason.to_string(),
    })
}

/// `dir/rel`, refusing paths that leave `dir` and anything but a regular file.
fn member(dir: &Path, rel: &str) -> Result<PathBuf, Error> {
    let relative = Path::new(rel);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(invalid(rel, "the path leaves the archive"));
    }
    let path = dir.join(relative);
    match path.symlink_metadata() {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => Err(invalid(rel, "not a regular file")),
        Err(_) => Err(invalid(rel, "missing from the archive")),
    }
}

fn read_document(dir: &Path, rel: &str) -> Result<Vec<u8>, Error> {
    let path = member(dir, rel)?;
    let file = File::open(&path).map_err(|source| Error::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_DOCUMENT + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            action: "read",
            path,
            source,
        })?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(invalid(rel, format!("larger than {MAX_DOCUMENT} bytes")));
    }
    Ok(bytes)
}

fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.encoded().as_str())
}

/// Loading
impl ImageService {
    /// Loads every image of a `docker save` tar (or a tar of an OCI layout) read from
    /// `input`. The archive is unpacked under the root's `tmp/` first (never outside it);
    /// layers are registered verified against the configs' DiffIDs.
    pub fn load(&self, input: impl Read) -> Result<Vec<Loaded>, Error> {
        self.load_with(input, &(Arc::new(()) as Arc<dyn Progress>))
    }

    /// [`load`](Self::load), reporting `Loading layer` progress per layer (bytes of the
    /// layer file read), as `docker load` shows it.
    pub fn load_with(
        &self,
        input: impl Read,
        progress: &Arc<dyn Progress>,
    ) -> Result<Vec<Loaded>, Error> {
        let scratch = tempfile_dir(&self.root.join("tmp"))?;
        let mut archive = tar::Archive::new(input);
        archive.set_preserve_permissions(false);
        archive.set_unpack_xattrs(false);
        archive.unpack(scratch.path()).map_err(|source| Error::Io {
            action: "unpack the archive into",
            path: scratch.path().to_path_buf(),
            source,
        })?;
        self.load_layout_with(scratch.path(), progress)
    }

    /// Loads every image of an unpacked archive or OCI layout directory (`skopeo copy …
    /// oci:DIR`): `manifest.json` when present, else `index.json` (for a multi-platform
    /// index, the host's platform).
    pub fn load_layout(&self, dir: &Path) -> Result<Vec<Loaded>, Error> {
        self.load_layout_with(dir, &(Arc::new(()) as Arc<dyn Progress>))
    }

    /// [`load_layout`](Self::load_layout), reporting `Loading layer` progress.
    pub fn load_layout_with(
        &self,
        dir: &Path,
        progress: &Arc<dyn Progress>,
    ) -> Result<Vec<Loaded>, Error> {
        let entries = if member(dir, "manifest.json").is_ok() {
            docker_entries(dir)?
        } else if member(dir, "index.json").is_ok() {
            oci_entries(dir)?
        } else {
            return Err(Error::Archive(ArchiveError::NotAnArchive));
        };
        entries
            .into_iter()
            .map(|entry| self.load_entry(dir, entry, progress))
            .collect()
    }

    fn load_entry(
        &self,
        dir: &Path,
        entry: Entry,
        progress: &Arc<dyn Progress>,
    ) -> Result<Loaded, Error> {
        let config_name = entry.config.to_string_lossy().into_owned();
        let config = read_document(dir, &config_name)?;
        if let Some(expected) = entry.config_digest
            && Digest::from_bytes(&config) != expected
        {
            return Err(invalid(
                &config_name,
                format!("does not hash to {expected}"),
            ));
        }
        let image = Image::parse(&config).map_err(|e| invalid(&config_name, e))?;
        let diff_ids = image.rootfs().diff_ids.clone();
        if diff_ids.len() != entry.layers.len() {
            return Err(invalid(
                &config_name,
                format!(
                    "{} diff_ids for {} layers",
                    diff_ids.len(),
                    entry.layers.len()
                ),
            ));
        }
        let mut held: Vec<Layer> = Vec::new();
        let result = (|| {
            let mut parent: Option<ChainId> = None;
            for (path, diff_id) in entry.layers.iter().zip(&diff_ids) {
                let name = path.to_string_lossy().into_owned();
                let file = File::open(member(dir, &name)?).map_err(|source| Error::Io {
                    action: "read",
                    path: path.clone(),
                    source,
                })?;
                let size = file.metadata().ok().map(|m| m.len());
                let id = imgsvc_distribution::progress::layer_id(&diff_id.digest());
                let file =
                    ProgressReader::new(file, Arc::clone(progress), id, Action::LoadingLayer, size);
                let tar = imgsvc_distribution::decompress::decoder(file, None, diff_id.digest())?;
                let layer = self
                    .stores
                    .layers
                    .register_with_expected(tar, parent, *diff_id)?;
                parent = Some(layer.chain_id());
                held.push(layer);
            }
            self.stores.images.create(&config).map_err(Error::from)
        })();
        for layer in held {
            let _ = self.stores.layers.release(layer);
        }
        let id = result?;
        for tag in &entry.tags {
            self.stores.references.add_tag(tag, id.digest(), true)?;
        }
        Ok(Loaded {
            id,
            tags: entry.tags,
        })
    }
}

/// The entries of Docker's `manifest.json`.
fn docker_entries(dir: &Path) -> Result<Vec<Entry>, Error> {
    let bytes = read_document(dir, "manifest.json")?;
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| invalid("manifest.json", e))?;
    let list = doc
        .as_array()
        .ok_or_else(|| invalid("manifest.json", "not a JSON array"))?;
    let mut entries = Vec::new();
    for item in list {
        let config = item["Config"]
            .as_str()
            .ok_or_else(|| invalid("manifest.json", "an entry without Config"))?;
        let layers = item["Layers"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|p| p.as_str().map(PathBuf::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut tags = Vec::new();
        for tag in item["RepoTags"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let text = tag.as_str().unwrap_or_default();
            tags.push(crate::tag::parse(text)?.tag_name_only());
        }
        entries.push(Entry {
            config: PathBuf::from(config),
            config_digest: None,
            layers,
            tags,
        });
    }
    Ok(entries)
}

/// The entries of an OCI layout's `index.json`.
fn oci_entries(dir: &Path) -> Result<Vec<Entry>, Error> {
    let bytes = read_document(dir, "index.json")?;
    let index = match Manifest::decode(&bytes, None).map_err(|e| invalid("index.json", e))? {
        Manifest::Index(index) => index,
        Manifest::Image(_) => return Err(invalid("index.json", "an image manifest, not an index")),
    };
    let mut entries = Vec::new();
    for descriptor in index.manifests() {
        let tags = oci_tags(&descriptor.annotations)?;
        let mut digest = descriptor.digest;
        // Follow nested indexes (multi-platform images) to the host's platform.
        for _ in 0..4 {
            let name = blob_path(&digest);
            let bytes = read_document(dir, &name)?;
            if Digest::from_bytes(&bytes) != digest {
                return Err(invalid(&name, format!("does not hash to {digest}")));
            }
            match Manifest::decode(&bytes, Some(&descriptor.media_type))
                .or_else(|_| Manifest::decode(&bytes, None))
            {
                Ok(Manifest::Image(image)) => {
                    entries.push(Entry {
                        config: PathBuf::from(blob_path(&image.config().digest)),
                        config_digest: Some(image.config().digest),
                        layers: image
                            .layers()
                            .iter()
                            .map(|l| PathBuf::from(blob_path(&l.digest)))
                            .collect(),
                        tags: tags.clone(),
                    });
                    break;
                }
                Ok(Manifest::Index(nested)) => {
                    let chosen = select(&nested, &Platform::host())?;
                    digest = chosen
                        .first()
                        .map(|d| d.digest)
                        .ok_or_else(|| invalid(&name, "no manifest for this platform"))?;
                }
                Err(err) => return Err(invalid(&name, err)),
            }
        }
    }
    Ok(entries)
}

/// The tag an OCI index entry names: the full reference annotation, else a ref name that
/// is itself a reference with a repository.
fn oci_tags(
    annotations: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<Reference>, Error> {
    let text = annotations
        .get(IMAGE_NAME)
        .or_else(|| annotations.get(REF_NAME).filter(|r| r.contains('/')));
    match text {
        Some(text) => Ok(vec![crate::tag::parse(text)?.tag_name_only()]),
        None => Ok(Vec::new()),
    }
}

/// A fresh directory under `tmp`, removed when dropped.
fn tempfile_dir(tmp: &Path) -> Result<TempDir, Error> {
    std::fs::create_dir_all(tmp).map_err(|source| Error::Io {
        action: "create",
        path: tmp.to_path_buf(),
        source,
    })?;
    for n in 0u32.. {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = tmp.join(format!("load-{}-{nanos}-{n}", std::process::id()));
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(TempDir(path)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(Error::Io {
                    action: "create",
                    path,
                    source,
                });
            }
        }
    }
    Err(Error::Io {
        action: "create a directory in",
        path: tmp.to_path_buf(),
        source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
    })
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
