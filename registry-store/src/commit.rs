//! Group commit: concurrent writers batched into one durable redb commit.
//!
//! Each writer hands the committer thread a job and waits. The thread takes every job queued so far, runs them
//! in order inside one write transaction (on its tables, opened once for the batch), commits once (durably), and
//! only then lets each job answer its caller. A job that fails validation writes nothing, so it does not disturb
//! the others in its batch; a failed commit fails every job in the batch. No caller is answered before the commit that holds its write.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Instant;

use redb::Database;

use crate::RegistryError;
use crate::tables::WriteTables;

/// What a job leaves to do once its batch's commit is decided: answer its caller (with the commit's error,
/// if the commit failed).
pub(crate) type Completion = Box<dyn FnOnce(Option<&RegistryError>) + Send>;

/// A write to run inside a shared transaction, on its tables.
pub(crate) type Job = Box<dyn FnOnce(&mut WriteTables<'_>) -> Completion + Send>;

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
        Err(e) => return fail_unrun(batch, &RegistryError::from(e)),
    };
    let size = batch.len();
    let completions: Vec<Completion> = match WriteTables::open(&txn) {
        // The tables close at the end of this arm, before the commit.
        Ok(mut tables) => batch.into_iter().map(|job| job(&mut tables)).collect(),
        Err(e) => return fail_unrun(batch, &RegistryError::from(e)),
    };
    let started = Instant::now();
    let outcome = txn.commit().map_err(RegistryError::from);
    metrics::histogram!("registry_store_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("registry_store_commit_batch_size").record(size as f64);
    let error = outcome.err();
    for completion in completions {
        completion(error.as_ref());
    }
}

/// Jobs that cannot run still owe their callers an answer; running them against nothing is impossible, so they
/// are dropped, which drops their reply channels and wakes each caller with a storage error.
fn fail_unrun(batch: Vec<Job>, error: &RegistryError) {
    tracing::error!(%error, jobs = batch.len(), "cannot open a write transaction or its tables");
    drop(batch);
}

/// A one-shot answer from the committer to one caller, which either blocks for it ([`Answer::wait`]) or polls
/// it from a future ([`Answer::poll`]): a caller in an async runtime waits without holding a thread.
pub(crate) struct Answer<T> {
    slot: Arc<Slot<T>>,
}

/// The committer's side of an [`Answer`]. Dropped without sending, it closes the answer: the caller learns the
/// job never ran instead of waiting forever.
pub(crate) struct Replier<T> {
    slot: Option<Arc<Slot<T>>>,
}

struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

enum State<T> {
    Waiting(Option<Waker>),
    Ready(T),
    Closed,
    Taken,
}

/// A new answer and the replier that fills it.
pub(crate) fn answer<T>() -> (Replier<T>, Answer<T>) {
    let slot = Arc::new(Slot { state: Mutex::new(State::Waiting(None)), ready: Condvar::new() });
    (Replier { slot: Some(slot.clone()) }, Answer { slot })
}

impl<T> Slot<T> {
    fn settle(&self, outcome: State<T>) {
        let previous = std::mem::replace(&mut *self.state.lock().unwrap_or_else(PoisonError::into_inner), outcome);
        self.ready.notify_all();
        if let State::Waiting(Some(waker)) = previous {
            waker.wake();
        }
    }
}

impl<T> Replier<T> {
    /// Answers the caller.
    pub(crate) fn send(mut self, value: T) {
        if let Some(slot) = self.slot.take() {
            slot.settle(State::Ready(value));
        }
    }
}

impl<T> Drop for Replier<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.settle(State::Closed);
        }
    }
}

impl<T> Answer<T> {
    /// Blocks until answered; `None` if the replier was dropped unanswered.
    pub(crate) fn wait(&self) -> Option<T> {
        let mut state = self.slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match std::mem::replace(&mut *state, State::Taken) {
                State::Ready(value) => return Some(value),
                State::Closed | State::Taken => return None,
                waiting @ State::Waiting(_) => {
                    *state = waiting;
                    state = self.slot.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    /// Ready once answered (`None` if the replier was dropped unanswered); until then, `cx` is woken on the answer.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *state, State::Taken) {
            State::Ready(value) => Poll::Ready(Some(value)),
            State::Closed | State::Taken => Poll::Ready(None),
            State::Waiting(_) => {
                *state = State::Waiting(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_polled_answer_is_pending_until_sent_and_its_waker_is_woken_once() {
        let (replier, pending) = answer::<u32>();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert_eq!(pending.poll(&mut cx), Poll::Pending);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
        replier.send(7);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(pending.poll(&mut cx), Poll::Ready(Some(7)));
    }

    #[test]
    fn an_answer_whose_replier_is_dropped_unsent_is_closed_for_both_ways_of_waiting() {
        let (replier, pending) = answer::<u32>();
        drop(replier);
        assert_eq!(pending.wait(), None);
        let (replier, pending) = answer::<u32>();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        assert_eq!(pending.poll(&mut Context::from_waker(&waker)), Poll::Pending);
        drop(replier);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(pending.poll(&mut Context::from_waker(&waker)), Poll::Ready(None));
    }

    #[test]
    fn a_blocked_wait_returns_what_another_thread_sends() {
        let (replier, pending) = answer::<String>();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            replier.send("committed".to_string());
        });
        assert_eq!(pending.wait().as_deref(), Some("committed"));
        sender.join().unwrap();
    }
}
