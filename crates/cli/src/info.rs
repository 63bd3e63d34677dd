//! `imgsvc info`: the image section of `docker info`.

use crate::{Global, Result};

/// Runs `info`.
pub(crate) fn run(global: &Global) -> Result<()> {
    let info = global.open()?.info()?;
    let mut text = format!("Storage Driver: {}\n", info.driver);
    for (key, value) in &info.driver_status {
        text.push_str(&format!(" {key}: {value}\n"));
    }
    text.push_str(&format!("Images: {}\n", info.images));
    text.push_str(&format!("Root Dir: {}\n", info.root.display()));
    crate::output::print(&text)
}
