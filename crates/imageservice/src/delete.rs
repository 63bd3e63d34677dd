//! `docker rmi`: untag, delete, and prune untagged parents, with Docker's conflict rules.

use imgsvc_imagestore::ImageId;
use imgsvc_reference::Reference;

use crate::error::Error;
use crate::service::ImageService;

/// One line of `docker rmi`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deleted {
    /// A reference was removed (`Untagged: alpine:latest`).
    Untagged(String),
    /// An image was removed (`Deleted: sha256:…`).
    Deleted(ImageId),
}

impl std::fmt::Display for Deleted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Deleted::Untagged(reference) => write!(f, "Untagged: {reference}"),
            Deleted::Deleted(id) => write!(f, "Deleted: {}", id.digest()),
        }
    }
}

/// Deleting
impl ImageService {
    /// Removes `ref_or_id` as `docker rmi` does:
    ///
    /// - named by a reference: that reference is removed (and, for a tag, the digest
    ///   references of the same repository when no other tag of it is left); the image goes
    ///   only when no reference is left, and then only if nothing depends on it;
    /// - named by ID: the image's references are removed with it when there is at most one
    ///   tag and all are in one repository; otherwise it is refused unless `force`;
    /// - an image with child images is never deleted (`cannot be forced`);
    /// - with `prune`, parents left without references or other children are deleted too.
    pub fn delete_image(
        &self,
        ref_or_id: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<Deleted>, Error> {
        let id = self.resolve(ref_or_id)?;
        let mut out = Vec::new();
        let mut quiet = false;
        if let Some(named) = self.named_reference(ref_or_id, id)? {
            self.untag(&named, &mut out)?;
            if named.digest().is_none() {
                let remaining = self.references(id)?;
                let tag_left = remaining
                    .iter()
                    .any(|r| r.digest().is_none() && r.name() == named.name());
                if !tag_left {
                    for reference in remaining.iter().filter(|r| r.name() == named.name()) {
                        self.untag(reference, &mut out)?;
                    }
                }
            }
            if !self.references(id)?.is_empty() {
                return Ok(out);
            }
            quiet = true;
        } else {
            let references = self.references(id)?;
            if is_single_reference(&references) {
                // Nothing is untagged if the image cannot go anyway.
                if !self.stores.images.children(id)?.is_empty() {
                    return Err(children_conflict(id));
                }
                if let Some(user) = self.rw_user(id, force)? {
                    return Err(used_conflict(id, &user));
                }
                for reference in &references {
                    self.untag(reference, &mut out)?;
                }
            }
        }
        self.delete_helper(id, force, prune, quiet, &mut out)?;
        Ok(out)
    }

    fn untag(&self, reference: &Reference, out: &mut Vec<Deleted>) -> Result<(), Error> {
        if self.stores.references.delete(reference)? {
            out.push(Deleted::Untagged(reference.familiar_string()));
        }
        Ok(())
    }

    /// The reference `ref_or_id` names, when it names the image by reference (not by ID).
    fn named_reference(&self, ref_or_id: &str, id: ImageId) -> Result<Option<Reference>, Error> {
        let full = id.digest().to_string();
        if full.starts_with(ref_or_id) || id.digest().encoded().as_str().starts_with(ref_or_id) {
            return Ok(None);
        }
        let reference = crate::tag::parse(ref_or_id)?.tag_name_only();
        Ok(self
            .stores
            .references
            .try_get(&reference)?
            .filter(|found| *found == id.digest())
            .map(|_| reference))
    }

    /// Deletes the image unless something conflicts: child images (always), references
    /// left (unless `force`, which removes them). With `quiet` (a reference was just
    /// removed), a conflict keeps the image silently, unless it is dangling.
    fn delete_helper(
        &self,
        id: ImageId,
        force: bool,
        prune: bool,
        quiet: bool,
        out: &mut Vec<Deleted>,
    ) -> Result<(), Error> {
        let short = id.digest().short().to_string();
        let children = !self.stores.images.children(id)?.is_empty();
        let references = self.references(id)?;
        let user = self.rw_user(id, force)?;
        let conflict = if children {
            Some(children_conflict(id))
        } else if let Some(user) = &user {
            Some(used_conflict(id, user))
        } else if !force && !references.is_empty() {
            Some(Error::Conflict {
                image: short,
                forced: "must be forced",
                reason: "image is referenced in multiple repositories".to_owned(),
            })
        } else {
            None
        };
        if let Some(conflict) = conflict {
            // After an untag, an image still in use or depended on stays without a word.
            let dangling = references.is_empty() && !children;
            return if quiet && (!dangling || user.is_some()) {
                Ok(())
            } else {
                Err(conflict)
            };
        }
        for reference in &references {
            self.untag(reference, out)?;
        }
        let parent = self.stores.images.try_get_parent(id)?;
        self.stores.images.delete(id)?;
        out.push(Deleted::Deleted(id));
        if let (true, Some(parent)) = (prune, parent)
            && self.references(parent)?.is_empty()
            && self.stores.images.children(parent)?.is_empty()
        {
            // A parent that cannot go (it conflicts) simply stays, as in Docker.
            let _ = self.delete_helper(parent, false, prune, true, out);
        }
        Ok(())
    }
}

fn used_conflict(id: ImageId, user: &str) -> Error {
    Error::Conflict {
        image: id.digest().short().to_string(),
        forced: "must be forced",
        reason: format!("image is being used by stopped container {user}"),
    }
}

fn children_conflict(id: ImageId) -> Error {
    Error::Conflict {
        image: id.digest().short().to_string(),
        forced: "cannot be forced",
        reason: "image has dependent child images".to_owned(),
    }
}

/// Use
impl ImageService {
    /// A read-write layer (a container's) on top of the image's layers, unless `force`.
    fn rw_user(&self, id: ImageId, force: bool) -> Result<Option<String>, Error> {
        if force {
            return Ok(None);
        }
        let Some(chain) = self.stores.images.get(id)?.chain_id() else {
            return Ok(None);
        };
        Ok(self
            .stores
            .layers
            .rw_layers()
            .into_iter()
            .find(|(_, parent)| *parent == Some(chain))
            .map(|(name, _)| name))
    }
}

/// At most one tag, and every reference in one repository.
fn is_single_reference(references: &[Reference]) -> bool {
    let tags = references.iter().filter(|r| r.digest().is_none()).count();
    tags <= 1 && repositories(references) <= 1
}

/// How many repositories (names, without tags) the references cover.
fn repositories(references: &[Reference]) -> usize {
    let mut names: Vec<&str> = references.iter().map(|r| r.name().as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}
