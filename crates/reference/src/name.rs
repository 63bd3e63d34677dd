//! [`Name`]: a repository name, an optional registry domain and a path.

use std::fmt;
use std::str::FromStr;

use crate::error::snippet;
use crate::{Error, grammar};

/// The longest repository path Docker accepts (the domain does not count).
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A repository name: an optional domain (registry host, with optional port) and a path,
/// e.g. `docker.io/library/ubuntu` or `localhost:5000/team/app`.
///
/// The domain is recognised by position, as Docker does: the first `/`-separated component is
/// the domain whenever it fits the domain grammar. So `library/ubuntu` without normalization
/// has domain `library`; use [`parse_normalized_named`](crate::parse_normalized_named) for
/// Docker's command-line rules.
///
/// ```
/// use imgsvc_reference::Name;
///
/// let name: Name = "localhost:5000/team/app".parse()?;
/// assert_eq!(name.domain(), "localhost:5000");
/// assert_eq!(name.path(), "team/app");
/// assert_eq!(name.to_string(), "localhost:5000/team/app");
/// assert!("team/App".parse::<Name>().is_err());
/// # Ok::<(), imgsvc_reference::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name {
    /// `domain/path`, or just `path` when there is no domain.
    full: String,
    /// The length of the domain in `full` (0 for none).
    domain_len: usize,
}

/// Construction
impl Name {
    /// Validates a repository name without normalizing it (Docker's `WithName`).
    ///
    /// ```
    /// let name = imgsvc_reference::Name::new("quay.io/coreos/etcd")?;
    /// assert_eq!(name.domain(), "quay.io");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn new(name: &str) -> Result<Name, Error> {
        let Some(domain_len) = split_name(name.as_bytes()) else {
            return Err(Error::InvalidFormat {
                input: snippet(name),
                reason: "a repository name is [domain/]path, with lowercase path components",
            });
        };
        Name::checked(name, domain_len)
    }

    /// A name from text the parser has matched, with the domain's length; checks the path's
    /// length limit.
    pub(crate) fn checked(full: &str, domain_len: usize) -> Result<Name, Error> {
        let name = Name {
            full: full.to_owned(),
            domain_len,
        };
        let length = name.path().len();
        if length > NAME_TOTAL_LENGTH_MAX {
            return Err(Error::NameTooLong { length });
        }
        Ok(name)
    }
}

/// Access
impl Name {
    /// The registry domain (host and optional port), or `""` when the name has none.
    ///
    /// ```
    /// let name = imgsvc_reference::Name::new("ubuntu")?;
    /// assert_eq!(name.domain(), "");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn domain(&self) -> &str {
        self.full.get(..self.domain_len).unwrap_or_default()
    }

    /// The repository path within the registry, e.g. `library/ubuntu`.
    ///
    /// ```
    /// let name = imgsvc_reference::Name::new("docker.io/library/ubuntu")?;
    /// assert_eq!(name.path(), "library/ubuntu");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn path(&self) -> &str {
        let start = if self.domain_len == 0 {
            0
        } else {
            self.domain_len + 1
        };
        self.full.get(start..).unwrap_or_default()
    }

    /// The whole name, `domain/path` (or `path`).
    ///
    /// ```
    /// let name = imgsvc_reference::Name::new("docker.io/library/ubuntu")?;
    /// assert_eq!(name.as_str(), "docker.io/library/ubuntu");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The short form Docker shows: without the `docker.io/` domain, and without `library/`
    /// for official images (`docker.io/library/ubuntu` is `ubuntu`, `docker.io/library/a/b`
    /// stays `library/a/b`). Docker's `FamiliarName`.
    ///
    /// ```
    /// use imgsvc_reference::Name;
    /// assert_eq!(Name::new("docker.io/library/ubuntu")?.familiar(), "ubuntu");
    /// assert_eq!(Name::new("docker.io/grafana/grafana")?.familiar(), "grafana/grafana");
    /// assert_eq!(Name::new("quay.io/coreos/etcd")?.familiar(), "quay.io/coreos/etcd");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn familiar(&self) -> &str {
        if self.domain() != crate::DEFAULT_DOMAIN {
            return &self.full;
        }
        let path = self.path();
        match path.strip_prefix(crate::OFFICIAL_REPO_PREFIX) {
            Some(official) if !official.contains('/') => official,
            _ => path,
        }
    }
}

/// Where the domain of a repository name ends (0 for no domain), or `None` if the text is not
/// a repository name.
pub(crate) fn split_name(name: &[u8]) -> Option<usize> {
    if let Some(slash) = name.iter().position(|&c| c == b'/') {
        let (first, rest) = name.split_at(slash);
        let rest = rest.get(1..).unwrap_or_default();
        if grammar::is_domain(first) && grammar::is_remote_name(rest) {
            return Some(slash);
        }
    }
    grammar::is_remote_name(name).then_some(0)
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({:?})", self.full)
    }
}

impl FromStr for Name {
    type Err = Error;
    fn from_str(name: &str) -> Result<Name, Error> {
        Name::new(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_component_is_a_domain_when_it_can_be() {
        let cases = [
            ("ubuntu", "", "ubuntu"),
            ("library/ubuntu", "library", "ubuntu"),
            ("foo_bar/baz", "", "foo_bar/baz"),
            ("Foo/bar", "Foo", "bar"),
            ("[::1]:5000/a/b", "[::1]:5000", "a/b"),
        ];
        for (text, domain, path) in cases {
            let name = Name::new(text).expect("a valid name");
            assert_eq!((name.domain(), name.path()), (domain, path), "{text}");
        }
    }

    #[test]
    fn only_the_path_counts_towards_the_length_limit() {
        let long_domain = format!("{}.com/a", "d".repeat(300));
        assert!(Name::new(&long_domain).is_ok());
        let long_path = format!("example.com/{}", "p".repeat(256));
        assert_eq!(
            Name::new(&long_path),
            Err(Error::NameTooLong { length: 256 })
        );
    }
}
