//! `imgsvc unpack`: an image's root filesystem in a directory, as `umoci unpack` gives it.

use std::path::Path;

use crate::error::Error;
use crate::service::ImageService;

/// Unpacking
impl ImageService {
    /// Materializes the root filesystem of the image `ref_or_id` names in `dir`, which must
    /// not exist yet: every layer applied in order, whiteouts honoured, owners, modes, links
    /// and devices kept. An image without layers gives an empty directory.
    pub fn unpack(&self, ref_or_id: &str, dir: &Path) -> Result<(), Error> {
        let id = self.resolve(ref_or_id)?;
        let image = self.stores.images.get(id)?;
        match image.chain_id() {
            Some(chain) => Ok(self.stores.layers.unpack(chain, dir)?),
            None => std::fs::create_dir(dir).map_err(|source| Error::Io {
                action: "create",
                path: dir.to_path_buf(),
                source,
            }),
        }
    }
}
