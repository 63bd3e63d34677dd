//! [`Tag`]: the mutable label after a repository name (`latest`, `v1.2.3`).

use std::fmt;
use std::str::FromStr;

use crate::error::snippet;
use crate::{Error, grammar};

/// A tag: 1 to 128 characters of `A-Z a-z 0-9 _ . -`, not starting with `.` or `-`.
///
/// ```
/// use imgsvc_reference::Tag;
///
/// let tag: Tag = "v1.2.3".parse()?;
/// assert_eq!(tag.as_str(), "v1.2.3");
/// assert!("-rc".parse::<Tag>().is_err());
/// assert_eq!(Tag::latest().as_str(), "latest");
/// # Ok::<(), imgsvc_reference::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

/// The tag Docker adds to a bare name.
pub const LATEST: &str = "latest";

impl Tag {
    /// Validates a tag.
    ///
    /// ```
    /// assert!(imgsvc_reference::Tag::new("1.0").is_ok());
    /// assert!(imgsvc_reference::Tag::new("").is_err());
    /// ```
    pub fn new(tag: &str) -> Result<Tag, Error> {
        if grammar::is_tag(tag.as_bytes()) {
            Ok(Tag(tag.to_owned()))
        } else {
            Err(Error::TagInvalidFormat { tag: snippet(tag) })
        }
    }

    /// The tag `latest`, which Docker adds to a name given without tag or digest.
    ///
    /// ```
    /// assert_eq!(imgsvc_reference::Tag::latest().to_string(), "latest");
    /// ```
    pub fn latest() -> Tag {
        Tag(LATEST.to_owned())
    }

    /// The tag as text.
    ///
    /// ```
    /// let tag = imgsvc_reference::Tag::new("edge")?;
    /// assert_eq!(tag.as_str(), "edge");
    /// # Ok::<(), imgsvc_reference::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps text the parser has already matched against the tag grammar.
    pub(crate) fn from_matched(tag: &str) -> Tag {
        Tag(tag.to_owned())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:?})", self.0)
    }
}

impl FromStr for Tag {
    type Err = Error;
    fn from_str(tag: &str) -> Result<Tag, Error> {
        Tag::new(tag)
    }
}

impl AsRef<str> for Tag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
