//! The crit-bit Merkle trie over hashed index keys, and an in-memory implementation.
//!
//! The trie holds one leaf per key that has entries. Its shape is fixed by the set
//! of keys alone (a crit-bit, or Patricia, trie): a subtree of two or more keys is
//! an inner node at the first bit where their keys differ — bit 0 is the most
//! significant bit of byte 0 — with the keys having 0 there on the left. Hashes:
//!
//! ```text
//! empty trie  = SHA-256("")
//! leaf        = SHA-256(0x00 || key || uint64_be(count) || head)
//! inner       = SHA-256(0x01 || uint8(bit) || left || right)
//! ```
//!
//! where `key` is the 32-byte [`IndexKey::hash`](super::IndexKey::hash) and
//! (count, head) its [`ListHead`]. A trie of one key is its leaf. Because the shape
//! depends only on the keys, anyone who files the log's entries the same way gets
//! the same root, whatever order they inserted keys in.
//!
//! A trie can keep earlier states readable while it changes ([`Trie::label`],
//! [`Trie::at`]): the log's sequencer runs a batch ahead of what storage has
//! committed, and the log's readers prove lookups as of the committed checkpoint
//! from the same trie, not from a copy of it.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::list::ListHead;
use super::proof::{IndexProof, ProofEnd, ProofStep};

const LEAF_PREFIX: u8 = 0x00;
const INNER_PREFIX: u8 = 0x01;

/// The root of a trie with no keys: SHA-256 of the empty string.
pub const EMPTY_ROOT: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The hash of the leaf for `key` holding `value`.
pub fn leaf_hash(key: &[u8; 32], value: &ListHead) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(key);
    h.update(value.count.to_be_bytes());
    h.update(value.head);
    h.finalize().into()
}

/// The hash of an inner node splitting at `bit`.
pub fn inner_hash(bit: u8, left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([INNER_PREFIX, bit]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Bit `i` of `key` (0 = the most significant bit of byte 0), as a child index.
pub fn bit(key: &[u8; 32], i: u8) -> usize {
    usize::from((key[usize::from(i / 8)] >> (7 - i % 8)) & 1)
}

/// The first bit at which `a` and `b` differ, `None` when they are equal.
pub fn crit_bit(a: &[u8; 32], b: &[u8; 32]) -> Option<u8> {
    a.iter().zip(b).enumerate().find_map(|(i, (x, y))| {
        let d = x ^ y;
        // i < 32 and leading_zeros < 8, so the bit index fits in a u8.
        (d != 0).then(|| (i * 8 + d.leading_zeros() as usize) as u8)
    })
}

/// A node reference into the arenas, as a [`Link`] holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ref {
    Leaf(u32),
    Inner(u32),
}

/// A [`Ref`] packed in 32 bits, the top one set for a leaf: an inner node holds
/// two (each arena holds fewer than 2^31 nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Link(u32);

const LEAF_LINK: u32 = 1 << 31;

impl Link {
    fn get(self) -> Ref {
        if self.0 & LEAF_LINK != 0 {
            Ref::Leaf(self.0 & !LEAF_LINK)
        } else {
            Ref::Inner(self.0)
        }
    }
}

impl From<Ref> for Link {
    fn from(r: Ref) -> Link {
        match r {
            Ref::Leaf(l) => Link(l | LEAF_LINK),
            Ref::Inner(i) => Link(i),
        }
    }
}

/// A key and its value: 72 bytes. Its hash is not kept — one SHA-256 of 73
/// bytes when a proof or a rehash needs it — which would add 40 bytes a key.
#[derive(Clone)]
struct Leaf {
    key: [u8; 32],
    value: ListHead,
}

impl Leaf {
    fn hash(&self) -> [u8; 32] {
        leaf_hash(&self.key, &self.value)
    }
}

/// 44 bytes.
#[derive(Clone)]
struct Inner {
    bit: u8,
    dirty: bool,
    children: [Link; 2],
    hash: [u8; 32],
}

/// Nodes of one kind, numbered from 0: a base block (all of a trie built from
/// its leaves, allocated once at its exact size) followed by fixed-size chunks
/// for the nodes added after. Growing never moves what is there: a `Vec`
/// doubling would copy the whole arena, holding old and new copies at once (a
/// transient of half the arena's size in resident memory at every power of two).
#[derive(Clone)]
struct Arena<T> {
    base: Vec<T>,
    chunks: Vec<Vec<T>>,
}

/// Nodes per chunk after the base: 65,536 (4.7 MB of leaves, 2.9 MB of inner
/// nodes), so the chunks' own list stays short and a new chunk is a small
/// allocation.
const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena {
            base: Vec::new(),
            chunks: Vec::new(),
        }
    }
}

impl<T> Arena<T> {
    fn len(&self) -> usize {
        match self.chunks.last() {
            None => self.base.len(),
            Some(last) => self.base.len() + (self.chunks.len() - 1) * CHUNK + last.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.base.is_empty() && self.chunks.is_empty()
    }

    /// Add `node` as number [`len`](Arena::len).
    fn push(&mut self, node: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(node),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(node);
                self.chunks.push(chunk);
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.base.iter().chain(self.chunks.iter().flatten())
    }
}

impl<T> std::ops::Index<usize> for Arena<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        match i.checked_sub(self.base.len()) {
            None => &self.base[i],
            Some(j) => &self.chunks[j >> CHUNK_BITS][j & (CHUNK - 1)],
        }
    }
}

impl<T> std::ops::IndexMut<usize> for Arena<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        match i.checked_sub(self.base.len()) {
            None => &mut self.base[i],
            Some(j) => &mut self.chunks[j >> CHUNK_BITS][j & (CHUNK - 1)],
        }
    }
}

impl std::fmt::Debug for Trie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trie").field("keys", &self.len()).finish()
    }
}

/// An in-memory index trie. Appends mark the path they touch; [`Trie::root`]
/// rehashes only what changed since the last call, so a batch of appends costs
/// each touched node one hash.
///
/// A state given a version with [`Trie::label`] stays readable through
/// [`Trie::at`] while later appends change the trie, until
/// [`Trie::forget_before`] lets it go: the first change after a label saves the
/// labelled content of each node it is about to change (once per node), and a
/// view of that version reads through what was saved. Nodes made after the label
/// are not reachable from its root.
#[derive(Clone, Default)]
pub struct Trie {
    leaves: Arena<Leaf>,
    inners: Arena<Inner>,
    root: Option<Link>,
    /// The version the current (hashed, unchanged since) state was labelled.
    label: Option<u64>,
    /// Earlier labelled states, oldest first, each holding what later changes
    /// overwrote of it.
    pasts: Vec<Past>,
    /// Versions below this are not kept ([`Trie::forget_before`]).
    keep_from: u64,
}

/// A labelled state of a [`Trie`] that changed after it: its root and size, and
/// the content it had of every node changed after it and before the next label.
/// The content of a node at that version is in the first of this and the later
/// pasts that saved it, or else in the trie as it is.
#[derive(Clone)]
struct Past {
    version: u64,
    root: Option<Link>,
    /// How many leaves (keys) and inner nodes existed: nodes made later need no
    /// saving.
    leaves_then: u32,
    inners_then: u32,
    leaves: HashMap<u32, ListHead>,
    inners: HashMap<u32, ([Link; 2], [u8; 32])>,
}

/// A read-only view of one state of a [`Trie`]: the current one, or a labelled
/// earlier one ([`Trie::at`]).
#[derive(Clone, Copy)]
pub struct TrieView<'a> {
    trie: &'a Trie,
    /// The pasts to read through, oldest first (none for the current state).
    pasts: &'a [Past],
}

impl Trie {
    /// An empty trie.
    pub fn new() -> Trie {
        Trie::default()
    }

    /// How many keys have entries.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// True when no key has entries.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The value under `key`: [`ListHead::EMPTY`] for a key with no entries.
    pub fn get(&self, key: &[u8; 32]) -> ListHead {
        self.current().get(key)
    }

    /// Name the current state `version` (hashing what changed) and keep it
    /// readable through [`at`](Trie::at) after later changes, until
    /// [`forget_before`](Trie::forget_before) passes it. Versions must increase.
    pub fn label(&mut self, version: u64) {
        self.root();
        if let Some(earlier) = self.label.replace(version) {
            // Unchanged since: the earlier version is this state too.
            if earlier >= self.keep_from {
                self.pasts.push(self.past(earlier));
            }
        }
    }

    /// Stop keeping the labelled states older than `version` (the current one
    /// stays readable until the trie changes).
    pub fn forget_before(&mut self, version: u64) {
        self.keep_from = self.keep_from.max(version);
        self.pasts.retain(|p| p.version >= version);
    }

    /// The state labelled `version`, if it is still kept.
    pub fn at(&self, version: u64) -> Option<TrieView<'_>> {
        match self.pasts.iter().position(|p| p.version == version) {
            Some(i) => Some(TrieView {
                trie: self,
                pasts: &self.pasts[i..],
            }),
            None => (self.label == Some(version)).then(|| self.current()),
        }
    }

    /// The current state, hashed.
    pub fn view(&mut self) -> TrieView<'_> {
        self.root();
        self.current()
    }

    /// The current state, as it is (hashes as of the last [`root`](Trie::root)).
    fn current(&self) -> TrieView<'_> {
        TrieView {
            trie: self,
            pasts: &[],
        }
    }

    /// A past holding nothing yet for the state as it is now, labelled `version`.
    fn past(&self, version: u64) -> Past {
        Past {
            version,
            root: self.root,
            leaves_then: self.leaves.len() as u32,
            inners_then: self.inners.len() as u32,
            leaves: HashMap::new(),
            inners: HashMap::new(),
        }
    }

    /// Before the first change after a label: keep the labelled state.
    fn open_past(&mut self) {
        if let Some(version) = self.label.take().filter(|v| *v >= self.keep_from) {
            self.pasts.push(self.past(version));
        }
    }

    /// Save leaf `l`'s labelled content before changing it, if a label is kept.
    fn save_leaf(&mut self, l: usize) {
        let value = self.leaves[l].value;
        if let Some(past) = self.pasts.last_mut().filter(|p| (l as u32) < p.leaves_then) {
            past.leaves.entry(l as u32).or_insert(value);
        }
    }

    /// Save inner node `i`'s labelled content before changing it, if a label is kept.
    fn save_inner(&mut self, i: u32) {
        let n = &self.inners[i as usize];
        if let Some(past) = self.pasts.last_mut().filter(|p| i < p.inners_then) {
            past.inners.entry(i).or_insert((n.children, n.hash));
        }
    }

    /// File log entry `index` under `key`. Indices under one key must be appended
    /// in increasing order (the log's order); the trie does not check.
    pub fn append(&mut self, key: [u8; 32], index: u64) {
        self.update(key, |value| value.push(index));
    }

    /// Set `key`'s value outright, as when restoring a saved trie from its leaves.
    /// A value with no entries is ignored: the trie holds only keys with entries.
    pub fn set(&mut self, key: [u8; 32], value: ListHead) {
        if value.count > 0 {
            self.update(key, |_| value);
        }
    }

    /// The trie holding `leaves`, as restoring a saved trie from its stored leaves
    /// needs: what calling [`set`](Trie::set) with each in turn makes — a key given
    /// more than once takes its last value, and a value with no entries changes
    /// nothing. Built from the sorted keys in one pass — no walk from the root per
    /// key — then hashed, the two sides of each large subtree on threads of their
    /// own, up to one per core: at 10^7 keys a few seconds,
    /// where setting them one by one took 25 s of one core and twice the memory
    /// while the arenas grew. The sorted, deduplicated `leaves` become the leaf
    /// arena where they lie (a leaf is a key and its value, laid out as the pair),
    /// so the build holds one copy of them, not two.
    pub fn from_leaves(mut leaves: Vec<([u8; 32], ListHead)>) -> Trie {
        // As `set` does, a value with no entries changes nothing.
        leaves.retain(|(_, value)| value.count > 0);
        // Stable: a key's values stay in the order given, and the last one is kept.
        leaves.sort_by_key(|leaf| leaf.0);
        leaves.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        let inners = leaves.len().saturating_sub(1);
        // In place: the same allocation, the pairs read as leaves.
        let leaves: Vec<Leaf> = leaves
            .into_iter()
            .map(|(key, value)| Leaf { key, value })
            .collect();
        // Every node in the arenas' base blocks, allocated at their exact size.
        let mut trie = Trie {
            leaves: Arena {
                base: leaves,
                chunks: Vec::new(),
            },
            inners: Arena {
                base: Vec::with_capacity(inners),
                chunks: Vec::new(),
            },
            ..Trie::default()
        };
        if !trie.leaves.is_empty() {
            trie.root = Some(trie.build(0, trie.leaves.len()).into());
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        hash_subtree(&mut trie.inners.base, 0, &trie.leaves.base, threads);
        trie
    }

    /// The subtree of leaves `from..to` of the base block (sorted, distinct keys,
    /// at least one): its inner nodes pushed after their children into the base
    /// block of inner nodes, whose capacity [`from_leaves`](Trie::from_leaves) set.
    fn build(&mut self, from: usize, to: usize) -> Ref {
        let sorted = &self.leaves.base[from..to];
        let Some(split_bit) = crit_bit(&sorted[0].key, &sorted[sorted.len() - 1].key) else {
            return Ref::Leaf(from as u32);
        };
        // Sorted keys have 0 at the split bit before those with 1.
        let split = from + sorted.partition_point(|l| bit(&l.key, split_bit) == 0);
        let left = self.build(from, split);
        let right = self.build(split, to);
        self.inners.base.push(Inner {
            bit: split_bit,
            dirty: true,
            children: [left.into(), right.into()],
            hash: [0; 32],
        });
        Ref::Inner(self.inners.base.len() as u32 - 1)
    }

    /// Every key with entries and its value, in no particular order.
    pub fn leaves(&self) -> impl Iterator<Item = ([u8; 32], ListHead)> + '_ {
        self.leaves.iter().map(|l| (l.key, l.value))
    }

    /// Replace `key`'s value by `change(value)` (from [`ListHead::EMPTY`] for a new
    /// key), dirtying the path to it.
    fn update(&mut self, key: [u8; 32], change: impl FnOnce(ListHead) -> ListHead) {
        self.open_past();
        let Some(closest) = self.current().closest_leaf(&key) else {
            let leaf = self.new_leaf(key, change(ListHead::EMPTY));
            self.root = Some(leaf.into());
            return;
        };
        let Some(crit) = crit_bit(&key, &self.leaves[closest].key) else {
            // Known key: change its value and dirty its path.
            self.walk(&key, |_| true);
            self.save_leaf(closest);
            let leaf = &mut self.leaves[closest];
            leaf.value = change(leaf.value);
            return;
        };
        // New key: it splits at `crit` from the node found by walking down
        // through inner nodes that split above `crit`.
        let new = Link::from(self.new_leaf(key, change(ListHead::EMPTY)));
        let parent = self.walk(&key, |n| n.bit < crit);
        let inner = Link::from(Ref::Inner(self.inners.len() as u32));
        let slot = match parent {
            None => self.root.as_mut().expect("non-empty trie"),
            Some((p, side)) => &mut self.inners[p as usize].children[side],
        };
        let old = *slot;
        let mut children = [old, old];
        children[bit(&key, crit)] = new;
        children[1 - bit(&key, crit)] = old;
        *slot = inner;
        self.inners.push(Inner {
            bit: crit,
            dirty: true,
            children,
            hash: [0; 32],
        });
    }

    /// The root hash, rehashing what changed since the last call.
    pub fn root(&mut self) -> [u8; 32] {
        match self.root {
            None => EMPTY_ROOT,
            Some(r) => self.rehash(r.get()),
        }
    }

    /// A proof of `key`'s value (or absence) against [`Trie::root`].
    pub fn prove(&mut self, key: &[u8; 32]) -> IndexProof {
        self.view().prove(key)
    }

    fn new_leaf(&mut self, key: [u8; 32], value: ListHead) -> Ref {
        let r = Ref::Leaf(self.leaves.len() as u32);
        self.leaves.push(Leaf { key, value });
        r
    }

    /// Follow `key` down through inner nodes while `descend` holds, marking each
    /// dirty; returns the last inner node passed and the side taken out of it.
    fn walk(&mut self, key: &[u8; 32], descend: impl Fn(&Inner) -> bool) -> Option<(u32, usize)> {
        let mut last = None;
        let mut node = self.root.map(Link::get);
        while let Some(Ref::Inner(i)) = node {
            if !descend(&self.inners[i as usize]) {
                break;
            }
            self.save_inner(i);
            let n = &mut self.inners[i as usize];
            n.dirty = true;
            let side = bit(key, n.bit);
            last = Some((i, side));
            node = Some(n.children[side].get());
        }
        last
    }

    fn rehash(&mut self, r: Ref) -> [u8; 32] {
        match r {
            Ref::Leaf(l) => self.leaves[l as usize].hash(),
            Ref::Inner(i) => {
                let n = &self.inners[i as usize];
                if !n.dirty {
                    return n.hash;
                }
                let (bit, [left, right]) = (n.bit, n.children);
                let (left, right) = (self.rehash(left.get()), self.rehash(right.get()));
                let n = &mut self.inners[i as usize];
                n.hash = inner_hash(bit, &left, &right);
                n.dirty = false;
                n.hash
            }
        }
    }
}

/// Hash the inner nodes of a trie built by [`Trie::build`]: `inners` is one
/// subtree's nodes in the order built (children before parents, the subtree's
/// root last; the left subtree's nodes, then the right's, then the root), the
/// first at index `first` of the arena. Up to `threads` threads: the two sides of
/// a large subtree are disjoint ranges, hashed at once.
fn hash_subtree(inners: &mut [Inner], first: u32, leaves: &[Leaf], threads: usize) {
    let Some(root) = inners.last() else {
        return;
    };
    if threads > 1 && inners.len() > 4096 {
        // The left subtree ends with the left child; a leaf child has none.
        let left_len = match root.children[0].get() {
            Ref::Inner(i) => (i - first) as usize + 1,
            Ref::Leaf(_) => 0,
        };
        let (subtrees, _) = inners.split_at_mut(inners.len() - 1);
        let (left, right) = subtrees.split_at_mut(left_len);
        let right_first = first + left_len as u32;
        std::thread::scope(|scope| {
            scope.spawn(|| hash_subtree(left, first, leaves, threads / 2));
            hash_subtree(right, right_first, leaves, threads - threads / 2);
        });
        let n = inners.len() - 1;
        hash_node(inners, n, first, leaves);
        return;
    }
    for n in 0..inners.len() {
        hash_node(inners, n, first, leaves);
    }
}

/// Hash `inners[n]` from its children: leaves, or nodes before it in `inners`
/// (whose first node is at index `first` of the arena), already hashed.
fn hash_node(inners: &mut [Inner], n: usize, first: u32, leaves: &[Leaf]) {
    let hash_of = |link: Link| match link.get() {
        Ref::Leaf(l) => leaves[l as usize].hash(),
        Ref::Inner(i) => inners[(i - first) as usize].hash,
    };
    let node = &inners[n];
    let hash = inner_hash(
        node.bit,
        &hash_of(node.children[0]),
        &hash_of(node.children[1]),
    );
    let node = &mut inners[n];
    node.hash = hash;
    node.dirty = false;
}

impl TrieView<'_> {
    /// How many keys have entries.
    pub fn len(&self) -> usize {
        self.pasts
            .first()
            .map_or(self.trie.leaves.len(), |p| p.leaves_then as usize)
    }

    /// True when no key has entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The root hash.
    pub fn root(&self) -> [u8; 32] {
        self.root_ref().map_or(EMPTY_ROOT, |r| self.hash_of(r))
    }

    /// The value under `key`: [`ListHead::EMPTY`] for a key with no entries.
    pub fn get(&self, key: &[u8; 32]) -> ListHead {
        match self.closest_leaf(key) {
            Some(l) if self.trie.leaves[l].key == *key => self.value(l as u32),
            _ => ListHead::EMPTY,
        }
    }

    /// A proof of `key`'s value (or absence) against [`root`](TrieView::root).
    pub fn prove(&self, key: &[u8; 32]) -> IndexProof {
        let mut steps = Vec::new();
        let mut node = self.root_ref();
        while let Some(Ref::Inner(i)) = node {
            let (split, children, _) = self.inner(i);
            let side = bit(key, split);
            steps.push(ProofStep {
                bit: split,
                sibling: self.hash_of(children[1 - side]),
            });
            node = Some(children[side]);
        }
        let end = match node {
            None => ProofEnd::Empty,
            Some(Ref::Leaf(l)) => ProofEnd::Leaf {
                key: self.trie.leaves[l as usize].key,
                value: self.value(l),
            },
            Some(Ref::Inner(_)) => unreachable!("the walk ends at a leaf"),
        };
        IndexProof { steps, end }
    }

    fn root_ref(&self) -> Option<Ref> {
        let root = self.pasts.first().map_or(self.trie.root, |p| p.root);
        root.map(Link::get)
    }

    /// The leaf reached by following `key`'s bits from the root.
    fn closest_leaf(&self, key: &[u8; 32]) -> Option<usize> {
        let mut node = self.root_ref()?;
        loop {
            match node {
                Ref::Leaf(l) => return Some(l as usize),
                Ref::Inner(i) => {
                    let (split, children, _) = self.inner(i);
                    node = children[bit(key, split)];
                }
            }
        }
    }

    /// Leaf `l`'s value in this state.
    fn value(&self, l: u32) -> ListHead {
        let saved = self.pasts.iter().find_map(|p| p.leaves.get(&l));
        saved.copied().unwrap_or(self.trie.leaves[l as usize].value)
    }

    /// Inner node `i`'s split bit, children and hash in this state.
    fn inner(&self, i: u32) -> (u8, [Ref; 2], [u8; 32]) {
        let n = &self.trie.inners[i as usize];
        let saved = self.pasts.iter().find_map(|p| p.inners.get(&i));
        let ([left, right], hash) = saved.copied().unwrap_or((n.children, n.hash));
        (n.bit, [left.get(), right.get()], hash)
    }

    fn hash_of(&self, r: Ref) -> [u8; 32] {
        match r {
            Ref::Leaf(l) => leaf_hash(&self.trie.leaves[l as usize].key, &self.value(l)),
            Ref::Inner(i) => self.inner(i).2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> [u8; 32] {
        Sha256::digest(n.to_be_bytes()).into()
    }

    /// The trie's definition, straight: sort the keys, split on the first bit
    /// where the smallest and largest differ.
    fn by_definition(leaves: &[([u8; 32], ListHead)]) -> [u8; 32] {
        fn go(leaves: &[([u8; 32], ListHead)]) -> [u8; 32] {
            if leaves.len() == 1 {
                return leaf_hash(&leaves[0].0, &leaves[0].1);
            }
            let b = crit_bit(&leaves[0].0, &leaves[leaves.len() - 1].0).unwrap();
            let split = leaves.partition_point(|(k, _)| bit(k, b) == 0);
            inner_hash(b, &go(&leaves[..split]), &go(&leaves[split..]))
        }
        let mut leaves = leaves.to_vec();
        leaves.sort_by_key(|l| l.0);
        if leaves.is_empty() {
            EMPTY_ROOT
        } else {
            go(&leaves)
        }
    }

    #[test]
    fn the_empty_root_is_the_hash_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
        assert_eq!(Trie::new().root(), EMPTY_ROOT);
    }

    #[test]
    fn bits_count_from_the_most_significant_bit_of_byte_zero() {
        let mut k = [0u8; 32];
        k[0] = 0b0100_0000;
        assert_eq!((bit(&k, 0), bit(&k, 1)), (0, 1));
        let mut j = k;
        j[31] = 1;
        assert_eq!(crit_bit(&k, &j), Some(255));
        assert_eq!(crit_bit(&k, &[0; 32]), Some(1));
        assert_eq!(crit_bit(&k, &k), None);
    }

    #[test]
    fn the_root_matches_the_definition_whatever_the_insertion_order() {
        let mut trie = Trie::new();
        let mut want = Vec::new();
        for n in 0..500u64 {
            trie.append(key(n), n);
            want.push((key(n), ListHead::EMPTY.push(n)));
            if n.is_multiple_of(97) {
                assert_eq!(trie.root(), by_definition(&want));
            }
        }
        // Extend some lists; insert the rest in reverse.
        for n in (0..500u64).step_by(7) {
            trie.append(key(n), 1000 + n);
            want[n as usize].1 = want[n as usize].1.push(1000 + n);
        }
        assert_eq!(trie.root(), by_definition(&want));
        let mut reverse = Trie::new();
        for (k, _) in want.iter().rev() {
            let n = want.iter().position(|w| w.0 == *k).unwrap() as u64;
            reverse.append(*k, n);
            if n.is_multiple_of(7) {
                reverse.append(*k, 1000 + n);
            }
        }
        assert_eq!(reverse.root(), trie.root());
        assert_eq!(trie.len(), 500);
    }

    #[test]
    fn a_trie_restored_from_its_leaves_has_the_same_root() {
        let mut trie = Trie::new();
        for n in 0..300u64 {
            trie.append(key(n % 120), n);
        }
        let mut restored = Trie::new();
        for (k, v) in trie.leaves() {
            restored.set(k, v);
        }
        restored.set(key(9999), ListHead::EMPTY);
        assert_eq!(restored.len(), 120);
        assert_eq!(restored.root(), trie.root());
        restored.append(key(3), 5000);
        trie.append(key(3), 5000);
        assert_eq!(restored.root(), trie.root());
    }

    #[test]
    fn a_trie_built_from_leaves_is_the_trie_their_sets_make() {
        let mut leaves = Vec::new();
        let mut one_by_one = Trie::new();
        for n in 0..2_000u64 {
            // Keys repeat (a later value replaces an earlier one) and some values
            // have no entries.
            let value = if n % 11 == 0 {
                ListHead::EMPTY
            } else {
                ListHead::EMPTY.push(n)
            };
            leaves.push((key(n % 700), value));
            one_by_one.set(key(n % 700), value);
        }
        let mut built = Trie::from_leaves(leaves.clone());
        assert_eq!(built.len(), one_by_one.len());
        assert_eq!(built.root(), one_by_one.root());
        for n in 0..800u64 {
            assert_eq!(built.get(&key(n)), one_by_one.get(&key(n)), "key {n}");
            assert_eq!(built.prove(&key(n)), one_by_one.prove(&key(n)), "key {n}");
        }
        // It goes on like any other trie.
        built.append(key(3), 9_000);
        built.append(key(5_000), 9_001);
        one_by_one.append(key(3), 9_000);
        one_by_one.append(key(5_000), 9_001);
        assert_eq!(built.root(), one_by_one.root());
        assert_eq!(Trie::from_leaves(Vec::new()).root(), EMPTY_ROOT);
        let single = vec![(key(1), ListHead::EMPTY.push(1))];
        assert_eq!(
            Trie::from_leaves(single.clone()).root(),
            by_definition(&single)
        );
    }

    #[test]
    fn keys_that_share_long_prefixes_split_deep() {
        let mut keys = Vec::new();
        for b in [255u8, 254, 200, 128, 127, 9, 8, 0] {
            let mut k = [0xAAu8; 32];
            k[usize::from(b / 8)] ^= 1 << (7 - b % 8);
            keys.push(k);
        }
        keys.push([0xAA; 32]);
        let mut trie = Trie::new();
        let mut want = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            trie.append(*k, i as u64);
            want.push((*k, ListHead::EMPTY.push(i as u64)));
            assert_eq!(trie.root(), by_definition(&want), "after {} keys", i + 1);
        }
        for (k, v) in &want {
            assert_eq!(trie.get(k), *v);
        }
        assert_eq!(trie.get(&[0x55; 32]), ListHead::EMPTY);
    }

    /// Labelled states read back as they were, however the trie changed after
    /// them: the root, size, every value and every proof of a copy taken at the
    /// label.
    #[test]
    fn a_labelled_state_reads_as_it_was_while_the_trie_goes_on() {
        let mut trie = Trie::new();
        let mut copies: Vec<(u64, Trie)> = Vec::new();
        let mut next = 0u64;
        for version in 1..=12u64 {
            // Batches of appends: new keys, keys seen before, a deep pair.
            for _ in 0..(version * 37 % 90 + 1) {
                trie.append(key(next % 400), next);
                next += 1;
            }
            if version == 5 {
                let mut k = key(3);
                k[31] ^= 1;
                trie.append(k, next);
                next += 1;
            }
            trie.label(10 * version);
            copies.push((10 * version, trie.clone()));
            if version % 4 == 0 {
                // Labelled again unchanged: both versions are this state.
                trie.label(10 * version + 5);
                copies.push((10 * version + 5, trie.clone()));
            }
            // Readers keep the last few.
            let kept = 10 * version.saturating_sub(3);
            trie.forget_before(kept);
            for (v, copy) in copies.iter_mut() {
                let Some(view) = trie.at(*v) else {
                    assert!(*v < kept, "version {v} lost at {version}");
                    continue;
                };
                assert_eq!(view.root(), copy.root(), "version {v} at {version}");
                assert_eq!(view.len(), copy.len());
                for n in (0..420u64).step_by(7) {
                    assert_eq!(view.get(&key(n)), copy.get(&key(n)), "key {n}");
                    assert_eq!(
                        view.prove(&key(n)),
                        copy.prove(&key(n)),
                        "key {n}, version {v} at {version}"
                    );
                    view.prove(&key(n)).verify(&view.root(), &key(n)).unwrap();
                }
            }
        }
        assert!(trie.at(10).is_none());
        assert!(trie.at(120).is_some());
        assert!(trie.at(130).is_none());
        // Changing the trie ends the current label's claim to be the current state.
        trie.append(key(1), next);
        let view = trie.at(120).expect("kept as a past");
        let (_, copy) = copies.iter_mut().find(|(v, _)| *v == 120).unwrap();
        assert_eq!(view.root(), copy.root());
        assert_ne!(view.root(), trie.clone().root());
    }

    #[test]
    fn an_unlabelled_trie_keeps_no_past() {
        let mut trie = Trie::new();
        for n in 0..100u64 {
            trie.append(key(n), n);
        }
        assert!(trie.at(0).is_none());
        trie.label(1);
        trie.forget_before(2);
        assert!(trie.at(1).is_some(), "the current state is not a past");
        trie.append(key(1), 200);
        assert!(trie.at(1).is_none(), "forgotten before it changed");
        assert!(trie.pasts.is_empty());
    }

    /// The per-key memory the docs state (docs/performance.md): a leaf and, but for
    /// one, an inner node per key.
    #[test]
    fn a_key_costs_a_72_byte_leaf_and_a_44_byte_inner_node() {
        assert_eq!(std::mem::size_of::<Leaf>(), 72);
        assert_eq!(std::mem::size_of::<Inner>(), 44);
    }

    /// Nodes added after a build go into chunks after the built ones: a trie that
    /// grows past a chunk reads and hashes as one built from all its keys.
    #[test]
    fn a_trie_grown_past_a_chunk_is_the_trie_built_from_all_its_keys() {
        let built: Vec<_> = (0..1_000u64)
            .map(|n| (key(n), ListHead::EMPTY.push(n)))
            .collect();
        let mut grown = Trie::from_leaves(built);
        let total = 1_000 + CHUNK as u64 + 10;
        for n in 1_000..total {
            grown.append(key(n), n);
        }
        // A key of the built block and one of the last chunk change too.
        grown.append(key(3), total);
        grown.append(key(total - 1), total + 1);
        assert_eq!(grown.len(), total as usize);
        assert!(grown.inners.chunks.len() >= 2 && grown.leaves.chunks.len() == 2);
        let mut all: Vec<_> = (0..total)
            .map(|n| (key(n), ListHead::EMPTY.push(n)))
            .collect();
        all[3].1 = all[3].1.push(total);
        all[total as usize - 1].1 = all[total as usize - 1].1.push(total + 1);
        let mut expected = Trie::from_leaves(all.clone());
        assert_eq!(grown.root(), expected.root());
        for (k, v) in [&all[3], &all[999], &all[1_000], &all[total as usize - 1]] {
            assert_eq!(grown.get(k), *v);
            assert_eq!(grown.prove(k), expected.prove(k));
        }
        let mut listed: Vec<_> = grown.leaves().collect();
        listed.sort_by_key(|(k, _)| *k);
        all.sort_by_key(|(k, _)| *k);
        assert_eq!(listed, all);
    }

    /// Built from many leaves, the inner nodes are hashed on several threads; the
    /// root is the definition's, and the trie goes on from there.
    #[test]
    fn a_large_trie_built_from_leaves_hashes_as_the_definition_says() {
        let leaves: Vec<_> = (0..20_000u64)
            .map(|n| (key(n), ListHead::EMPTY.push(n)))
            .collect();
        let mut built = Trie::from_leaves(leaves.clone());
        assert_eq!(built.root(), by_definition(&leaves));
        let mut one_by_one = Trie::new();
        for (k, v) in &leaves {
            one_by_one.set(*k, *v);
        }
        built.append(key(7), 30_000);
        one_by_one.append(key(7), 30_000);
        assert_eq!(built.root(), one_by_one.root());
        assert_eq!(built.prove(&key(7)), one_by_one.prove(&key(7)));
    }
}
