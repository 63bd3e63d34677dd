//! Finding an image as Docker does: by reference, full ID, or unique ID prefix.

use imgsvc_digest::Digest;
use imgsvc_distribution::manifest::{Matcher, Platform};
use imgsvc_imagestore::{Image, ImageId};
use imgsvc_reference::Reference;

use crate::error::Error;
use crate::service::ImageService;

/// Lookups
impl ImageService {
    /// The ID of the image `ref_or_id` names: `sha256:<hex>` (whole), a reference
    /// (`alpine`, `alpine:3`, `repo@sha256:…`; a name alone means `:latest`), or a unique
    /// prefix of an ID (`3f5ef9`, `sha256:3f5e`).
    pub fn resolve(&self, ref_or_id: &str) -> Result<ImageId, Error> {
        let not_found = || Error::NoSuchImage {
            reference: ref_or_id.to_owned(),
        };
        if let Ok(digest) = ref_or_id.parse::<Digest>() {
            let id = ImageId::new(digest);
            return if self.stores.images.contains(id)? {
                Ok(id)
            } else {
                Err(not_found())
            };
        }
        if let Ok(reference) = imgsvc_reference::parse_normalized_named(ref_or_id) {
            let reference = reference.tag_name_only();
            if let Some(id) = self.stores.references.try_get(&reference)? {
                return Ok(ImageId::new(id));
            }
        }
        let hex = ref_or_id.strip_prefix("sha256:").unwrap_or(ref_or_id);
        if !hex.is_empty()
            && hex.len() < 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return match self.stores.images.search(ref_or_id) {
                Ok(id) => Ok(id),
                Err(err) if err.kind() == imgsvc_imagestore::ErrorKind::NotFound => {
                    Err(not_found())
                }
                Err(imgsvc_imagestore::Error::Ambiguous { .. }) => Err(Error::AmbiguousId {
                    prefix: ref_or_id.to_owned(),
                }),
                Err(err) => Err(err.into()),
            };
        }
        // Not found under a reference: a syntax error says so, a valid name is just missing.
        match imgsvc_reference::parse_normalized_named(ref_or_id) {
            Ok(_) => Err(not_found()),
            Err(source) => Err(Error::InvalidReference {
                text: ref_or_id.to_owned(),
                source: Box::new(source),
            }),
        }
    }

    /// The image `ref_or_id` names (as [`resolve`](Self::resolve) finds it); with `platform`,
    /// only if the image is for that platform (Docker's `--platform` on `inspect`/`run`).
    pub fn get_image(&self, ref_or_id: &str, platform: Option<&Platform>) -> Result<Image, Error> {
        let image = self.stores.images.get(self.resolve(ref_or_id)?)?;
        if let Some(wanted) = platform {
            let config = image.config();
            let mut actual = Platform::new(
                config.os.as_deref().unwrap_or("linux"),
                config.architecture.as_deref().unwrap_or_default(),
            );
            actual.variant = config.variant.clone().filter(|v| !v.is_empty());
            let wanted = wanted.normalize();
            if !Matcher::new(&wanted).matches(&actual.normalize()) {
                return Err(Error::WrongPlatform {
                    reference: ref_or_id.to_owned(),
                    wanted: wanted.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
        Ok(image)
    }

    /// The references (tags and digests) of an image, sorted.
    pub fn references(&self, id: ImageId) -> Result<Vec<Reference>, Error> {
        Ok(self.stores.references.references(id.digest())?)
    }
}
