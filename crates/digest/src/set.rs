//! [`DigestSet`]: a set of digests searchable by unique prefix, as `docker` finds an image
//! from the first few characters of its ID.

use std::cmp::Ordering;

use crate::error::snippet;
use crate::{Algorithm, Digest, Error, hex};

/// A set of digests that can be searched by a unique prefix of their encoded part.
///
/// Lookup follows Docker's rules ([`lookup`](Self::lookup)); each algorithm's digests are kept
/// sorted, so a lookup is a binary search: O(log n) with no allocation on success.
///
/// ```
/// use imgsvc_digest::{Digest, DigestSet, Error};
///
/// let foo = Digest::from_bytes(b"foo"); // sha256:2c26b46b68ff...
/// let bar = Digest::from_bytes(b"bar"); // sha256:fcde2b2edba5...
/// let set: DigestSet = [foo, bar].into_iter().collect();
///
/// assert_eq!(set.lookup("2c26")?, foo);
/// assert_eq!(set.lookup("sha256:fcde")?, bar);
/// assert!(matches!(set.lookup("ab"), Err(Error::NotFound { .. })));
/// assert!(matches!(set.lookup(""), Err(Error::Ambiguous { .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DigestSet {
    /// One sorted, duplicate-free list per algorithm, indexed like [`Algorithm::ALL`].
    by_algorithm: [Vec<Digest>; Algorithm::ALL.len()],
}

/// Construction and changes
impl DigestSet {
    /// An empty set.
    ///
    /// ```
    /// assert!(imgsvc_digest::DigestSet::new().is_empty());
    /// ```
    pub fn new() -> DigestSet {
        DigestSet::default()
    }

    /// Adds a digest; returns false if it was already there.
    ///
    /// Insertion keeps the list sorted, so it moves the entries after it; to fill a set with
    /// many digests at once, collect or [`extend`](Extend::extend) it, which sorts once.
    ///
    /// ```
    /// use imgsvc_digest::{Digest, DigestSet};
    /// let mut set = DigestSet::new();
    /// assert!(set.insert(Digest::from_bytes(b"foo")));
    /// assert!(!set.insert(Digest::from_bytes(b"foo")));
    /// assert_eq!(set.len(), 1);
    /// ```
    pub fn insert(&mut self, digest: Digest) -> bool {
        let list = self.list_mut(digest.algorithm());
        match list.binary_search(&digest) {
            Ok(_) => false,
            Err(at) => {
                list.insert(at, digest);
                true
            }
        }
    }

    /// Removes a digest; returns false if it was not there.
    ///
    /// ```
    /// use imgsvc_digest::{Digest, DigestSet};
    /// let mut set: DigestSet = [Digest::from_bytes(b"foo")].into_iter().collect();
    /// assert!(set.remove(&Digest::from_bytes(b"foo")));
    /// assert!(!set.remove(&Digest::from_bytes(b"foo")));
    /// ```
    pub fn remove(&mut self, digest: &Digest) -> bool {
        let list = self.list_mut(digest.algorithm());
        match list.binary_search(digest) {
            Ok(at) => {
                list.remove(at);
                true
            }
            Err(_) => false,
        }
    }
}

/// Queries
impl DigestSet {
    /// Finds the one digest that `text` names, Docker's way:
    ///
    /// - Text that parses as a digest, or fails only on its length or an unknown algorithm
    ///   (`sha256:2c26`), constrains the algorithm; the part after `:` is the prefix.
    /// - Any other text (`2c26b4`, ``) is a prefix of the encoded part under any algorithm.
    /// - A digest whose encoded part equals the prefix wins outright; otherwise exactly one
    ///   digest must start with it. None is [`Error::NotFound`], several
    ///   [`Error::Ambiguous`]. There is no minimum length: the empty text finds the only
    ///   digest of a one-element set.
    ///
    /// Unlike Docker's set, a constrained lookup only ever considers digests of the named
    /// algorithm (Docker can miss a match that sorts after a digest of another algorithm).
    ///
    /// ```
    /// use imgsvc_digest::{Algorithm, Digest, DigestSet};
    /// let d = Algorithm::Sha512.hash(b"foo");
    /// let set: DigestSet = [d].into_iter().collect();
    /// assert_eq!(set.lookup(&d.short())?, d);
    /// assert!(set.lookup(&format!("sha256:{}", d.short())).is_err());
    /// # Ok::<(), imgsvc_digest::Error>(())
    /// ```
    pub fn lookup(&self, text: &str) -> Result<Digest, Error> {
        let not_found = || Error::NotFound {
            prefix: snippet(text),
        };
        let (algorithms, prefix): (&[Algorithm], &str) = match Digest::parse(text) {
            Ok(digest) => {
                return self
                    .contains(&digest)
                    .then_some(digest)
                    .ok_or_else(not_found);
            }
            Err(Error::InvalidLength { algorithm, .. }) => {
                let prefix = text.split_once(':').map_or(text, |(_, p)| p);
                (
                    std::slice::from_ref(&Algorithm::ALL[algorithm_index(algorithm)]),
                    prefix,
                )
            }
            Err(Error::Unsupported { .. }) => return Err(not_found()),
            Err(_) => (&Algorithm::ALL, text),
        };

        let mut found: Option<Digest> = None;
        let mut ambiguous = false;
        for &algorithm in algorithms {
            let list = self.list(algorithm);
            let start = list.partition_point(|d| cmp_prefix(d, prefix) == Ordering::Less);
            let mut matches = list
                .get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(|d| cmp_prefix(d, prefix) == Ordering::Equal);
            let Some(first) = matches.next() else {
                continue;
            };
            if prefix.len() == algorithm.encoded_len() {
                // The whole encoded part: an exact match, which wins over everything else.
                return Ok(*first);
            }
            if matches.next().is_some() || found.is_some() {
                ambiguous = true;
            }
            found = Some(*first);
        }
        match found {
            Some(_) if ambiguous => Err(Error::Ambiguous {
                prefix: snippet(text),
            }),
            Some(digest) => Ok(digest),
            None => Err(not_found()),
        }
    }

    /// True if the set holds `digest`.
    ///
    /// ```
    /// use imgsvc_digest::{Digest, DigestSet};
    /// let set: DigestSet = [Digest::from_bytes(b"foo")].into_iter().collect();
    /// assert!(set.contains(&Digest::from_bytes(b"foo")));
    /// ```
    pub fn contains(&self, digest: &Digest) -> bool {
        self.list(digest.algorithm()).binary_search(digest).is_ok()
    }

    /// The number of digests in the set.
    ///
    /// ```
    /// assert_eq!(imgsvc_digest::DigestSet::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.by_algorithm.iter().map(Vec::len).sum()
    }

    /// True if the set holds no digest.
    ///
    /// ```
    /// assert!(imgsvc_digest::DigestSet::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.by_algorithm.iter().all(Vec::is_empty)
    }

    /// Every digest in the set, in the order of their canonical strings.
    ///
    /// ```
    /// use imgsvc_digest::{Digest, DigestSet};
    /// let set: DigestSet = [Digest::from_bytes(b"b"), Digest::from_bytes(b"a")].into_iter().collect();
    /// let all: Vec<Digest> = set.iter().collect();
    /// assert!(all.windows(2).all(|w| w[0] < w[1]));
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = Digest> + '_ {
        self.by_algorithm.iter().flatten().copied()
    }

    fn list(&self, algorithm: Algorithm) -> &Vec<Digest> {
        &self.by_algorithm[algorithm_index(algorithm)]
    }

    fn list_mut(&mut self, algorithm: Algorithm) -> &mut Vec<Digest> {
        &mut self.by_algorithm[algorithm_index(algorithm)]
    }
}

impl Extend<Digest> for DigestSet {
    fn extend<I: IntoIterator<Item = Digest>>(&mut self, digests: I) {
        for digest in digests {
            self.list_mut(digest.algorithm()).push(digest);
        }
        for list in &mut self.by_algorithm {
            list.sort_unstable();
            list.dedup();
        }
    }
}

impl FromIterator<Digest> for DigestSet {
    fn from_iter<I: IntoIterator<Item = Digest>>(digests: I) -> DigestSet {
        let mut set = DigestSet::new();
        set.extend(digests);
        set
    }
}

/// The position of `algorithm` in [`Algorithm::ALL`].
fn algorithm_index(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::Sha256 => 0,
        Algorithm::Sha384 => 1,
        Algorithm::Sha512 => 2,
    }
}

/// Compares the first `prefix.len()` hex digits of `digest` with `prefix`, as strings
/// compare: `Equal` means the digest starts with the prefix. Digests sorted by bytes are
/// sorted by this comparison too, which makes the matches of a prefix one contiguous run.
fn cmp_prefix(digest: &Digest, prefix: &str) -> Ordering {
    let bytes = digest.as_bytes();
    for (i, wanted) in prefix.bytes().enumerate() {
        match hex::digit_at(bytes, i) {
            // The digest ran out first: it sorts before anything longer.
            None => return Ordering::Less,
            Some(digit) if digit != wanted => return digit.cmp(&wanted),
            Some(_) => {}
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(text: &str) -> Digest {
        text.parse().expect("test digests are valid")
    }

    #[test]
    fn prefixes_sort_consistently_with_digests() {
        let mut digests: Vec<Digest> = (0u16..300)
            .map(|i| Digest::from_bytes(&i.to_le_bytes()))
            .collect();
        digests.sort();
        for prefix in ["", "0", "7f", "a3c", "ff", "g", "A"] {
            let order: Vec<Ordering> = digests.iter().map(|d| cmp_prefix(d, prefix)).collect();
            assert!(order.windows(2).all(|w| w[0] <= w[1]), "{prefix:?}");
        }
    }

    #[test]
    fn exact_match_wins_over_a_longer_digest() {
        let short =
            digest("sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        let long = Digest::from_raw(Algorithm::Sha512, &[0xaa; 64]).expect("64 bytes");
        let set: DigestSet = [short, long].into_iter().collect();
        assert_eq!(set.lookup(&short.encoded()).ok(), Some(short));
        assert!(matches!(set.lookup("aaaa"), Err(Error::Ambiguous { .. })));
        assert_eq!(set.lookup("sha512:aaaa").ok(), Some(long));
    }

    #[test]
    fn unknown_algorithms_find_nothing() {
        let set: DigestSet = [Digest::from_bytes(b"foo")].into_iter().collect();
        assert!(matches!(
            set.lookup("md5:2c26"),
            Err(Error::NotFound { .. })
        ));
    }
}
