//! The storage contract (server/src/storage/mod.rs, "Contract") as test
//! functions, run against every backend: memory, SQLite and PostgreSQL
//! (storage_contract.rs). Each function takes a factory that opens *the same*
//! store on every call (a second call models a restart), fresh for the test.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use glassbox_core::digest::Sha256Digest;
use glassbox_core::index::ListHead;
use glassbox_core::merkle::{self, Hash, HashReader, MemoryTree, NodeId};
use glassbox_server::log::receipt::{OverlayReader, StorageReader};
use glassbox_server::storage::{
    Batch, CheckpointRecord, DayCount, EntryRecord, FirstCopy, IndexLeaf, IndexSnapshot,
    KeyEventRecord, LogIdentity, SearchQuery, SearchTerms, Storage, DAY_MS,
};

/// Opens the store under test (the same one on every call).
pub type Factory<'a> = &'a dyn Fn() -> Arc<dyn Storage>;

/// 2026-01-01T00:00:00Z
pub const T0: i64 = 1_767_225_600_000;

/// The statement digest of test entry `n`.
pub fn statement(n: u32) -> Hash {
    Sha256Digest::of(format!("statement {n}").as_bytes()).0
}

/// A test entry: leaf `n`, with search terms and statement derived from `n`.
pub fn entry(index: u64, n: u32, at_ms: i64) -> EntryRecord {
    let leaf = format!("{{\"leaf\":{n}}}").into_bytes();
    let kinds = ["submission", "review", "build", "key-event"];
    let kind = kinds[(n % 4) as usize].to_string();
    let hex = |tag: &str, v: u32| format!("{tag:0>8}{v:056x}");
    let mut terms = SearchTerms::default();
    match kind.as_str() {
        "submission" | "review" => {
            terms.commits = vec![hex("c", n)[..40].to_string()];
            terms.dir_hashes = vec![hex("d", n)];
            terms.repositories = vec![format!("https://git.example/repo{}", n % 3)];
        }
        "build" => {
            // Two artifacts, sorted, to check multi-valued terms.
            terms.artifacts = vec![hex("a", n), hex("b", n)];
            terms.commits = vec![hex("c", n)[..40].to_string()];
            terms.repositories = vec![format!("https://git.example/repo{}", n % 3)];
        }
        _ => {}
    }
    EntryRecord {
        index,
        leaf_hash: merkle::leaf_hash(&leaf),
        statement_digest: statement(n),
        leaf,
        kind,
        integrated_at_ms: at_ms,
        signers: vec![format!("{:064x}", n % 5)],
        terms,
    }
}

/// Builds batches the way the sequencer does, mirroring them in a MemoryTree.
pub struct Log {
    pub store: Arc<dyn Storage>,
    pub tree: MemoryTree,
    pub next_n: u32,
}

impl Log {
    pub fn new(store: Arc<dyn Storage>) -> Log {
        Log {
            store,
            tree: MemoryTree::new(),
            next_n: 0,
        }
    }

    /// The next batch of `count` entries integrated at `at_ms`, not yet applied.
    pub fn batch(&self, count: u32, at_ms: i64) -> (Batch, MemoryTree) {
        let mut tree = self.tree.clone();
        let mut pending: HashMap<NodeId, Hash> = HashMap::new();
        let mut batch = Batch {
            entries: Vec::new(),
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 0,
                note: Vec::new(),
                created_at_ms: at_ms,
            },
            key_events: Vec::new(),
            index: Vec::new(),
        };
        for n in self.next_n..self.next_n + count {
            let index = tree.size();
            let e = entry(index, n, at_ms);
            let reader = OverlayReader {
                pending: &pending,
                storage: self.store.as_ref(),
            };
            let nodes = merkle::append_hashes(index, e.leaf_hash, &reader).unwrap();
            for (node, hash) in nodes {
                pending.insert(node, hash);
                batch.nodes.push((node, hash));
            }
            if e.kind == "key-event" {
                batch.key_events.push(KeyEventRecord {
                    index,
                    key_id: format!("{:064x}", n),
                    action: if n % 8 == 3 { "register" } else { "revoke" }.into(),
                    details: serde_json::json!({"n": n, "roles": ["vendor"], "name": "k\u{e9}y \"x\""}),
                });
            }
            tree.push(e.leaf_hash);
            batch.entries.push(e);
        }
        let size = tree.size();
        batch.checkpoint.size = size;
        batch.checkpoint.note = format!(
            "test.example/log\n{size}\n{}\n\n— sig\n",
            hex::encode(tree.root())
        )
        .into_bytes();
        (batch, tree)
    }

    /// Append `count` entries in one batch.
    pub fn append(&mut self, count: u32, at_ms: i64) -> Batch {
        self.append_changed(count, at_ms, |_| {})
    }

    /// Append `count` entries in one batch, changed by `change` first (fields
    /// the tree does not hash).
    pub fn append_changed(
        &mut self,
        count: u32,
        at_ms: i64,
        change: impl FnOnce(&mut Batch),
    ) -> Batch {
        let (mut batch, tree) = self.batch(count, at_ms);
        change(&mut batch);
        self.store.append_batch(&batch).expect("append_batch");
        self.tree = tree;
        self.next_n += count;
        batch
    }
}

pub fn identity_is_recorded_once(open: Factory) {
    let s = open();
    assert_eq!(s.identity().unwrap(), None);
    let id = LogIdentity {
        origin: "test.example/log".into(),
        vkey: "test.example/log+01234567+AQID".into(),
    };
    s.set_identity(&id).unwrap();
    s.set_identity(&id).unwrap();
    assert_eq!(s.identity().unwrap(), Some(id.clone()));
    let other = LogIdentity {
        origin: "other.example/log".into(),
        ..id.clone()
    };
    assert!(s.set_identity(&other).is_err());
    assert_eq!(open().identity().unwrap(), Some(id));
}

pub fn appended_entries_read_back_exactly(open: Factory) {
    let mut log = Log::new(open());
    assert_eq!(log.store.latest_checkpoint().unwrap(), None);
    assert_eq!(log.store.entry(0).unwrap(), None);
    let b1 = log.append(3, T0);
    let b2 = log.append(5, T0 + 1000);
    let all: Vec<EntryRecord> = b1.entries.iter().chain(&b2.entries).cloned().collect();
    let s = open();
    for e in &all {
        assert_eq!(s.entry(e.index).unwrap().as_ref(), Some(e));
    }
    assert_eq!(s.entry(8).unwrap(), None);
    let picked = s.entries(&[6, 0, 99, 2]).unwrap();
    assert_eq!(
        picked.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![6, 0, 2]
    );
    assert_eq!(picked[0], all[6]);
    let leaves = s.leaves(2, 7).unwrap();
    assert_eq!(
        leaves,
        all[2..7].iter().map(|e| e.leaf.clone()).collect::<Vec<_>>()
    );
    assert!(s.leaves(4, 4).unwrap().is_empty());
}

pub fn statements_are_found_at_their_first_position(open: Factory) {
    let mut log = Log::new(open());
    log.append(4, T0);
    // Later copies of logged statements, signed by others, as logs written before
    // the sequencer refused them hold: storage keeps them and still answers
    // the first copy. Entry 6 also repeats a statement first logged in its own batch.
    log.append_changed(3, T0 + 1, |b| {
        b.entries[0].statement_digest = statement(1);
        b.entries[1].statement_digest = statement(2);
        b.entries[2].statement_digest = statement(1);
    });
    log.append_changed(2, T0 + 2, |b| {
        b.entries[1].statement_digest = b.entries[0].statement_digest;
    });
    let first = |index: u64, n: u32| {
        Some(FirstCopy {
            index,
            signers: vec![format!("{:064x}", n % 5)],
        })
    };
    let absent = statement(1000);
    for s in [log.store.clone(), open()] {
        assert_eq!(
            s.find_statements(&[
                statement(1),
                absent,
                statement(2),
                statement(0),
                statement(1)
            ])
            .unwrap(),
            vec![first(1, 1), None, first(2, 2), first(0, 0), first(1, 1)]
        );
        assert_eq!(
            s.find_statements(&[statement(7)]).unwrap(),
            vec![first(7, 7)]
        );
        assert!(s.find_statements(&[]).unwrap().is_empty());
        assert_eq!(s.entry(6).unwrap().unwrap().statement_digest, statement(1));
    }
}

/// Many batches of unique statements: each is found at its index by the handle
/// that wrote it, by one opened afresh, and by one opened before most of them
/// were written (a backend that holds recent digests apart must catch up).
pub fn statements_stay_found_across_batches_and_restarts(open: Factory) {
    let mut log = Log::new(open());
    let early = open();
    let mut logged: Vec<(Hash, u64)> = Vec::new();
    let absent = statement(1_000_000);
    for round in 0..100u32 {
        let batch = log.append(1 + round % 7, T0 + i64::from(round));
        logged.extend(batch.entries.iter().map(|e| (e.statement_digest, e.index)));
        if round % 25 != 0 && round % 25 != 24 {
            continue;
        }
        let digests: Vec<Hash> = logged.iter().map(|(d, _)| *d).chain([absent]).collect();
        let want: Vec<Option<u64>> = logged.iter().map(|(_, i)| Some(*i)).chain([None]).collect();
        for s in [log.store.clone(), open(), early.clone()] {
            let found: Vec<Option<u64>> = s
                .find_statements(&digests)
                .unwrap()
                .into_iter()
                .map(|f| f.map(|f| f.index))
                .collect();
            assert_eq!(found, want, "after batch {round}");
        }
    }
}

/// Many batches of builds, each naming its own artifacts and one of five that
/// builds in other batches name too: a search by artifact finds exactly the
/// entries naming it, in order, from the handle that wrote them, one opened
/// afresh and one opened before most of them were written (a backend that
/// holds recent artifacts apart must catch up).
pub fn artifacts_stay_found_across_batches_and_restarts(open: Factory) {
    let mut log = Log::new(open());
    let early = open();
    let shared = |k: u64| format!("{:0>8}{k:056x}", "5ba2ed");
    let mut naming: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for round in 0..100u32 {
        let batch = log.append_changed(1 + round % 9, T0 + i64::from(round), |b| {
            for e in b.entries.iter_mut().filter(|e| e.kind == "build") {
                e.terms.artifacts.push(shared(e.index % 5));
                e.terms.artifacts.sort();
            }
        });
        for e in &batch.entries {
            for a in &e.terms.artifacts {
                naming.entry(a.clone()).or_default().push(e.index);
            }
        }
        if round % 25 != 0 && round % 25 != 24 {
            continue;
        }
        // The shared artifacts, a sample of the others, and one never logged.
        let mut asked: Vec<(String, Vec<u64>)> = naming
            .iter()
            .enumerate()
            .filter(|(i, (a, _))| a.starts_with("005ba2ed") || i % 9 == 0)
            .map(|(_, (a, at))| (a.clone(), at.clone()))
            .collect();
        asked.push((shared(99), Vec::new()));
        for s in [log.store.clone(), open(), early.clone()] {
            for (artifact, want) in &asked {
                let q = SearchQuery {
                    artifact: Some(artifact.clone()),
                    limit: 10_000,
                    ..SearchQuery::default()
                };
                assert_eq!(
                    &indexes(&s.search(&q).unwrap()),
                    want,
                    "{artifact} at {round}"
                );
                let found: Vec<u64> = s
                    .search_indices(&q)
                    .unwrap()
                    .iter()
                    .map(|(i, _)| *i)
                    .collect();
                assert_eq!(&found, want, "{artifact} at {round}");
            }
        }
    }
    assert!(
        naming[&shared(0)].len() > 20,
        "a shared artifact spans many batches"
    );
}

pub fn stored_hashes_prove_like_a_memory_tree(open: Factory) {
    let mut log = Log::new(open());
    // Batches crossing the first full tile (256 leaves) and its level-1 parent.
    let mut sizes = Vec::new();
    for count in [1u32, 2, 60, 193, 1, 47] {
        log.append(count, T0);
        sizes.push(log.tree.size());
    }
    let s = open();
    let reader = StorageReader(s.as_ref());
    let newest = *sizes.last().unwrap();
    for &size in &sizes {
        assert_eq!(
            merkle::tree_root(size, &reader).unwrap(),
            merkle::tree_root(size, &log.tree).unwrap(),
            "root at {size}"
        );
        assert_eq!(
            merkle::consistency_proof(size, newest, &reader).unwrap(),
            merkle::consistency_proof(size, newest, &log.tree).unwrap(),
            "consistency {size} -> {newest}"
        );
    }
    for index in [0, 1, 255, 256, 257, newest - 1] {
        assert_eq!(
            merkle::inclusion_proof(index, newest, &reader).unwrap(),
            merkle::inclusion_proof(index, newest, &log.tree).unwrap(),
            "inclusion of {index}"
        );
    }
    let missing = NodeId {
        level: 0,
        index: newest,
    };
    assert!(s.read_hashes(&[missing]).is_err());
    assert!(s.read_hashes(&[]).unwrap().is_empty());
    // Runs of consecutive nodes (read as ranges where a backend can), single
    // nodes between them, in the order asked.
    let node = |level: u8, index: u64| NodeId { level, index };
    let mut ask: Vec<NodeId> = (250..262).map(|i| node(0, i)).collect();
    ask.push(node(1, 3));
    ask.extend((0..5).map(|i| node(2, i)));
    ask.push(node(0, 7));
    ask.extend((120..128).map(|i| node(1, i)));
    let expected: Vec<Hash> = ask
        .iter()
        .map(|n| log.tree.read_hashes(&[*n]).unwrap()[0])
        .collect();
    assert_eq!(s.read_hashes(&ask).unwrap(), expected);
    // A run that reaches past the tree is refused, not cut short.
    let past: Vec<NodeId> = (newest - 3..newest + 2).map(|i| node(0, i)).collect();
    assert!(s.read_hashes(&past).is_err());
}

pub fn checkpoints_are_kept_and_listed_in_order(open: Factory) {
    let mut log = Log::new(open());
    let mut cps = Vec::new();
    for i in 0..5 {
        cps.push(log.append(2, T0 + i).checkpoint);
    }
    let s = open();
    assert_eq!(s.latest_checkpoint().unwrap().as_ref(), cps.last());
    assert_eq!(s.checkpoint_at(6).unwrap().as_ref(), Some(&cps[2]));
    assert_eq!(s.checkpoint_at(5).unwrap(), None);
    assert_eq!(s.checkpoints(0, 100).unwrap(), cps);
    assert_eq!(s.checkpoints(5, 2).unwrap(), cps[2..4].to_vec());
    assert!(s.checkpoints(11, 10).unwrap().is_empty());
}

fn indexes(found: &[EntryRecord]) -> Vec<u64> {
    found.iter().map(|e| e.index).collect()
}

fn expect(all: &[EntryRecord], q: &SearchQuery, pred: impl Fn(&EntryRecord) -> bool) -> Vec<u64> {
    all.iter()
        .filter(|e| pred(e))
        .filter(|e| q.after.is_none_or(|a| e.index > a))
        .filter(|e| q.before.is_none_or(|b| e.index < b))
        .take(q.limit)
        .map(|e| e.index)
        .collect()
}

pub fn search_honours_every_filter_and_pages(open: Factory) {
    let mut log = Log::new(open());
    let mut all = Vec::new();
    for day in 0..3 {
        all.extend(log.append(12, T0 + day * DAY_MS + 5).entries);
    }
    let s = open();
    let q = |f: &dyn Fn(&mut SearchQuery)| {
        let mut q = SearchQuery {
            limit: 1000,
            ..SearchQuery::default()
        };
        f(&mut q);
        q
    };
    let build = all.iter().find(|e| e.kind == "build").unwrap().clone();
    let sub = all.iter().find(|e| e.kind == "submission").unwrap().clone();
    type Pred<'a> = Box<dyn Fn(&EntryRecord) -> bool + 'a>;
    let cases: Vec<(SearchQuery, Pred)> = vec![
        (
            q(&|q| q.artifact = Some(build.terms.artifacts[1].clone())),
            Box::new(|e| e.terms.artifacts.contains(&build.terms.artifacts[1])),
        ),
        (
            q(&|q| q.commit = Some(sub.terms.commits[0].clone())),
            Box::new(|e| e.terms.commits.contains(&sub.terms.commits[0])),
        ),
        (
            q(&|q| q.dir_hash = Some(sub.terms.dir_hashes[0].clone())),
            Box::new(|e| e.terms.dir_hashes.contains(&sub.terms.dir_hashes[0])),
        ),
        (
            q(&|q| q.repositories = Some(vec!["https://git.example/repo1".into()])),
            Box::new(|e| {
                e.terms
                    .repositories
                    .iter()
                    .any(|r| r == "https://git.example/repo1")
            }),
        ),
        (
            q(&|q| q.signers = Some(vec![format!("{:064x}", 2)])),
            Box::new(|e| e.signers.contains(&format!("{:064x}", 2))),
        ),
        (
            q(&|q| q.kind = Some("review".into())),
            Box::new(|e| e.kind == "review"),
        ),
        (
            q(&|q| q.since_ms = Some(T0 + DAY_MS + 5)),
            Box::new(|e| e.integrated_at_ms >= T0 + DAY_MS + 5),
        ),
        (
            q(&|q| q.until_ms = Some(T0 + DAY_MS + 4)),
            Box::new(|e| e.integrated_at_ms <= T0 + DAY_MS + 4),
        ),
        (
            q(&|q| {
                q.after = Some(4);
                q.before = Some(30);
                q.kind = Some("build".into());
                q.repositories = Some(vec!["https://git.example/repo2".into()]);
            }),
            Box::new(|e| {
                e.kind == "build" && e.terms.repositories.iter().any(|r| r.ends_with("repo2"))
            }),
        ),
        // Any of several repositories or signers; a list of none matches nothing.
        (
            q(&|q| {
                q.repositories = Some(vec![
                    "https://git.example/repo1".into(),
                    "https://git.example/repo2".into(),
                    "https://git.example/never-logged".into(),
                ])
            }),
            Box::new(|e| {
                e.terms
                    .repositories
                    .iter()
                    .any(|r| r.ends_with("repo1") || r.ends_with("repo2"))
            }),
        ),
        (
            q(&|q| q.signers = Some(vec![format!("{:064x}", 2), format!("{:064x}", 3)])),
            Box::new(|e| {
                e.signers.contains(&format!("{:064x}", 2))
                    || e.signers.contains(&format!("{:064x}", 3))
            }),
        ),
        (
            q(&|q| q.repositories = Some(Vec::new())),
            Box::new(|_| false),
        ),
        (q(&|q| q.signers = Some(Vec::new())), Box::new(|_| false)),
        (q(&|q| q.kind = Some("nothing".into())), Box::new(|_| false)),
        (q(&|q| q.limit = 0), Box::new(|_| true)),
    ];
    for (query, pred) in &cases {
        let found = s.search(query).unwrap();
        assert_eq!(indexes(&found), expect(&all, query, pred), "{query:?}");
        for e in &found {
            assert_eq!(e, &all[e.index as usize], "record returned by search");
        }
        // The indices-only search answers what the search does.
        let listed: Vec<(u64, String)> = found.iter().map(|e| (e.index, e.kind.clone())).collect();
        assert_eq!(s.search_indices(query).unwrap(), listed, "{query:?}");
    }
    // Pagination by cursor visits every entry once, in order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .search(&SearchQuery {
                after,
                limit: 7,
                ..SearchQuery::default()
            })
            .unwrap();
        seen.extend(indexes(&page));
        match page.last() {
            Some(last) if page.len() == 7 => after = Some(last.index),
            _ => break,
        }
    }
    assert_eq!(seen, (0..36).collect::<Vec<_>>());
}

pub fn key_events_are_listed_in_log_order(open: Factory) {
    let mut log = Log::new(open());
    let mut events = Vec::new();
    for _ in 0..3 {
        events.extend(log.append(9, T0).key_events);
    }
    assert!(events.len() >= 6);
    assert_eq!(open().key_events().unwrap(), events);
}

pub fn entries_per_day_counts_utc_days(open: Factory) {
    let mut log = Log::new(open());
    log.append(2, T0 - 1); // the day before
    log.append(3, T0);
    log.append(4, T0 + DAY_MS - 1);
    log.append(5, T0 + 2 * DAY_MS + 7);
    let day0 = T0 / DAY_MS;
    let s = open();
    assert_eq!(
        s.entries_per_day(T0 + 3_600_000).unwrap(),
        vec![
            DayCount {
                day: day0,
                entries: 7
            },
            DayCount {
                day: day0 + 2,
                entries: 5
            },
        ]
    );
    assert_eq!(s.entries_per_day(T0 + 3 * DAY_MS).unwrap(), Vec::new());
    assert_eq!(s.entries_per_day(0).unwrap()[0].entries, 2);
}

pub fn cosignatures_are_kept_once_per_witness_key(open: Factory) {
    let mut log = Log::new(open());
    let first = log.append(2, T0).checkpoint;
    let second = log.append(2, T0).checkpoint;
    let sig = |name: &str, key_id: u32| glassbox_core::note::NoteSignature {
        name: name.into(),
        key_id,
        signature: vec![7; 72],
    };
    let (a, b) = (sig("witness.example/a", 1), sig("witness.example/b", 2));
    let s = open();
    s.add_cosignatures(first.size, &[a.clone(), a.clone()])
        .unwrap();
    s.add_cosignatures(first.size, &[b.clone(), a.clone()])
        .unwrap();
    let mut expected = first.note.clone();
    for line in [a.to_line(), b.to_line()] {
        expected.extend_from_slice(line.as_bytes());
        expected.push(b'\n');
    }
    let s = open();
    assert_eq!(s.checkpoint_at(first.size).unwrap().unwrap().note, expected);
    assert_eq!(s.checkpoints(0, 10).unwrap()[0].note, expected);
    assert_eq!(s.latest_checkpoint().unwrap().unwrap(), second);
    s.add_cosignatures(second.size, std::slice::from_ref(&b))
        .unwrap();
    assert!(s
        .latest_checkpoint()
        .unwrap()
        .unwrap()
        .note
        .ends_with(format!("{}\n", b.to_line()).as_bytes()));
}

/// What a failed batch must not leave behind, checked through every read.
fn assert_untouched(s: &dyn Storage, before: &CheckpointRecord, batch: &Batch, events: usize) {
    assert_eq!(s.latest_checkpoint().unwrap().as_ref(), Some(before));
    assert_eq!(s.checkpoint_at(batch.checkpoint.size).unwrap(), None);
    for e in &batch.entries {
        if e.index >= before.size {
            assert_eq!(s.entry(e.index).unwrap(), None, "entry {}", e.index);
        }
    }
    assert_eq!(s.entry(before.size).unwrap(), None);
    let fresh = &batch.entries[0];
    assert_eq!(
        s.find_statements(&[fresh.statement_digest]).unwrap(),
        [None]
    );
    let terms = SearchQuery {
        after: Some(before.size.saturating_sub(1)),
        limit: 100,
        ..SearchQuery::default()
    };
    let found = s.search(&terms).unwrap();
    assert!(
        found.iter().all(|e| e.index < before.size),
        "search sees {found:?}"
    );
    assert_eq!(s.key_events().unwrap().len(), events);
    let new_nodes: Vec<NodeId> = batch
        .nodes
        .iter()
        .filter(|(n, _)| n.level == 0 && n.index >= before.size)
        .map(|(n, _)| *n)
        .collect();
    assert!(s.read_hashes(&new_nodes).is_err());
}

/// Entry 1's level-0 node with another hash: a node no batch may write, since
/// every backend keeps a stored node as it is.
fn rewritten_node(s: &dyn Storage) -> (NodeId, Hash) {
    let node = NodeId { level: 0, index: 1 };
    let mut hash = s.read_hashes(&[node]).unwrap()[0];
    hash[0] ^= 1;
    (node, hash)
}

pub fn failed_batch_leaves_nothing_visible(open: Factory) {
    let mut log = Log::new(open());
    log.append(5, T0);
    let before = log.store.latest_checkpoint().unwrap().unwrap();
    let events = log.store.key_events().unwrap().len();
    // A batch of new entries and key events whose LAST node rewrites a stored
    // one: the backend must refuse it after having written part of it.
    let (mut batch, _) = log.batch(8, T0 + 1);
    batch.nodes.push(rewritten_node(log.store.as_ref()));
    assert!(batch.key_events.iter().any(|k| k.index >= 5));
    assert!(log.store.append_batch(&batch).is_err());
    assert_untouched(log.store.as_ref(), &before, &batch, events);
    // And after a restart.
    assert_untouched(open().as_ref(), &before, &batch, events);
    // The same positions are still free: the honest batch commits.
    log.append(8, T0 + 2);
    assert_eq!(open().latest_checkpoint().unwrap().unwrap().size, 13);
}

/// Index leaf `[k; 32]` listing `indexes`.
fn index_leaf(k: u8, indexes: &[u64]) -> IndexLeaf {
    ([k; 32], ListHead::of(indexes).unwrap())
}

/// The stored index changed after `size`, each key once with its last listed
/// value (as a reader setting the leaves in the order given ends up with), in key
/// order.
fn index_after(s: &dyn Storage, size: u64) -> IndexSnapshot {
    let snapshot = s.index_leaves(size).unwrap();
    let last: std::collections::BTreeMap<_, _> = snapshot.leaves.into_iter().collect();
    IndexSnapshot {
        size: snapshot.size,
        leaves: last.into_iter().collect(),
    }
}

pub fn index_leaves_go_with_their_batch(open: Factory) {
    let mut log = Log::new(open());
    assert_eq!(index_after(log.store.as_ref(), 0), IndexSnapshot::default());
    log.append_changed(3, T0, |b| {
        b.index = vec![index_leaf(1, &[0, 1]), index_leaf(2, &[2])];
    });
    // The second batch replaces leaf 2's value and adds leaf 3.
    log.append_changed(2, T0 + 1, |b| {
        b.index = vec![index_leaf(2, &[2, 4]), index_leaf(3, &[3])];
    });
    let whole = IndexSnapshot {
        size: 5,
        leaves: vec![
            index_leaf(1, &[0, 1]),
            index_leaf(2, &[2, 4]),
            index_leaf(3, &[3]),
        ],
    };
    assert_eq!(index_after(log.store.as_ref(), 0), whole);
    // A reader holding the index at size 3 reads only what the second batch changed.
    assert_eq!(
        index_after(log.store.as_ref(), 3),
        IndexSnapshot {
            size: 5,
            leaves: whole.leaves[1..].to_vec(),
        }
    );
    assert_eq!(
        index_after(log.store.as_ref(), 5),
        IndexSnapshot {
            size: 5,
            leaves: Vec::new(),
        }
    );
    // A refused batch (its last node rewrites a stored one) changes no leaf.
    let (mut batch, _) = log.batch(2, T0 + 2);
    batch.index = vec![index_leaf(1, &[0, 1, 5]), index_leaf(4, &[6])];
    batch.nodes.push(rewritten_node(log.store.as_ref()));
    assert!(log.store.append_batch(&batch).is_err());
    assert_eq!(index_after(log.store.as_ref(), 0), whole);
    // And after a restart.
    assert_eq!(index_after(open().as_ref(), 0), whole);
    assert_eq!(index_after(open().as_ref(), 3).leaves, whole.leaves[1..]);
}

/// Every test of the suite, by name, for the per-backend macro.
#[macro_export]
macro_rules! contract_tests {
    ($factory:path) => {
        $crate::contract_tests!(@each $factory,
            identity_is_recorded_once,
            appended_entries_read_back_exactly,
            statements_are_found_at_their_first_position,
            statements_stay_found_across_batches_and_restarts,
            artifacts_stay_found_across_batches_and_restarts,
            stored_hashes_prove_like_a_memory_tree,
            checkpoints_are_kept_and_listed_in_order,
            search_honours_every_filter_and_pages,
            key_events_are_listed_in_log_order,
            entries_per_day_counts_utc_days,
            cosignatures_are_kept_once_per_witness_key,
            failed_batch_leaves_nothing_visible,
            index_leaves_go_with_their_batch
        );
    };
    (@each $factory:path, $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                $factory(&|open| $crate::storage_contract_suite::$name(open));
            }
        )*
    };
}
