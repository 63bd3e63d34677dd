//! `docker images`: summaries of the stored images, filtered.

use imgsvc_imagestore::{Image, ImageId, Timestamp};
use imgsvc_reference::Reference;

use crate::error::Error;
use crate::service::ImageService;

/// One row of `docker images`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageSummary {
    /// The image ID.
    pub id: ImageId,
    /// Tags, familiar (`alpine:3.20`).
    pub repo_tags: Vec<String>,
    /// Digest references, familiar (`alpine@sha256:…`).
    pub repo_digests: Vec<String>,
    /// When the image was built.
    pub created: Option<Timestamp>,
    /// The size of all its layers (0 without layers).
    pub size: u64,
    /// The config's labels.
    pub labels: Vec<(String, String)>,
}

/// What `images` lists (Docker's `--filter` keys and `--all`).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Filters {
    /// `dangling=true|false`: only images without tags, or only with.
    pub dangling: Option<bool>,
    /// `reference=<pattern>`: familiar references matching the pattern (`alpine`, `lib/*:v1`).
    pub reference: Vec<String>,
    /// `label=<key>` or `label=<key>=<value>`.
    pub label: Vec<String>,
    /// `before=<image>`: images created before that one.
    pub before: Option<String>,
    /// `since=<image>`: images created after that one.
    pub since: Option<String>,
    /// Also intermediate images (untagged images with children).
    pub all: bool,
}

/// Listing
impl ImageService {
    /// The images `filters` keep, newest first.
    pub fn images(&self, filters: &Filters) -> Result<Vec<ImageSummary>, Error> {
        let before = self.created_of(filters.before.as_deref())?;
        let since = self.created_of(filters.since.as_deref())?;
        let mut rows = Vec::new();
        for (id, image) in self.stores.images.map()? {
            let references = self.references(id)?;
            let (tags, digests): (Vec<&Reference>, Vec<&Reference>) =
                references.iter().partition(|r| r.digest().is_none());
            if let Some(dangling) = filters.dangling
                && dangling != tags.is_empty()
            {
                continue;
            }
            if !filters.all && tags.is_empty() && !self.stores.images.children(id)?.is_empty() {
                continue;
            }
            if !filters.reference.is_empty() {
                let mut matched = false;
                for pattern in &filters.reference {
                    for reference in &references {
                        matched |= reference.familiar_match(pattern).map_err(|source| {
                            Error::InvalidReference {
                                text: pattern.clone(),
                                source: Box::new(source),
                            }
                        })?;
                    }
                }
                if !matched {
                    continue;
                }
            }
            let labels = labels(&image);
            if !filters
                .label
                .iter()
                .all(|wanted| label_matches(&labels, wanted))
            {
                continue;
            }
            let created = image.config().created;
            let at = instant(created.as_ref());
            if before.is_some() && at >= instant(before.as_ref()) {
                continue;
            }
            if since.is_some() && at <= instant(since.as_ref()) {
                continue;
            }
            rows.push(ImageSummary {
                id,
                repo_tags: tags.iter().map(|r| r.familiar_string()).collect(),
                repo_digests: digests.iter().map(|r| r.familiar_string()).collect(),
                created,
                size: self.image_size(&image)?,
                labels,
            });
        }
        rows.sort_by(|a, b| {
            instant(b.created.as_ref())
                .cmp(&instant(a.created.as_ref()))
                .then(a.id.cmp(&b.id))
        });
        Ok(rows)
    }

    fn created_of(&self, reference: Option<&str>) -> Result<Option<Timestamp>, Error> {
        match reference {
            None => Ok(None),
            Some(reference) => {
                let id = self.resolve(reference)?;
                Ok(self.stores.images.get(id)?.config().created)
            }
        }
    }

    /// The size of an image's layers (the top layer's cumulative size).
    pub(crate) fn image_size(&self, image: &Image) -> Result<u64, Error> {
        let Some(chain) = image.chain_id() else {
            return Ok(0);
        };
        let layer = self.stores.layers.get(chain)?;
        let size = layer.size();
        self.stores.layers.release(layer)?;
        Ok(size)
    }
}

/// A creation time as a comparable instant (UTC seconds, nanoseconds); none is earliest.
fn instant(time: Option<&Timestamp>) -> Option<(i64, u32)> {
    time.map(|t| (t.unix_seconds(), t.nanos()))
}

fn labels(image: &Image) -> Vec<(String, String)> {
    image
        .config()
        .config
        .as_ref()
        .map(|c| {
            c.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn label_matches(labels: &[(String, String)], wanted: &str) -> bool {
    match wanted.split_once('=') {
        Some((key, value)) => labels.iter().any(|(k, v)| k == key && v == value),
        None => labels.iter().any(|(k, _)| k == wanted),
    }
}
