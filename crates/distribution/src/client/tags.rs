//! `GET /v2/<name>/tags/list`, following `Link` pagination.

use serde::Deserialize;

use super::Repository;
use crate::error::Error;

/// The most bytes of one tag-list page read.
const MAX_TAG_PAGE: usize = 4 << 20;

/// The most pages followed (a registry that links to itself forever stops here).
const MAX_PAGES: usize = 10_000;

/// The tags of one repository.
#[derive(Debug, Clone, Copy)]
pub struct Tags<'r> {
    repo: &'r Repository,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl<'r> Tags<'r> {
    pub(super) fn new(repo: &'r Repository) -> Tags<'r> {
        Tags { repo }
    }

    /// Every tag, in the registry's order, following `Link: <…>; rel="next"` pages.
    pub async fn all(&self) -> Result<Vec<String>, Error> {
        let mut url = self.repo.url("tags/list")?;
        let mut tags = Vec::new();
        for _ in 0..MAX_PAGES {
            let response = self
                .repo
                .transport()
                .send(imgsvc_registry_transport::Request::get(url.clone()))
                .await?
                .error_for_status()
                .await?;
            let next = response
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let body = response.bytes_limited(MAX_TAG_PAGE).await?;
            let page: Page = serde_json::from_slice(&body).map_err(|e| Error::InvalidTagList {
                repository: self.repo.name().to_owned(),
                reason: e.to_string(),
            })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(link) => {
                    url = url.join(&link).map_err(|e| Error::InvalidTagList {
                        repository: self.repo.name().to_owned(),
                        reason: format!("bad Link {link:?}: {e}"),
                    })?;
                }
                None => return Ok(tags),
            }
        }
        Err(Error::InvalidTagList {
            repository: self.repo.name().to_owned(),
            reason: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// Whether `tag` exists (a `HEAD` of its manifest).
    pub async fn exists(&self, tag: &str) -> Result<bool, Error> {
        self.repo
            .manifests()
            .exists(&super::ManifestRef::Tag(tag.to_owned()))
            .await
    }
}

/// The target of the `rel="next"` entry of a `Link` header.
///
/// ```text
/// </v2/a/tags/list?n=2&last=b>; rel="next"  ->  /v2/a/tags/list?n=2&last=b
/// ```
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|entry| {
        let (target, params) = entry.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_found_among_others() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(
            next_link(r#"<https://x/prev>; rel="prev", <https://x/next>; rel="next""#).as_deref(),
            Some("https://x/next")
        );
        assert_eq!(next_link(r#"<https://x/prev>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }
}
