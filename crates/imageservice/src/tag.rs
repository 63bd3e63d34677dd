//! `docker tag` and the pieces of `docker rmi` that untag.

use imgsvc_reference::Reference;

use crate::error::Error;
use crate::service::ImageService;

/// Parses a reference the user typed (`alpine`, `lib/app:v1`), normalized.
pub(crate) fn parse(text: &str) -> Result<Reference, Error> {
    imgsvc_reference::parse_normalized_named(text).map_err(|source| Error::InvalidReference {
        text: text.to_owned(),
        source: Box::new(source),
    })
}

/// Tagging
impl ImageService {
    /// Adds the reference `target` (a tag; `:latest` when none) to the image `source` names,
    /// moving it from another image if it pointed elsewhere, as `docker tag` does.
    pub fn tag_image(&self, source: &str, target: &str) -> Result<Reference, Error> {
        let id = self.resolve(source)?;
        let reference = parse(target)?;
        if reference.digest().is_some() {
            return Err(Error::TagWithDigest {
                text: target.to_owned(),
            });
        }
        let reference = reference.tag_name_only();
        self.stores
            .references
            .add_tag(&reference, id.digest(), true)?;
        Ok(reference)
    }
}
