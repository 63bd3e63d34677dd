//! Choosing index entries for a platform: which entries a host can run, best first.

use super::{Descriptor, Index, Platform};
use crate::Error;

/// The platforms a wanted platform can run, best first, after normalization:
///
/// - `amd64/vN` runs `amd64` of lower levels down to v1 (an `amd64` without variant), then
///   `386`;
/// - `arm64/vX.Y` runs lower arm64 variants (v9.N continues with v8.(N+5), its
///   equivalent), down to `v8`, then `arm` `v8` to `v5`;
/// - `arm/vN` runs lower `arm` variants down to `v5`;
/// - others run only themselves.
///
/// The OS must be equal. For Windows, when the wanted platform has an `os.version`,
/// entries whose `os.version` shares its `major.minor.build` come before the others of the
/// same rank. Entries without a platform match everything, last.
///
/// ```
/// use imgsvc_distribution::manifest::{Matcher, Platform};
///
/// let matcher = Matcher::new(&"linux/amd64/v3".parse()?);
/// assert_eq!(matcher.rank(&"linux/amd64/v3".parse()?), Some(0));
/// assert_eq!(matcher.rank(&"linux/x86_64".parse()?), Some(2));
/// assert_eq!(matcher.rank(&"linux/386".parse()?), Some(3));
/// assert_eq!(matcher.rank(&"linux/amd64/v4".parse()?), None);
/// assert!(!matcher.matches(&"windows/amd64".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Matcher {
    /// The wanted platform as given, for messages.
    wanted: Platform,
    /// The normalized OS.
    os: String,
    /// Architecture and variant (empty for none) pairs, best first.
    vector: Vec<(String, String)>,
    /// `major.minor.build` of the wanted Windows version.
    os_version_prefix: Option<String>,
}

/// Construction
impl Matcher {
    /// A matcher for hosts of the `wanted` platform (normalized here).
    pub fn new(wanted: &Platform) -> Matcher {
        let normal = wanted.normalize();
        let os_version_prefix = normal
            .os_version
            .as_deref()
            .filter(|_| normal.os == "windows")
            .map(|v| v.split('.').take(3).collect::<Vec<_>>().join("."));
        Matcher {
            wanted: wanted.clone(),
            vector: vector(
                &normal.architecture,
                normal.variant.as_deref().unwrap_or_default(),
            ),
            os: normal.os,
            os_version_prefix,
        }
    }
}

/// Matching
impl Matcher {
    /// The rank of `platform` (0 is best), or `None` if a host of the wanted platform cannot
    /// run it.
    pub fn rank(&self, platform: &Platform) -> Option<usize> {
        let normal = platform.normalize();
        if normal.os != self.os {
            return None;
        }
        let variant = normal.variant.as_deref().unwrap_or_default();
        self.vector
            .iter()
            .position(|(arch, var)| *arch == normal.architecture && var == variant)
    }

    /// Can a host of the wanted platform run `platform`?
    pub fn matches(&self, platform: &Platform) -> bool {
        self.rank(platform).is_some()
    }

    /// The entries of `index` a host of the wanted platform can run, best first; entries of
    /// equal rank keep the index's order, and entries without a platform come last.
    ///
    /// # Errors
    ///
    /// [`Error::NoMatchingPlatform`] when no entry matches; it lists the platforms offered.
    pub fn select<'a>(&self, index: &'a Index) -> Result<Vec<&'a Descriptor>, Error> {
        let mut ranked: Vec<((usize, bool), &Descriptor)> = index
            .manifests()
            .iter()
            .filter_map(|entry| match &entry.platform {
                None => Some(((usize::MAX, true), entry)),
                Some(platform) => self
                    .rank(platform)
                    .map(|rank| ((rank, !self.same_os_version(platform)), entry)),
            })
            .collect();
        if ranked.is_empty() {
            let mut available: Vec<String> = Vec::new();
            for platform in index.manifests().iter().filter_map(|e| e.platform.as_ref()) {
                let text = platform.to_string();
                if !available.contains(&text) {
                    available.push(text);
                }
            }
            return Err(Error::NoMatchingPlatform {
                wanted: self.wanted.to_string(),
                available,
            });
        }
        ranked.sort_by_key(|(key, _)| *key);
        Ok(ranked.into_iter().map(|(_, entry)| entry).collect())
    }

    /// Does `platform` have the wanted Windows `major.minor.build`?
    fn same_os_version(&self, platform: &Platform) -> bool {
        let (Some(prefix), Some(version)) = (&self.os_version_prefix, &platform.os_version) else {
            return false;
        };
        version
            .strip_prefix(prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    }
}

/// The entries of `index` a host of the `wanted` platform can run, best first (see
/// [`Matcher`]).
///
/// # Errors
///
/// [`Error::NoMatchingPlatform`] when no entry matches.
///
/// ```
/// use imgsvc_distribution::digest::Digest;
/// use imgsvc_distribution::manifest::{self, Descriptor, Index, media_type};
///
/// let entry = |platform: &str| -> Result<Descriptor, Box<dyn std::error::Error>> {
///     let mut d = Descriptor::new(media_type::OCI_MANIFEST, Digest::from_bytes(platform.as_bytes()), 1);
///     d.platform = Some(platform.parse()?);
///     Ok(d)
/// };
/// let index = Index::new(vec![entry("linux/arm/v6")?, entry("linux/arm/v7")?, entry("linux/amd64")?]);
/// let chosen = manifest::select(&index, &"linux/arm".parse()?)?;
/// let order: Vec<String> = chosen.iter().map(|d| d.platform.as_ref().map(|p| p.to_string()).unwrap_or_default()).collect();
/// assert_eq!(order, ["linux/arm/v7", "linux/arm/v6"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn select<'a>(index: &'a Index, wanted: &Platform) -> Result<Vec<&'a Descriptor>, Error> {
    Matcher::new(wanted).select(index)
}

/// Architecture/variant pairs a host of `arch`/`variant` (normalized) runs, best first.
fn vector(arch: &str, variant: &str) -> Vec<(String, String)> {
    let pair = |a: &str, v: String| (a.to_owned(), v);
    let mut out = vec![pair(arch, variant.to_owned())];
    match arch {
        "amd64" => {
            let level = if variant.is_empty() {
                Some(1)
            } else {
                version(variant)
            };
            if let Some(level) = level {
                out.extend((1..level).rev().map(|n| pair("amd64", amd64_variant(n))));
            }
            out.push(pair("386", String::new()));
        }
        "arm" => {
            if let Some(level) = version(variant) {
                out.extend((5..level).rev().map(|n| pair("arm", format!("v{n}"))));
            }
        }
        "arm64" => {
            if let Some((major, minor)) = arm64_version(variant) {
                out = arm64_versions(major, minor)
                    .into_iter()
                    .map(|v| pair("arm64", v))
                    .collect();
            }
            out.extend((5..=8).rev().map(|n| pair("arm", format!("v{n}"))));
        }
        _ => {}
    }
    out
}

/// `vN` as N, for N up to 64: lower variants are listed one by one, and no real
/// architecture has more levels than that.
fn version(variant: &str) -> Option<u32> {
    let n: u32 = variant.strip_prefix('v')?.parse().ok()?;
    (n <= 64).then_some(n)
}

/// The normalized variant of amd64 level `n` (v1 is written as no variant).
fn amd64_variant(n: u32) -> String {
    if n <= 1 {
        String::new()
    } else {
        format!("v{n}")
    }
}

/// `v8`, `v8.N`, `v9`, `v9.N` as (major, minor).
fn arm64_version(variant: &str) -> Option<(u32, u32)> {
    let rest = variant.strip_prefix('v')?;
    let (major, minor) = match rest.split_once('.') {
        Some((major, minor)) => (major.parse().ok()?, minor.parse().ok()?),
        None => (rest.parse().ok()?, 0),
    };
    ((major == 8 && minor <= 9) || (major == 9 && minor <= 5)).then_some((major, minor))
}

/// arm64 variants from `major.minor` down to v8, normalized (`vX` for `vX.0`).
fn arm64_versions(major: u32, minor: u32) -> Vec<String> {
    let name = |major: u32, minor: u32| {
        if minor == 0 {
            format!("v{major}")
        } else {
            format!("v{major}.{minor}")
        }
    };
    let mut out: Vec<String> = Vec::new();
    if major == 9 {
        out.extend((0..=minor).rev().map(|m| name(9, m)));
    }
    // v9.N offers what v8.(N+5) does.
    let v8_minor = if major == 9 {
        (minor + 5).min(9)
    } else {
        minor
    };
    out.extend((0..=v8_minor).rev().map(|m| name(8, m)));
    out
}

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
