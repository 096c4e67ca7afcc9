//! Cutting the submission queue into batches: the one rule the single-node
//! sequencer (`sequencer.rs`) and the shared-storage loop (`leader.rs`) follow.
//!
//! A batch is cut on a steady cadence, every `interval` however long the
//! previous batch took to commit, or as soon as it holds `max` submissions.
//! A cut with nothing queued is an empty batch: the sequencer uses those ticks
//! to settle a commit that ended meanwhile.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// When a batch is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// The cadence: a batch is cut at least this often.
    pub interval: Duration,
    /// A batch is cut as soon as it holds this many submissions (at least 1).
    pub max: usize,
}

/// Takes submissions from a queue and hands them out in batches.
pub struct Batcher<T> {
    max: usize,
    cadence: Interval,
    /// Taken from the queue, not yet handed out: kept here so that a caller
    /// dropping [`next`](Self::next) mid-wait (in a `select!`) loses nothing.
    pending: Vec<T>,
    open: bool,
}

impl<T> Batcher<T> {
    /// The first batch is due one interval from now. Needs a tokio runtime.
    pub fn new(limits: BatchLimits) -> Self {
        let mut cadence =
            tokio::time::interval_at(Instant::now() + limits.interval, limits.interval);
        // A late tick (a slow commit) moves the cadence, not crowds ticks after it.
        cadence.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Batcher {
            max: limits.max.max(1),
            cadence,
            pending: Vec::new(),
            open: true,
        }
    }

    /// The next batch: possibly empty (a tick with nothing queued), never more
    /// than `max`. `None` once the queue is closed and every submission taken
    /// from it was handed out. Cancel-safe.
    pub async fn next(&mut self, rx: &mut mpsc::Receiver<T>) -> Option<Vec<T>> {
        while self.open && self.pending.len() < self.max {
            tokio::select! {
                next = rx.recv() => match next {
                    Some(s) => self.pending.push(s),
                    None => self.open = false,
                },
                _ = self.cadence.tick() => break,
            }
        }
        if self.pending.is_empty() && !self.open {
            return None;
        }
        Some(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_millis(100);

    fn batcher(max: usize) -> Batcher<u32> {
        Batcher::new(BatchLimits {
            interval: INTERVAL,
            max,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_is_cut_at_once_without_waiting_for_the_tick() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut b = batcher(3);
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
        let start = Instant::now();
        assert_eq!(b.next(&mut rx).await, Some(vec![0, 1, 2]));
        assert_eq!(start.elapsed(), Duration::ZERO);
        // The rest waits for the tick: a partial batch is cut on the cadence.
        assert_eq!(b.next(&mut rx).await, Some(vec![3, 4]));
        assert_eq!(start.elapsed(), INTERVAL);
    }

    #[tokio::test(start_paused = true)]
    async fn a_tick_with_nothing_queued_cuts_an_empty_batch() {
        let (_tx, mut rx) = mpsc::channel::<u32>(16);
        let mut b = batcher(3);
        let start = Instant::now();
        assert_eq!(b.next(&mut rx).await, Some(vec![]));
        assert_eq!(b.next(&mut rx).await, Some(vec![]));
        assert_eq!(start.elapsed(), 2 * INTERVAL);
    }

    #[tokio::test(start_paused = true)]
    async fn the_cadence_is_steady_whatever_the_caller_does_between_cuts() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut b = batcher(10);
        let start = Instant::now();
        tx.send(1).await.unwrap();
        assert_eq!(b.next(&mut rx).await, Some(vec![1]));
        // A commit taking 30 ms does not push the next cut back.
        tokio::time::sleep(Duration::from_millis(30)).await;
        tx.send(2).await.unwrap();
        assert_eq!(b.next(&mut rx).await, Some(vec![2]));
        assert_eq!(start.elapsed(), 2 * INTERVAL);
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_queue_is_drained_then_ends() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut b = batcher(2);
        for i in 0..3 {
            tx.send(i).await.unwrap();
        }
        drop(tx);
        assert_eq!(b.next(&mut rx).await, Some(vec![0, 1]));
        let start = Instant::now();
        // The last partial batch is cut as soon as the queue closes, not at a tick.
        assert_eq!(b.next(&mut rx).await, Some(vec![2]));
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(b.next(&mut rx).await, None);
        assert_eq!(b.next(&mut rx).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_cancelled_midway_keeps_what_it_took() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut b = batcher(10);
        tx.send(7).await.unwrap();
        // Cancelled before the tick, as a `select!` on a role change does.
        let cancelled = tokio::time::timeout(INTERVAL / 2, b.next(&mut rx)).await;
        assert!(cancelled.is_err());
        tx.send(8).await.unwrap();
        assert_eq!(b.next(&mut rx).await, Some(vec![7, 8]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_max_of_zero_cuts_batches_of_one() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut b = batcher(0);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(b.next(&mut rx).await, Some(vec![1]));
        assert_eq!(b.next(&mut rx).await, Some(vec![2]));
    }
}
