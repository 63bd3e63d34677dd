//! `HEAD`/`GET /v2/<name>/blobs/<digest>`: a verified byte stream that resumes with `Range`.

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_RANGE, HeaderValue, RANGE};
use imgsvc_digest::{Digest, Digester};
use imgsvc_registry_transport::{Request, Response, Transport};
use url::Url;

use super::Repository;
use super::range::ContentRange;
use crate::error::{Error, Object};

/// The blobs of one repository.
#[derive(Debug, Clone, Copy)]
pub struct Blobs<'r> {
    repo: &'r Repository,
}

impl<'r> Blobs<'r> {
    pub(super) fn new(repo: &'r Repository) -> Blobs<'r> {
        Blobs { repo }
    }

    /// The blob's size (`HEAD`, redirects followed), `None` when the registry does not have
    /// it.
    pub async fn stat(&self, digest: Digest) -> Result<Option<u64>, Error> {
        let url = self.repo.url(&format!("blobs/{digest}"))?;
        let response = self.repo.transport().send(Request::head(url)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = response.error_for_status().await?;
        Ok(response.content_length())
    }

    /// Opens the blob as a [`BlobStream`] (the first request is sent now). `size` is the
    /// size the manifest gave, when known: more or fewer bytes are an error.
    pub async fn open(&self, digest: Digest, size: Option<u64>) -> Result<BlobStream, Error> {
        let mut stream = self.stream(digest, size)?;
        stream.resume().await?;
        Ok(stream)
    }

    /// A [`BlobStream`] that has sent nothing yet: call [`BlobStream::resume`] to start it.
    pub fn stream(&self, digest: Digest, size: Option<u64>) -> Result<BlobStream, Error> {
        Ok(BlobStream {
            transport: self.repo.transport().clone(),
            url: self.repo.url(&format!("blobs/{digest}"))?,
            digest,
            size,
            digester: Digester::new(digest.algorithm()),
            offset: 0,
            skip: 0,
            response: None,
            finished: false,
        })
    }
}

/// A blob's bytes as they arrive, hashed on the way: the end of the stream is reported only
/// after the bytes matched the digest (and the size, when known).
///
/// A connection that drops mid-body surfaces as an error from [`BlobStream::chunk`]; the
/// caller may then call [`BlobStream::resume`], which asks for the rest with
/// `Range: bytes=<offset>-` and goes on hashing. A server that ignores `Range` and sends the
/// whole blob again has the bytes already delivered skipped; a `Content-Range` that does
/// not start at the offset is refused. Bytes are never delivered twice or out of order.
#[derive(Debug)]
pub struct BlobStream {
    transport: Transport,
    url: Url,
    digest: Digest,
    size: Option<u64>,
    digester: Digester,
    offset: u64,
    /// Bytes still to drop from the current answer (a server that ignored `Range`).
    skip: u64,
    response: Option<Response>,
    finished: bool,
}

/// Access
impl BlobStream {
    /// The blob's digest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// Bytes delivered so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The blob's size: as given, or as the registry announced it.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Whether the whole blob was delivered and verified.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// Reading
impl BlobStream {
    /// (Re)sends the request for the bytes from the current offset on.
    pub async fn resume(&mut self) -> Result<(), Error> {
        self.response = None;
        if self.finished {
            return Ok(());
        }
        let mut request = Request::get(self.url.clone());
        if self.offset > 0 {
            let range =
                HeaderValue::from_str(&format!("bytes={}-", self.offset)).map_err(|_| {
                    Error::Internal {
                        reason: "a range header".to_owned(),
                    }
                })?;
            request = request.header(RANGE, range);
        }
        let response = self
            .transport
            .send(request)
            .await?
            .error_for_status()
            .await?;
        self.skip = 0;
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                let range = response
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        self.bad_range("no Content-Range header found in HTTP 206 response")
                    })?
                    .parse::<ContentRange>()
                    .map_err(|e| self.bad_range(&e.to_string()))?;
                if range.start != self.offset {
                    let reason = format!(
                        "received Content-Range starting at offset {} instead of requested {}",
                        range.start, self.offset
                    );
                    return Err(self.bad_range(&reason));
                }
                if !range.reaches_end() {
                    return Err(self
                        .bad_range("range in Content-Range stops before the end of the content"));
                }
                self.learn_size(range.total)?;
            }
            _ => {
                // A whole answer: either the first request, or a server that ignores Range.
                self.learn_size(response.content_length())?;
                self.skip = self.offset;
            }
        }
        self.response = Some(response);
        Ok(())
    }

    /// The next piece of the blob; `None` once every byte arrived and matched the digest.
    /// After an error, [`BlobStream::resume`] continues where the bytes stopped.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let Some(response) = self.response.as_mut() else {
                return Err(Error::Internal {
                    reason: "blob stream read before it was (re)started".to_owned(),
                });
            };
            let piece = match response.chunk().await {
                Ok(piece) => piece,
                Err(err) => {
                    self.response = None;
                    return Err(err.into());
                }
            };
            let Some(mut piece) = piece else {
                self.response = None;
                return self.finish().map(|()| None);
            };
            if self.skip > 0 {
                let drop = usize::try_from(self.skip)
                    .unwrap_or(usize::MAX)
                    .min(piece.len());
                let _ = piece.split_to(drop);
                self.skip -= drop as u64;
                if piece.is_empty() {
                    continue;
                }
            }
            let next = self.offset + piece.len() as u64;
            if let Some(size) = self.size
                && next > size
            {
                self.response = None;
                return Err(Error::SizeMismatch {
                    what: Object::Blob,
                    digest: self.digest,
                    expected: size,
                    actual: next,
                });
            }
            self.digester.update(&piece);
            self.offset = next;
            return Ok(Some(piece));
        }
    }

    fn finish(&mut self) -> Result<(), Error> {
        if self.skip > 0 {
            return Err(
                self.bad_range("the whole-blob answer ended before the bytes already received")
            );
        }
        if let Some(size) = self.size
            && self.offset != size
        {
            return Err(Error::SizeMismatch {
                what: Object::Blob,
                digest: self.digest,
                expected: size,
                actual: self.offset,
            });
        }
        let actual = self.digester.digest();
        if actual != self.digest {
            return Err(Error::DigestMismatch {
                what: Object::Blob,
                expected: self.digest,
                actual,
            });
        }
        self.finished = true;
        Ok(())
    }

    fn learn_size(&mut self, announced: Option<u64>) -> Result<(), Error> {
        match (self.size, announced) {
            (Some(known), Some(total)) if known != total => Err(Error::SizeMismatch {
                what: Object::Blob,
                digest: self.digest,
                expected: known,
                actual: total,
            }),
            (None, Some(total)) => {
                self.size = Some(total);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn bad_range(&self, reason: &str) -> Error {
        Error::BadRange {
            digest: self.digest,
            reason: reason.to_owned(),
        }
    }
}
