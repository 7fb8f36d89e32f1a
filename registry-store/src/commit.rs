//! Group commit: concurrent writers batched into one durable redb commit.
//!
//! Each writer hands the committer thread a job and waits. The thread takes every job queued so far, runs them
//! in order inside one write transaction, commits once (durably), and only then lets each job answer its
//! caller. A job that fails validation writes nothing, so it does not disturb the others in its batch; a
//! failed commit fails every job in the batch. No caller is answered before the commit that holds its write.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Instant;

use redb::{Database, WriteTransaction};

use crate::RegistryError;

/// What a job leaves to do once its batch's commit is decided: answer its caller (with the commit's error,
/// if the commit failed).
pub(crate) type Completion = Box<dyn FnOnce(Option<&RegistryError>) + Send>;

/// A write to run inside a shared transaction.
pub(crate) type Job = Box<dyn FnOnce(&WriteTransaction) -> Completion + Send>;

/// Most jobs in one batch: bounds the latency a single commit adds to the first job in it.
const MAX_BATCH: usize = 256;

/// How many group commits ran and how many jobs they held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Durable commits made by the committer.
    pub commits: u64,
    /// Registration jobs those commits held.
    pub jobs: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    jobs: AtomicU64,
}

/// The committer thread and the queue to it.
pub(crate) struct Committer {
    sender: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Committer {
    pub(crate) fn start(db: Arc<Database>) -> Self {
        let (sender, receiver) = channel::<Job>();
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        let thread = std::thread::Builder::new()
            .name("registry-commit".into())
            .spawn(move || run(&db, &receiver, &thread_counters))
            .expect("the committer thread starts");
        Self { sender: Some(sender), thread: Some(thread), counters }
    }

    /// Commits and jobs so far.
    pub(crate) fn stats(&self) -> CommitStats {
        CommitStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            jobs: self.counters.jobs.load(Ordering::Relaxed),
        }
    }

    /// Queues a job. Fails only if the committer has stopped.
    pub(crate) fn submit(&self, job: Job) -> Result<(), RegistryError> {
        let sender = self.sender.as_ref().ok_or_else(|| RegistryError::Storage("the registry is closing".into()))?;
        sender.send(job).map_err(|_| RegistryError::Storage("the committer has stopped".into()))
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        // Closing the queue ends the thread's loop once queued jobs are done; joining releases the database.
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(db: &Database, receiver: &Receiver<Job>, counters: &Counters) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        counters.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
        counters.commits.fetch_add(1, Ordering::Relaxed);
        commit_batch(db, batch);
    }
}

fn commit_batch(db: &Database, batch: Vec<Job>) {
    let txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(e) => {
            let error = RegistryError::from(e);
            // The jobs never ran; each answers with the error.
            for job in batch {
                fail_unrun(job, &error);
            }
            return;
        }
    };
    let size = batch.len();
    let completions: Vec<Completion> = batch.into_iter().map(|job| job(&txn)).collect();
    let started = Instant::now();
    let outcome = txn.commit().map_err(RegistryError::from);
    metrics::histogram!("registry_store_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("registry_store_commit_batch_size").record(size as f64);
    let error = outcome.err();
    for completion in completions {
        completion(error.as_ref());
    }
}

/// A job that cannot run still owes its caller an answer; run it against nothing is impossible, so it is
/// dropped, which drops its reply channel and wakes the caller with a storage error.
fn fail_unrun(job: Job, error: &RegistryError) {
    tracing::error!(%error, "cannot open a write transaction");
    drop(job);
}
