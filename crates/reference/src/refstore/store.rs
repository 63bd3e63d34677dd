//! [`Store`]: references to image IDs, persisted in `repositories.json`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use imgsvc_digest::Digest;

use super::Error;
use super::file::{self, Lock, Repositories, Stamp};
use crate::{Reference, parse_normalized_named};

/// A repository name that would make `name:<hex>` look like a digest.
const DIGEST_ALGORITHM_NAME: &str = "sha256";

/// One reference and the image it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    /// The reference, normalized.
    pub reference: Reference,
    /// The image ID.
    pub image_id: Digest,
}

/// Docker's tag store: which image each tag and digest reference points at, persisted in
/// Docker's `repositories.json` format.
///
/// References are stored under their familiar forms, as Docker does
/// (`{"Repositories":{"ubuntu":{"ubuntu:24.04":"sha256:…"}}}`), so the file can be shared
/// with Docker's tools. The rules are Docker's: a tag moves to another image only with
/// `force`; a digest reference never moves; a reference with a digest is not a tag; the
/// repository name `sha256` is refused.
///
/// Every change is saved before it returns, atomically (a crash leaves the old file or the
/// new one), under an exclusive lock on `repositories.json.lock`, after re-reading the file
/// if another process changed it: several processes (and several `Store` values in one
/// process) can share a file without losing each other's changes. Reads notice other
/// processes' changes too. A damaged file is reported with its line and column and never
/// overwritten.
///
/// References must be normalized, as [`parse_normalized_named`] gives them.
///
/// ```
/// use imgsvc_reference::{parse_normalized_named, refstore::Store};
/// use imgsvc_digest::Digest;
///
/// let dir = tempfile::tempdir()?;
/// let store = Store::open(dir.path().join("repositories.json"))?;
/// let image = Digest::from_bytes(b"an image config");
///
/// store.add_tag(&parse_normalized_named("ubuntu")?, image, false)?; // stored as ubuntu:latest
/// assert_eq!(store.get(&parse_normalized_named("ubuntu:latest")?)?, image);
/// assert_eq!(store.references(image)?[0].to_string(), "docker.io/library/ubuntu:latest");
/// assert!(store.delete(&parse_normalized_named("ubuntu")?)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    state: Mutex<State>,
}

/// The file's content as last read or written, with the reverse index.
#[derive(Debug)]
struct State {
    stamp: Stamp,
    repositories: Repositories,
    /// Image ID -> (full reference string -> reference), for `references`; built when first
    /// needed after a change, since writers (who may reload often) never need it.
    by_image: Option<HashMap<Digest, BTreeMap<String, Reference>>>,
}

/// Construction
impl Store {
    /// Opens the store at `path` (usually `<root>/image/<driver>/repositories.json`),
    /// creating its directory and an empty file if they do not exist.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("image/overlay2/repositories.json");
    /// imgsvc_reference::refstore::Store::open(&path)?;
    /// assert_eq!(std::fs::read_to_string(&path)?, r#"{"Repositories":{}}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Store, Error> {
        let path =
            std::path::absolute(path.as_ref()).map_err(Error::io("resolve", path.as_ref()))?;
        let dir = file::parent(&path);
        std::fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        {
            let _lock = Lock::acquire(&path)?;
            file::create_if_missing(&path)?;
        }
        let (repositories, stamp) = file::load(&path)?;
        let state = State::new(repositories, stamp);
        Ok(Store {
            path,
            state: Mutex::new(state),
        })
    }

    /// The file this store persists to.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let store = imgsvc_reference::refstore::Store::open(dir.path().join("r.json"))?;
    /// assert!(store.path().ends_with("r.json"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Changes
impl Store {
    /// Points the tag `reference` at `image_id`; a bare name gets the tag `latest`. Moving an
    /// existing tag to another image needs `force`. A reference with a digest is refused: use
    /// [`add_digest`](Self::add_digest).
    ///
    /// ```
    /// use imgsvc_reference::{parse_normalized_named, refstore::{Store, ErrorKind}};
    /// use imgsvc_digest::Digest;
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("repositories.json"))?;
    /// let (a, b) = (Digest::from_bytes(b"a"), Digest::from_bytes(b"b"));
    /// let tag = parse_normalized_named("app:1")?;
    /// store.add_tag(&tag, a, false)?;
    /// assert_eq!(store.add_tag(&tag, b, false).unwrap_err().kind(), ErrorKind::Conflict);
    /// store.add_tag(&tag, b, true)?;
    /// assert_eq!(store.get(&tag)?, b);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_tag(
        &self,
        reference: &Reference,
        image_id: Digest,
        force: bool,
    ) -> Result<(), Error> {
        if reference.digest().is_some() {
            return Err(Error::TagWithDigest {
                reference: reference.familiar_string(),
            });
        }
        self.add_reference(reference.clone().tag_name_only(), image_id, force)
    }

    /// Points the digest reference `reference` (`name@sha256:…`) at `image_id`. A digest
    /// reference never moves to another image, even with `force`; a tag given with the
    /// digest is ignored.
    ///
    /// ```
    /// use imgsvc_reference::{parse_normalized_named, refstore::Store};
    /// use imgsvc_digest::Digest;
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("repositories.json"))?;
    /// let manifest = Digest::from_bytes(b"manifest");
    /// let pinned = parse_normalized_named("app")?.with_digest(manifest);
    /// store.add_digest(&pinned, Digest::from_bytes(b"a"), false)?;
    /// assert!(store.add_digest(&pinned, Digest::from_bytes(b"b"), true).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_digest(
        &self,
        reference: &Reference,
        image_id: Digest,
        force: bool,
    ) -> Result<(), Error> {
        if reference.digest().is_none() {
            return Err(Error::DigestMissing {
                reference: reference.familiar_string(),
            });
        }
        self.add_reference(reference.clone(), image_id, force)
    }

    /// Removes a reference (a bare name means its `latest` tag); says whether it was there.
    ///
    /// ```
    /// use imgsvc_reference::{parse_normalized_named, refstore::Store};
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("repositories.json"))?;
    /// assert!(!store.delete(&parse_normalized_named("never-tagged")?)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete(&self, reference: &Reference) -> Result<bool, Error> {
        let reference = reference.clone().favor_digest().tag_name_only();
        let (repository, key) = keys(&reference);
        let mut state = self.lock_state();
        let _lock = Lock::acquire(&self.path)?;
        state.refresh(&self.path)?;
        let present = state
            .repositories
            .repositories
            .get(repository)
            .is_some_and(|refs| refs.contains_key(&key));
        if !present {
            return Ok(false);
        }
        let mut next = state.repositories.clone();
        if let Some(refs) = next.repositories.get_mut(repository) {
            refs.remove(&key);
            if refs.is_empty() {
                next.repositories.remove(repository);
            }
        }
        state.commit(&self.path, next)?;
        Ok(true)
    }

    fn add_reference(
        &self,
        reference: Reference,
        image_id: Digest,
        force: bool,
    ) -> Result<(), Error> {
        let reference = reference.favor_digest();
        check_normalized(&reference)?;
        let (repository, key) = keys(&reference);
        if repository == DIGEST_ALGORITHM_NAME {
            return Err(Error::AmbiguousName { reference: key });
        }
        let mut state = self.lock_state();
        let _lock = Lock::acquire(&self.path)?;
        state.refresh(&self.path)?;
        let existing = state
            .repositories
            .repositories
            .get(repository)
            .and_then(|refs| refs.get(&key))
            .copied();
        match existing {
            Some(old) if old == image_id => return Ok(()),
            Some(old) if reference.digest().is_some() => {
                return Err(Error::DigestConflict {
                    reference: key,
                    image: old,
                });
            }
            Some(old) if !force => {
                return Err(Error::TagConflict {
                    reference: key,
                    image: old,
                });
            }
            _ => {}
        }
        let mut next = state.repositories.clone();
        next.repositories
            .entry(repository.to_owned())
            .or_default()
            .insert(key, image_id);
        state.commit(&self.path, next)
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // A panic while the state was held cannot leave it half-changed: changes are built on
        // a copy and swapped in only after they are saved.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Queries
impl Store {
    /// The image a reference points at, or `None`. A bare name means its `latest` tag; a
    /// reference with both tag and digest is looked up by its digest.
    ///
    /// ```
    /// use imgsvc_reference::{parse_normalized_named, refstore::Store};
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("repositories.json"))?;
    /// assert_eq!(store.try_get(&parse_normalized_named("ubuntu")?)?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get(&self, reference: &Reference) -> Result<Option<Digest>, Error> {
        let reference = reference.clone().favor_digest().tag_name_only();
        let (repository, key) = keys(&reference);
        let mut state = self.lock_state();
        state.refresh(&self.path)?;
        Ok(state
            .repositories
            .repositories
            .get(repository)
            .and_then(|refs| refs.get(&key))
            .copied())
    }

    /// The image a reference points at; [`Error::NotFound`] if none.
    ///
    /// ```
    /// use imgsvc_reference::{parse_normalized_named, refstore::{Store, ErrorKind}};
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("repositories.json"))?;
    /// let err = store.get(&parse_normalized_named("ubuntu")?).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, reference: &Reference) -> Result<Digest, Error> {
        self.try_get(reference)?.ok_or_else(|| Error::NotFound {
            reference: reference
                .clone()
                .favor_digest()
                .tag_name_only()
                .familiar_string(),
        })
    }

    /// Every reference to `image_id`, sorted by their full text
    /// (`docker.io/library/busybox:latest`), as Docker sorts them.
    ///
    /// ```
    /// use imgsvc_reference::{parse_normalized_named, refstore::Store};
    /// use imgsvc_digest::Digest;
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("repositories.json"))?;
    /// let image = Digest::from_bytes(b"x");
    /// store.add_tag(&parse_normalized_named("b:1")?, image, false)?;
    /// store.add_tag(&parse_normalized_named("a:1")?, image, false)?;
    /// let refs: Vec<String> = store.references(image)?.iter().map(|r| r.familiar_string()).collect();
    /// assert_eq!(refs, ["a:1", "b:1"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn references(&self, image_id: Digest) -> Result<Vec<Reference>, Error> {
        let mut state = self.lock_state();
        state.refresh(&self.path)?;
        Ok(state
            .by_image()
            .get(&image_id)
            .map(|refs| refs.values().cloned().collect())
            .unwrap_or_default())
    }

    /// Every reference in the repository of `name` with its image, sorted by full text.
    ///
    /// Entries of the file that do not parse are left out (Docker returns nothing at all for
    /// the repository then).
    ///
    /// ```
    /// use imgsvc_reference::{parse_normalized_named, refstore::Store};
    /// use imgsvc_digest::Digest;
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("repositories.json"))?;
    /// store.add_tag(&parse_normalized_named("app:1")?, Digest::from_bytes(b"1"), false)?;
    /// store.add_tag(&parse_normalized_named("app:2")?, Digest::from_bytes(b"2"), false)?;
    /// assert_eq!(store.references_by_name(&parse_normalized_named("app")?)?.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn references_by_name(&self, name: &Reference) -> Result<Vec<Association>, Error> {
        let mut state = self.lock_state();
        state.refresh(&self.path)?;
        let mut found: Vec<(String, Association)> = state
            .repositories
            .repositories
            .get(name.familiar_name())
            .into_iter()
            .flatten()
            .filter_map(|(key, &image_id)| {
                let reference = parse_normalized_named(key).ok()?;
                Some((
                    reference.to_string(),
                    Association {
                        reference,
                        image_id,
                    },
                ))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found
            .into_iter()
            .map(|(_, association)| association)
            .collect())
    }
}

impl State {
    fn new(repositories: Repositories, stamp: Stamp) -> State {
        State {
            stamp,
            repositories,
            by_image: None,
        }
    }

    /// The reverse index, built from the repositories on first use.
    fn by_image(&mut self) -> &HashMap<Digest, BTreeMap<String, Reference>> {
        self.by_image.get_or_insert_with(|| {
            let mut by_image: HashMap<Digest, BTreeMap<String, Reference>> = HashMap::new();
            for (key, &image_id) in self.repositories.repositories.values().flatten() {
                // Keys this version cannot parse stay in the file but are not indexed.
                if let Ok(reference) = parse_normalized_named(key) {
                    by_image
                        .entry(image_id)
                        .or_default()
                        .insert(reference.to_string(), reference);
                }
            }
            by_image
        })
    }

    /// Re-reads the file if it changed since it was last read or written.
    fn refresh(&mut self, path: &Path) -> Result<(), Error> {
        if file::stamp(path)? != self.stamp {
            let (repositories, stamp) = file::load(path)?;
            *self = State::new(repositories, stamp);
        }
        Ok(())
    }

    /// Saves `next` and, once it is on disk, makes it the current state.
    fn commit(&mut self, path: &Path, next: Repositories) -> Result<(), Error> {
        let stamp = file::save(path, &next)?;
        *self = State::new(next, stamp);
        Ok(())
    }
}

/// The repository key (familiar name) and reference key (familiar string) Docker files a
/// reference under.
fn keys(reference: &Reference) -> (&str, String) {
    (reference.familiar_name(), reference.familiar_string())
}

/// Refuses a reference whose familiar key would read back as a different reference.
fn check_normalized(reference: &Reference) -> Result<(), Error> {
    let familiar = reference.familiar_string();
    match parse_normalized_named(&familiar) {
        Ok(normalized) if &normalized == reference => Ok(()),
        Ok(normalized) => Err(Error::NotNormalized {
            reference: reference.to_string(),
            normalized: normalized.to_string(),
        }),
        Err(_) => Err(Error::NotNormalized {
            reference: reference.to_string(),
            normalized: familiar,
        }),
    }
}
