//! `docker history` and `docker inspect`.

use imgsvc_imagestore::{Image, ImageId, Timestamp};

use crate::error::Error;
use crate::service::ImageService;

/// One line of `docker history`, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// The image ID on the newest line; `None` (`<missing>`) below it, as Docker shows
    /// pulled images.
    pub id: Option<ImageId>,
    /// When the step ran.
    pub created: Option<Timestamp>,
    /// The command of the step.
    pub created_by: String,
    /// The size of the layer the step made (0 for steps without one).
    pub size: u64,
    /// The step's comment.
    pub comment: String,
    /// The image's tags, on the newest line.
    pub tags: Vec<String>,
}

/// What `docker inspect` shows of an image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Inspect {
    /// The image ID.
    pub id: ImageId,
    /// Tags, familiar.
    pub repo_tags: Vec<String>,
    /// Digest references, familiar.
    pub repo_digests: Vec<String>,
    /// The parent image (local builds only).
    pub parent: Option<ImageId>,
    /// The size of all its layers.
    pub size: u64,
    /// The storage driver's name and its view of the top layer (`LowerDir`, ...).
    pub graph_driver: (String, Vec<(String, String)>),
    /// The config, as parsed (its exact bytes: [`Image::raw_json`]).
    pub image: Image,
}

/// Reports
impl ImageService {
    /// The image `ref_or_id` names, as `docker inspect` shows it.
    pub fn inspect(&self, ref_or_id: &str) -> Result<Inspect, Error> {
        let id = self.resolve(ref_or_id)?;
        let image = self.stores.images.get(id)?;
        let references = self.references(id)?;
        let (tags, digests): (Vec<_>, Vec<_>) =
            references.iter().partition(|r| r.digest().is_none());
        let graph = match image.chain_id() {
            Some(chain) => {
                let layer = self.stores.layers.get(chain)?;
                let metadata = self.stores.layers.layer_metadata(&layer);
                self.stores.layers.release(layer)?;
                metadata?
            }
            None => Vec::new(),
        };
        Ok(Inspect {
            id,
            repo_tags: tags.iter().map(|r| r.familiar_string()).collect(),
            repo_digests: digests.iter().map(|r| r.familiar_string()).collect(),
            parent: self.stores.images.try_get_parent(id)?,
            size: self.image_size(&image)?,
            graph_driver: (self.stores.layers.driver_name().to_owned(), graph),
            image,
        })
    }

    /// The build steps of the image `ref_or_id` names, newest first, with the size of the
    /// layer each made.
    pub fn history(&self, ref_or_id: &str) -> Result<Vec<HistoryEntry>, Error> {
        let id = self.resolve(ref_or_id)?;
        let image = self.stores.images.get(id)?;
        let diff_ids = &image.rootfs().diff_ids;
        let mut sizes = Vec::with_capacity(diff_ids.len());
        for i in 1..=diff_ids.len() {
            let size = match imgsvc_layerstore::ChainId::of(diff_ids.get(..i).unwrap_or_default()) {
                Some(chain) => {
                    let layer = self.stores.layers.get(chain)?;
                    let size = layer.diff_size();
                    self.stores.layers.release(layer)?;
                    size
                }
                None => 0,
            };
            sizes.push(size);
        }
        let mut layers = sizes.into_iter();
        let mut entries = Vec::new();
        for step in &image.config().history {
            let size = if step.empty_layer {
                0
            } else {
                layers.next().unwrap_or(0)
            };
            entries.push(HistoryEntry {
                id: None,
                created: step.created,
                created_by: step.created_by.clone().unwrap_or_default(),
                size,
                comment: step.comment.clone().unwrap_or_default(),
                tags: Vec::new(),
            });
        }
        // Layers the history does not describe still show, as Docker does.
        for size in layers {
            entries.push(HistoryEntry {
                id: None,
                created: image.config().created,
                created_by: String::new(),
                size,
                comment: String::new(),
                tags: Vec::new(),
            });
        }
        entries.reverse();
        if let Some(first) = entries.first_mut() {
            first.id = Some(id);
            first.tags = self
                .references(id)?
                .iter()
                .filter(|r| r.digest().is_none())
                .map(|r| r.familiar_string())
                .collect();
        } else {
            entries.push(HistoryEntry {
                id: Some(id),
                created: image.config().created,
                created_by: String::new(),
                size: 0,
                comment: String::new(),
                tags: Vec::new(),
            });
        }
        Ok(entries)
    }
}
