//! What the registry serves: repositories of manifests, tags and blobs.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use imgsvc_digest::Digest;

#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) repos: BTreeMap<String, Repo>,
}

#[derive(Debug, Default)]
pub(crate) struct Repo {
    pub(crate) manifests: HashMap<Digest, Manifest>,
    pub(crate) tags: BTreeMap<String, Digest>,
    pub(crate) blobs: HashMap<Digest, Bytes>,
}

#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) media_type: String,
    pub(crate) bytes: Bytes,
}

impl Store {
    pub(crate) fn repo_mut(&mut self, name: &str) -> &mut Repo {
        self.repos.entry(name.to_owned()).or_default()
    }
}

/// Whether `name` is a valid repository name: `/`-separated components of
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, at most 255 characters.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.split('/').all(valid_component)
}

fn valid_component(component: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = component.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    // Separators between alphanumeric runs: one '.', one or two '_', or any run of '-'.
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = bytes.get(start..i).unwrap_or_default();
        let ok = matches!(sep, b"" | b"." | b"_" | b"__") || sep.iter().all(|&c| c == b'-');
        if !ok {
            return false;
        }
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
    }
    true
}

/// Whether `tag` matches `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn valid_tag(tag: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = tag.as_bytes();
    bytes.first().is_some_and(|&c| word(c))
        && bytes.len() <= 128
        && bytes.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_distribution_grammar() {
        for good in [
            "a",
            "library/ubuntu",
            "a/b/c",
            "a.b",
            "a__b",
            "a---b",
            "x-1/y_2",
        ] {
            assert!(valid_name(good), "{good}");
        }
        for bad in [
            "", "A", "a//b", "/a", "a/", "a..b", "a___b", "-a", "a-", "a:b", "a._b",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(!valid_name(&"a".repeat(256)));
    }

    #[test]
    fn tags_follow_the_reference_grammar() {
        assert!(valid_tag("latest") && valid_tag("v1.2-rc_3") && valid_tag("_x"));
        assert!(
            !valid_tag("") && !valid_tag(".x") && !valid_tag("a/b") && !valid_tag(&"a".repeat(129))
        );
    }
}
