//! Writing regular files' contents and metadata on a second thread, so the kernel's work of
//! extracting a layer is split: the applying thread creates entries (path lookups, inode
//! allocation) while this one copies data in and sets owners, modes and times.
//!
//! The applying thread opens each file itself, so every name is still resolved there, inside
//! the layer; this thread only ever works on descriptors it is handed. Work is queued in a
//! bounded channel (a few MiB at most), and [`FileWriter::barrier`] waits until everything
//! queued is done, for the rare operations that must see finished files (removing or
//! stashing one, hardlinking to one).

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rustix::fs::{Gid, Mode, Timestamps, Uid};
use rustix::io::Errno;

use crate::apply::ApplyError;

/// How many jobs may wait; with data pieces of at most [`PIECE`] bytes this bounds the
/// memory in flight.
const JOBS_IN_FLIGHT: usize = 32;

/// The largest piece of data in one job.
pub(crate) const PIECE: usize = 128 << 10;

/// What to set on a file once its data is written.
#[derive(Debug)]
pub(crate) struct Finish {
    /// The entry's name, for errors.
    pub(crate) name: Vec<u8>,
    /// Owner and group, when this process may set them.
    pub(crate) owner: Option<(u32, u32)>,
    /// Permission bits, setuid/setgid/sticky included.
    pub(crate) mode: u32,
    pub(crate) xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) times: Timestamps,
}

enum Job {
    /// A new file: write `data` to it; `last` says whether that is all of it.
    Start {
        file: File,
        finish: Box<Finish>,
        data: Vec<u8>,
        last: bool,
    },
    /// More of the current file's data.
    More { data: Vec<u8>, last: bool },
    /// Reply once every earlier job is done.
    Barrier(SyncSender<()>),
}

/// The handle the applying thread keeps; started on the first file.
#[derive(Default)]
pub(crate) struct FileWriter {
    worker: Option<Worker>,
}

struct Worker {
    jobs: SyncSender<Job>,
    thread: JoinHandle<Result<(), ApplyError>>,
}

impl FileWriter {
    /// Queues a new file with the first piece of its data.
    pub(crate) fn start(
        &mut self,
        file: File,
        finish: Finish,
        data: Vec<u8>,
        last: bool,
    ) -> Result<(), ApplyError> {
        self.send(Job::Start {
            file,
            finish: Box::new(finish),
            data,
            last,
        })
    }

    /// Queues the next piece of the current file's data.
    pub(crate) fn more(&mut self, data: Vec<u8>, last: bool) -> Result<(), ApplyError> {
        self.send(Job::More { data, last })
    }

    /// Waits until every queued job is done; the first error of any of them.
    pub(crate) fn barrier(&mut self) -> Result<(), ApplyError> {
        let Some(worker) = &self.worker else {
            return Ok(());
        };
        let (done, wait) = sync_channel(1);
        if worker.jobs.send(Job::Barrier(done)).is_err() || wait.recv().is_err() {
            return self.stop();
        }
        Ok(())
    }

    /// Finishes every queued job and stops the thread; the first error of any job.
    pub(crate) fn stop(&mut self) -> Result<(), ApplyError> {
        let Some(Worker { jobs, thread }) = self.worker.take() else {
            return Ok(());
        };
        drop(jobs);
        thread.join().unwrap_or_else(|_| {
            Err(ApplyError::Io {
                action: "write",
                name: "the layer's files".to_owned(),
                source: io::Error::other("the file writing thread failed"),
            })
        })
    }

    fn send(&mut self, job: Job) -> Result<(), ApplyError> {
        let worker = match &mut self.worker {
            Some(worker) => worker,
            None => self.worker.insert(Worker::spawn()?),
        };
        if worker.jobs.send(job).is_err() {
            // The thread stopped at an error: report it.
            return self.stop().and(Err(ApplyError::Io {
                action: "write",
                name: "the layer's files".to_owned(),
                source: io::Error::other("the file writing thread stopped"),
            }));
        }
        Ok(())
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        // Nothing may still be writing once the applier is gone (the caller may be about to
        // remove the layer's directory).
        let _ = self.stop();
    }
}

impl Worker {
    fn spawn() -> Result<Worker, ApplyError> {
        let (jobs, queue) = sync_channel(JOBS_IN_FLIGHT);
        let thread = std::thread::Builder::new()
            .name("layer-files".to_owned())
            .spawn(move || run(&queue))
            .map_err(|source| ApplyError::Io {
                action: "start writing",
                name: "the layer's files".to_owned(),
                source,
            })?;
        Ok(Worker { jobs, thread })
    }
}

/// The thread: runs jobs until the applying side hangs up or a job fails.
fn run(queue: &Receiver<Job>) -> Result<(), ApplyError> {
    let mut current: Option<(File, Box<Finish>)> = None;
    while let Ok(job) = queue.recv() {
        let (data, last) = match job {
            Job::Start {
                file,
                finish,
                data,
                last,
            } => {
                current = Some((file, finish));
                (data, last)
            }
            Job::More { data, last } => (data, last),
            Job::Barrier(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let Some((file, finish)) = &mut current else {
            continue;
        };
        file.write_all(&data).map_err(|source| ApplyError::Io {
            action: "write",
            name: String::from_utf8_lossy(&finish.name).into_owned(),
            source,
        })?;
        if last && let Some((file, finish)) = current.take() {
            set_metadata(&file, &finish).map_err(|(action, errno)| ApplyError::Io {
                action,
                name: String::from_utf8_lossy(&finish.name).into_owned(),
                source: errno.into(),
            })?;
        }
    }
    Ok(())
}

/// Sets a written file's owner, extended attributes, mode and times, in the order Docker
/// does (a change of owner clears setuid bits, so the mode comes after it).
fn set_metadata(file: &File, finish: &Finish) -> Result<(), (&'static str, Errno)> {
    if let Some((uid, gid)) = finish.owner {
        rustix::fs::fchown(file, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
            .map_err(|err| ("chown", err))?;
    }
    for (name, value) in &finish.xattrs {
        match rustix::fs::fsetxattr(
            file,
            name.as_slice(),
            value,
            rustix::fs::XattrFlags::empty(),
        ) {
            Ok(()) | Err(Errno::PERM | Errno::NOTSUP) => {}
            Err(err) => return Err(("set extended attributes on", err)),
        }
    }
    rustix::fs::fchmod(file, Mode::from_raw_mode(finish.mode & 0o7777))
        .map_err(|err| ("chmod", err))?;
    rustix::fs::futimens(file, &finish.times).map_err(|err| ("set the times of", err))
}
