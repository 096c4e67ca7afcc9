//! The sequencer's index trie, shared with the node's readers.
//!
//! The sequencer runs a batch ahead of storage: it files a batch's entries in
//! the trie and signs the batch's commitment while the batch before commits.
//! Readers prove lookups as of the newest *committed* checkpoint. Rather than
//! keep a second trie of their own (as large as the first: ≈ 170 bytes per key),
//! they read the sequencer's at that checkpoint's version: the sequencer labels
//! the trie with each batch's checkpoint size, and the trie keeps the labelled
//! states readable while later batches change it ([`Trie::label`]) until the
//! sequencer, seeing a newer commit, lets the older ones go.
//!
//! A node that does not sequence (a follower on a shared database) holds no
//! shared index, nor does a sequencer that could not read its index again after
//! a failed batch: readers then fall back to a copy of their own, caught up from
//! storage (`http::index`). While the index is read (at start, at a takeover,
//! after a failed batch) readers wait for it.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use glassbox_core::index::{Trie, TrieView};

/// The index trie of the sequencing node, shared between its sequencer (the only
/// writer) and its readers.
#[derive(Default)]
pub struct SharedIndex {
    state: Mutex<State>,
    /// Signalled whenever `state` leaves `Loading`.
    settled: Condvar,
}

#[derive(Default)]
struct State {
    held: Held,
    /// Bumped by every change of `held` but the sequencer's own appends: a load
    /// begun before a reload must not install an outdated trie after it.
    generation: u64,
}

#[derive(Default)]
enum Held {
    /// No shared trie: the node does not sequence, or its sequencer reloads.
    #[default]
    Absent,
    /// Being read from storage (a start or a takeover): readers wait for it.
    Loading,
    Loaded(Trie),
}

/// What a reader found when asking for one version of the trie.
pub enum Read<R> {
    /// The version was read.
    Done(R),
    /// No trie is shared: read a copy of your own.
    Absent,
    /// The trie no longer (or does not yet) keep that version: the log moved on.
    Missing,
}

/// A load of the trie in progress ([`SharedIndex::begin_load`]). Dropped without
/// installing (the loading thread failed or panicked), it leaves the index absent,
/// so readers waiting for it stop waiting.
pub struct Load {
    shared: Arc<SharedIndex>,
    generation: u64,
}

impl SharedIndex {
    /// A shared index holding nothing yet.
    pub fn new() -> Arc<SharedIndex> {
        Arc::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is replaced whole or changed by the trie's own methods, so a
        // panic elsewhere leaves it consistent: recover from poisoning.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drop the trie (the sequencer reloads, or stops sequencing).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.held = Held::Absent;
        self.settled.notify_all();
    }

    /// Start a load: readers wait for it from now on, and only it may install.
    pub fn begin_load(self: &Arc<Self>) -> Load {
        let mut state = self.lock();
        state.generation += 1;
        state.held = Held::Loading;
        Load {
            shared: self.clone(),
            generation: state.generation,
        }
    }

    /// True when a trie is loaded.
    pub fn is_loaded(&self) -> bool {
        matches!(self.lock().held, Held::Loaded(_))
    }

    /// Change the loaded trie (the sequencer): `None` when none is loaded.
    pub fn update<R>(&self, change: impl FnOnce(&mut Trie) -> R) -> Option<R> {
        match &mut self.lock().held {
            Held::Loaded(trie) => Some(change(trie)),
            _ => None,
        }
    }

    /// Read the trie as labelled `version`, waiting while it loads.
    pub fn read<R>(&self, version: u64, read: impl FnOnce(TrieView<'_>) -> R) -> Read<R> {
        let mut state = self.lock();
        while matches!(state.held, Held::Loading) {
            state = self.settled.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        match &state.held {
            Held::Loaded(trie) => match trie.at(version) {
                Some(view) => Read::Done(read(view)),
                None => Read::Missing,
            },
            _ => Read::Absent,
        }
    }
}

impl Load {
    /// Install the loaded trie, unless the index was cleared or reloaded since the
    /// load began (then the trie is outdated and dropped). True when installed.
    pub fn install(self, trie: Trie) -> bool {
        let mut state = self.shared.lock();
        let current = state.generation == self.generation;
        if current {
            state.held = Held::Loaded(trie);
            self.shared.settled.notify_all();
        }
        current
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if state.generation == self.generation && matches!(state.held, Held::Loading) {
            state.held = Held::Absent;
            self.shared.settled.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trie(keys: u64, version: u64) -> Trie {
        let mut t = Trie::new();
        for n in 0..keys {
            t.append([n as u8; 32], n);
        }
        t.label(version);
        t
    }

    #[test]
    fn readers_wait_for_a_load_and_read_its_version() {
        let shared = SharedIndex::new();
        assert!(matches!(shared.read(0, |_| ()), Read::Absent));
        let load = shared.begin_load();
        let reader = {
            let shared = shared.clone();
            std::thread::spawn(move || match shared.read(3, |v| v.len()) {
                Read::Done(n) => n,
                _ => panic!("the load was installed"),
            })
        };
        assert!(load.install(trie(3, 3)));
        assert_eq!(reader.join().unwrap(), 3);
        assert!(matches!(shared.read(4, |_| ()), Read::Missing));
        shared.update(|t| t.append([9; 32], 3)).unwrap();
        assert!(matches!(shared.read(3, |v| v.len()), Read::Done(3)));
    }

    #[test]
    fn a_load_overtaken_by_a_reload_installs_nothing() {
        let shared = SharedIndex::new();
        let stale = shared.begin_load();
        shared.clear();
        let fresh = shared.begin_load();
        assert!(!stale.install(trie(1, 1)));
        assert!(!shared.is_loaded());
        assert!(fresh.install(trie(2, 2)));
        assert!(matches!(shared.read(2, |v| v.len()), Read::Done(2)));
    }

    #[test]
    fn a_failed_load_stops_readers_waiting() {
        let shared = SharedIndex::new();
        let load = shared.begin_load();
        let reader = {
            let shared = shared.clone();
            std::thread::spawn(move || matches!(shared.read(0, |_| ()), Read::Absent))
        };
        drop(load);
        assert!(reader.join().unwrap());
    }
}
