//! A bounded in-memory cache of Merkle node hashes in front of any [`Storage`].
//!
//! Every inclusion proof, consistency proof, hash tile, receipt and append reads
//! O(log n) node hashes; without a cache each of them is a database round trip
//! (the per-proof cost grew with the log size, docs/performance.md). A node hash
//! never changes once its batch committed (RFC 9162 §2.1: a complete subtree is
//! fixed by its leaves), so a cached hash can never be stale: there is nothing to
//! invalidate, only memory to bound.
//!
//! # Layout
//!
//! The cache keeps *tiles* (C2SP tlog-tiles, height 8): the tile at tile level
//! `T`, index `N` has room for the 256 nodes of tree level `8T` starting at node
//! `256·N` (its *base*) and every node of levels `8T+1 ..= 8T+7` above them, 510
//! hashes in all, with a bit per node saying whether it is held. A miss costs
//! one storage call for all misses of a request: it reads every node of each
//! missed tile that is complete in the largest tree known to be committed
//! (consecutive runs, which SQLite reads with one range query per level), so a
//! warm proof makes no storage call at all, a cold one exactly one, and the
//! next proof through the same leaf tile is warm. That holds while every tile of
//! the tree fits the bound; in a larger tree a leaf tile read whole would mostly
//! be evicted before its next use, so only the leaf-tile nodes asked for are read
//! (higher tiles are still read whole). Hashes are only ever copied
//! from storage or from a committed batch, never recomputed: the cache answers
//! what storage holds, so a corrupt database is still caught by the start-up
//! check (integrity.rs).
//! Level-0 tiles (leaf hashes) are evicted least recently used first;
//! tiles of higher levels (1/256 as many, and read by every proof) only when
//! nothing else is left, so a scan of leaf tiles cannot push them out.
//!
//! # What enters the cache
//!
//! Only hashes read back from storage, or written by an
//! [`append_batch`](LogStore::append_batch) that returned `Ok` — so a failed batch
//! leaves nothing here, and nothing uncommitted is ever served. A started
//! server fills it ahead of the requests on a thread of its own
//! ([`CachedStorage::warm`]) when every tile of the tree fits the bound;
//! otherwise it fills lazily from the requests that arrive.
//!
//! Appends keep the tiles they start, for the next batches and their receipts,
//! but a leaf tile an append completed leaves the cache [`RETIRE_AFTER`]
//! appends later: under a steady load the appended leaf tiles would otherwise
//! fill the whole bound with hashes nobody asked for (64 MiB per million
//! entries, most of a server's memory under ingestion). Tiles above the leaves
//! stay; a proof through a retired tile reads it back whole, once.
//!
//! # Several nodes on one database
//!
//! When several servers share one PostgreSQL database (leader.rs), another node
//! may append batches this cache never sees. That is safe: committed node hashes
//! are immutable, so whatever this node cached is still true, and a node another
//! node added is read from storage on the first request that needs it.
//! Checkpoints, entries and everything else are not cached and always come from
//! storage.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::records::{
    Batch, CheckpointRecord, DayCount, EntryRecord, FirstCopy, IndexSnapshot, KeyEventRecord,
    LogIdentity, SearchQuery,
};
use super::{Hash, LogStore, NodeId, NoteSignature, QueryStore, Storage, StorageError};

/// The smallest bound of a cache sized to its tree: about 4,000 tiles, every node
/// of a log of a million entries.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// How much memory the cached tiles may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheBound {
    /// At most this many bytes (`hash_cache_mib`); 0 caches nothing beyond the
    /// request being answered.
    Fixed(usize),
    /// Every tile of the committed tree (16 KiB per 256 entries), at least
    /// [`DEFAULT_CACHE_BYTES`], at most `ceiling`: the bound grows with the log,
    /// so whole leaf tiles are read on a miss and stay while the tree fits.
    SizedToTree { ceiling: usize },
}

impl CacheBound {
    /// The bound for a committed tree of `committed` entries.
    fn bytes(self, committed: u64) -> usize {
        match self {
            CacheBound::Fixed(bytes) => bytes,
            CacheBound::SizedToTree { ceiling } => {
                let tree = usize::try_from(tree_bytes(committed)).unwrap_or(usize::MAX);
                tree.max(DEFAULT_CACHE_BYTES).min(ceiling)
            }
        }
    }
}

/// The memory every tile of a tree of `size` entries is charged for.
fn tree_bytes(size: u64) -> u64 {
    let leaf_tiles = size.div_ceil(WIDTH as u64);
    // The tiles above the leaves add 1/255 of them; rounded up to one more.
    let all_tiles = leaf_tiles + leaf_tiles / (WIDTH as u64 - 1) + 1;
    all_tiles.saturating_mul(TILE_BYTES as u64)
}

/// Appends after which a leaf tile that an append completed leaves the cache.
/// The completing batch's receipts read it, and they are built while the next
/// batch commits; the sequencer waits for them before the batch after that.
pub const RETIRE_AFTER: u64 = 2;

/// Tiles one storage read of [`CachedStorage::warm`] asks for: 64 leaf tiles,
/// 16,384 leaf hashes.
const WARM_TILES: u64 = 64;

/// Base nodes per tile (C2SP tlog-tiles height 8).
const WIDTH: usize = 256;
/// Tree levels per tile.
const HEIGHT: u8 = 8;
/// Hashes of a full tile: 256 + 128 + … + 2.
const SLOTS: usize = 2 * WIDTH - 2;
/// Memory charged per cached tile: its hashes, presence bits and map entry.
pub const TILE_BYTES: usize = SLOTS * 32 + 128;

/// Where a tile sits: tile level `T` covers tree levels `8T ..= 8T+7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct TileKey {
    level: u8,
    index: u64,
}

impl TileKey {
    /// The stored node at `row`, `col` of this tile.
    fn node(self, row: u8, col: usize) -> NodeId {
        let shift = HEIGHT - row;
        NodeId::new(
            self.level * HEIGHT + row,
            (self.index << shift) + col as u64,
        )
    }
}

/// A node's place in its tile: tile, level within the tile, position in that level.
#[derive(Clone, Copy, Debug)]
struct Place {
    tile: TileKey,
    row: u8,
    col: usize,
}

impl Place {
    fn of(node: NodeId) -> Option<Place> {
        if node.level >= 64 {
            return None;
        }
        let row = node.level % HEIGHT;
        let shift = HEIGHT - row;
        let index = node.index >> shift;
        // Nodes past the last representable base index belong to no tree; they go
        // to storage, which refuses them.
        if index.leading_zeros() < u32::from(HEIGHT) {
            return None;
        }
        Some(Place {
            tile: TileKey {
                level: node.level / HEIGHT,
                index,
            },
            row,
            col: (node.index & ((1u64 << shift) - 1)) as usize,
        })
    }

    /// Base nodes the tile must hold for this node to be complete.
    fn needs(self) -> usize {
        (self.col + 1) << self.row
    }
}

/// Position of node (`row`, `col`) in a tile's hash array: the rows one after another.
fn slot(row: u8, col: usize) -> usize {
    (2 * WIDTH - ((2 * WIDTH) >> row)) + col
}

/// One cached tile: the nodes whose bit is set in `held`.
struct CachedTile {
    held: [u64; SLOTS.div_ceil(64)],
    last_used: u64,
    hashes: Box<[Hash]>,
}

impl CachedTile {
    fn new() -> Self {
        CachedTile {
            held: [0; SLOTS.div_ceil(64)],
            last_used: 0,
            hashes: vec![[0u8; 32]; SLOTS].into_boxed_slice(),
        }
    }

    fn holds(&self, slot: usize) -> bool {
        self.held[slot / 64] & (1 << (slot % 64)) != 0
    }

    fn get(&self, p: Place) -> Option<Hash> {
        let i = slot(p.row, p.col);
        self.holds(i).then(|| self.hashes[i])
    }

    fn set(&mut self, row: u8, col: usize, hash: Hash) {
        let i = slot(row, col);
        self.hashes[i] = hash;
        self.held[i / 64] |= 1 << (i % 64);
    }

    /// The (row, col) of every node complete over base nodes `0..width` not held.
    fn absent(&self, width: usize) -> impl Iterator<Item = (u8, usize)> + '_ {
        (0..HEIGHT).flat_map(move |row| {
            (0..(width >> row))
                .filter(move |&col| !self.holds(slot(row, col)))
                .map(move |col| (row, col))
        })
    }
}

#[derive(Default)]
struct Tiles {
    map: HashMap<TileKey, CachedTile>,
    /// Recency clock: bumped once per operation.
    tick: u64,
    /// Batches appended through this cache.
    appends: u64,
    /// Leaf tiles an append completed, with the number of that append: they
    /// leave [`RETIRE_AFTER`] appends later.
    retiring: VecDeque<(u64, TileKey)>,
    /// The largest tree size known to be committed: base nodes below it exist, so
    /// a miss reads the whole committed part of its tile at once.
    committed: u64,
}

impl Tiles {
    fn bytes(&self) -> usize {
        self.map.len() * TILE_BYTES
    }

    /// How many base nodes of `tile` the committed tree is known to hold.
    fn committed_width(&self, tile: TileKey) -> usize {
        let shift = u32::from(tile.level) * u32::from(HEIGHT);
        let base_nodes = self.committed.checked_shr(shift).unwrap_or(0);
        let start = tile.index << HEIGHT;
        base_nodes.saturating_sub(start).min(WIDTH as u64) as usize
    }

    /// Whether every tile of the committed tree fits in `budget`, so a leaf
    /// tile read whole stays until it is used again.
    fn tree_fits(&self, budget: usize) -> bool {
        tree_bytes(self.committed) <= budget as u64
    }

    /// Evict down to 7/8 of `budget` once it is exceeded, leaf tiles before the
    /// rest and each group least recently used first; evicting in bulk keeps the
    /// sort rare.
    fn evict(&mut self, budget: usize) {
        if self.bytes() <= budget {
            return;
        }
        let target = budget - budget / 8;
        let mut order: Vec<(bool, u64, TileKey)> = self
            .map
            .iter()
            .map(|(k, t)| (k.level > 0, t.last_used, *k))
            .collect();
        order.sort_unstable();
        for (_, _, key) in order {
            if self.bytes() <= target {
                break;
            }
            self.map.remove(&key);
        }
    }
}

/// The nodes one read fetches for a tile: every absent node complete over
/// base nodes `0..width`.
struct Fill {
    tile: TileKey,
    width: usize,
}

/// [`Storage`] with node hashes cached in memory, within a [`CacheBound`] (see
/// the module doc). Everything but [`read_hashes`](LogStore::read_hashes) goes
/// straight to the inner storage.
pub struct CachedStorage {
    inner: Arc<dyn Storage>,
    /// Shared with the handle [`LogStore::for_sequencer`] makes.
    tiles: Arc<Mutex<Tiles>>,
    bound: CacheBound,
}

impl CachedStorage {
    /// Cache `inner`'s node hashes in at most `max_bytes` of memory (counted as
    /// [`TILE_BYTES`] per cached tile); a bound below one tile caches nothing
    /// beyond the request being answered.
    pub fn new(inner: Arc<dyn Storage>, max_bytes: usize) -> Self {
        Self::bounded(inner, CacheBound::Fixed(max_bytes))
    }

    /// Cache `inner`'s node hashes within `bound`.
    pub fn bounded(inner: Arc<dyn Storage>, bound: CacheBound) -> Self {
        CachedStorage {
            inner,
            tiles: Default::default(),
            bound,
        }
    }

    /// Memory the cached tiles are charged for; never above the bound between calls.
    pub fn cached_bytes(&self) -> usize {
        self.lock().map_or(0, |t| t.bytes())
    }

    /// Whether `node` is answered from memory.
    pub fn is_cached(&self, node: NodeId) -> bool {
        let Some(p) = Place::of(node) else {
            return false;
        };
        self.lock()
            .is_ok_and(|t| t.map.get(&p.tile).is_some_and(|c| c.get(p).is_some()))
    }

    /// Read every tile of the committed tree into the cache ahead of the
    /// requests — the tiles above the leaves, then the leaf tiles, [`WARM_TILES`]
    /// a storage read — when every tile of the tree fits the bound (otherwise the
    /// requests decide what stays). A started server's cache is empty, and random
    /// proofs over a large log would fill it one missed tile at a time. Reads go
    /// through [`read_hashes`](LogStore::read_hashes), so what enters is only what
    /// storage holds, under the same lock as any request's. The cache is held for
    /// one read at a time: filling stops once its owners have all let it go (a
    /// server shutting down closes its storage instead of waiting for the filling
    /// to end). Returns the tiles read.
    pub fn warm(cache: &Weak<CachedStorage>) -> Result<u64, StorageError> {
        let Some(reads) = cache.upgrade().map(|c| c.warm_reads()).transpose()? else {
            return Ok(0);
        };
        let mut read = 0;
        for nodes in reads {
            let Some(cache) = cache.upgrade() else {
                break;
            };
            cache.read_hashes(&nodes)?;
            read += nodes.len() as u64;
        }
        Ok(read)
    }

    /// The reads [`warm`](Self::warm) makes, in order: the first base node of
    /// each tile (a miss reads its tile whole), [`WARM_TILES`] a read, the tiles
    /// above the leaves first. None when the tree does not fit the bound.
    fn warm_reads(&self) -> Result<Vec<Vec<NodeId>>, StorageError> {
        let Some(size) = self.latest_checkpoint()?.map(|c| c.size) else {
            return Ok(Vec::new());
        };
        if !self.lock()?.tree_fits(self.bound.bytes(size)) {
            return Ok(Vec::new());
        }
        // Tile levels holding nodes (8 of them cover any u64 size), top down.
        let levels: Vec<u8> = (0..8)
            .take_while(|level| size >> (level * HEIGHT) > 0)
            .collect();
        let mut reads = Vec::new();
        for level in levels.into_iter().rev() {
            let tree_level = level * HEIGHT;
            let tiles = (size >> tree_level).div_ceil(WIDTH as u64);
            let mut first = 0;
            while first < tiles {
                let last = tiles.min(first + WARM_TILES);
                reads.push(
                    (first..last)
                        .map(|tile| NodeId {
                            level: tree_level,
                            index: tile << HEIGHT,
                        })
                        .collect(),
                );
                first = last;
            }
        }
        Ok(reads)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Tiles>, StorageError> {
        self.tiles
            .lock()
            .map_err(|_| StorageError::fatal("node hash cache poisoned"))
    }

    /// A committed tree size seen in storage: nodes below it exist.
    fn saw_size(&self, size: u64) {
        if let Ok(mut t) = self.lock() {
            t.committed = t.committed.max(size);
        }
    }

    /// Answer the positions in `missing` of `nodes` with one storage read of
    /// their tiles' absent nodes (and of any node outside the tile scheme),
    /// caching what was read.
    fn fill(
        &self,
        nodes: &[NodeId],
        missing: &[usize],
        out: &mut [Hash],
    ) -> Result<(), StorageError> {
        let mut fills: Vec<Fill> = Vec::new();
        let mut direct: Vec<usize> = Vec::new();
        let mut ask: Vec<NodeId> = Vec::new();
        let mut places: Vec<(usize, u8, usize)> = Vec::new();
        let whole_leaf_tiles;
        {
            let t = self.lock()?;
            for &k in missing {
                let Some(p) = Place::of(nodes[k]) else {
                    direct.push(k);
                    continue;
                };
                match fills.iter_mut().find(|f| f.tile == p.tile) {
                    Some(f) => f.width = f.width.max(p.needs()),
                    None => fills.push(Fill {
                        tile: p.tile,
                        width: p.needs().max(t.committed_width(p.tile)),
                    }),
                }
            }
            // A missed tile is read whole (its committed part): runs of
            // consecutive nodes, one range read per level in the backends that
            // have them. A proof needs 8 nodes of its leaf tile, but with random
            // proofs over a log the next proof in that tile needs 8 others —
            // worth it while every leaf tile of the tree fits the cache. In a
            // tree larger than that, a leaf tile read whole is mostly evicted
            // before it is used again (at 10^7 entries the default cache holds a
            // tenth of them), so only the nodes asked for are read.
            whole_leaf_tiles = t.tree_fits(self.bound.bytes(t.committed));
            let empty = CachedTile::new();
            for (i, f) in fills.iter().enumerate() {
                if f.tile.level == 0 && !whole_leaf_tiles {
                    continue;
                }
                let tile = t.map.get(&f.tile).unwrap_or(&empty);
                for (row, col) in tile.absent(f.width) {
                    ask.push(f.tile.node(row, col));
                    places.push((i, row, col));
                }
            }
        }
        if !whole_leaf_tiles {
            for &k in missing {
                if let Some(p) = Place::of(nodes[k]).filter(|p| p.tile.level == 0) {
                    let i = fills.iter().position(|f| f.tile == p.tile).unwrap_or(0);
                    ask.push(nodes[k]);
                    places.push((i, p.row, p.col));
                }
            }
        }
        ask.extend(direct.iter().map(|&k| nodes[k]));
        let got = self.inner.read_hashes(&ask)?;
        if got.len() != ask.len() {
            return Err(StorageError::Corrupt(format!(
                "storage returned {} hashes for {} nodes",
                got.len(),
                ask.len()
            )));
        }
        let (tiled, outside) = got.split_at(places.len());
        for (&k, h) in direct.iter().zip(outside) {
            out[k] = *h;
        }
        let mut t = self.lock()?;
        t.tick += 1;
        let tick = t.tick;
        let mut current: Option<(usize, &mut CachedTile)> = None;
        for (&(i, row, col), hash) in places.iter().zip(tiled) {
            if current.as_ref().is_none_or(|(j, _)| *j != i) {
                let tile = t.map.entry(fills[i].tile).or_insert_with(CachedTile::new);
                tile.last_used = tick;
                current = Some((i, tile));
            }
            if let Some((_, tile)) = current.as_mut() {
                tile.set(row, col, *hash);
            }
        }
        let mut late = Vec::new();
        for &k in missing {
            if let Some(p) = Place::of(nodes[k]) {
                match t.map.get(&p.tile).and_then(|c| c.get(p)) {
                    Some(h) => out[k] = h,
                    // Held when we planned the read, evicted since: not re-read.
                    None => late.push(k),
                }
            }
        }
        let budget = self.bound.bytes(t.committed);
        t.evict(budget);
        drop(t);
        if !late.is_empty() {
            let ask: Vec<NodeId> = late.iter().map(|&k| nodes[k]).collect();
            let got = self.inner.read_hashes(&ask)?;
            for (&k, h) in late.iter().zip(got) {
                out[k] = h;
            }
        }
        Ok(())
    }
}

/// Reads with nothing to cache pass through to the wrapped storage.
impl QueryStore for CachedStorage {
    fn checkpoints(&self, since: u64, limit: usize) -> Result<Vec<CheckpointRecord>, StorageError> {
        self.inner.checkpoints(since, limit)
    }
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        self.inner.leaves(start, end)
    }
    fn search(&self, query: &SearchQuery) -> Result<Vec<EntryRecord>, StorageError> {
        self.inner.search(query)
    }
    fn search_indices(&self, query: &SearchQuery) -> Result<Vec<(u64, String)>, StorageError> {
        self.inner.search_indices(query)
    }
    fn entries_per_day(&self, since_ms: i64) -> Result<Vec<DayCount>, StorageError> {
        self.inner.entries_per_day(since_ms)
    }
}

impl LogStore for CachedStorage {
    fn for_sequencer(self: Arc<Self>) -> Arc<dyn Storage> {
        Arc::new(CachedStorage {
            inner: self.inner.clone().for_sequencer(),
            tiles: self.tiles.clone(),
            bound: self.bound,
        })
    }

    fn identity(&self) -> Result<Option<LogIdentity>, StorageError> {
        self.inner.identity()
    }
    fn set_identity(&self, identity: &LogIdentity) -> Result<(), StorageError> {
        self.inner.set_identity(identity)
    }
    fn entry(&self, index: u64) -> Result<Option<EntryRecord>, StorageError> {
        self.inner.entry(index)
    }
    fn entries(&self, indexes: &[u64]) -> Result<Vec<EntryRecord>, StorageError> {
        self.inner.entries(indexes)
    }
    fn find_statements(&self, digests: &[Hash]) -> Result<Vec<Option<FirstCopy>>, StorageError> {
        self.inner.find_statements(digests)
    }
    fn key_events(&self) -> Result<Vec<KeyEventRecord>, StorageError> {
        self.inner.key_events()
    }
    fn index_leaves(&self, changed_after: u64) -> Result<IndexSnapshot, StorageError> {
        self.inner.index_leaves(changed_after)
    }
    fn add_cosignatures(
        &self,
        size: u64,
        cosignatures: &[NoteSignature],
    ) -> Result<(), StorageError> {
        self.inner.add_cosignatures(size, cosignatures)
    }

    /// Appends, then — only once the batch is durable — adds its nodes to the
    /// cached tiles (the log's right edge), so the next batch's appends and
    /// receipts read no storage.
    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        self.inner.append_batch(batch)?;
        let mut t = self.lock()?;
        t.committed = t.committed.max(batch.checkpoint.size);
        t.tick += 1;
        t.appends += 1;
        let tick = t.tick;
        let appends = t.appends;
        while let Some(&(done_at, key)) = t.retiring.front() {
            if done_at + RETIRE_AFTER > appends {
                break;
            }
            t.retiring.pop_front();
            t.map.remove(&key);
        }
        let mut completed = Vec::new();
        for (node, hash) in &batch.nodes {
            let Some(p) = Place::of(*node) else { continue };
            match t.map.get_mut(&p.tile) {
                Some(tile) => {
                    tile.set(p.row, p.col, *hash);
                    tile.last_used = tick;
                    if p.tile.level == 0 && p.row == 0 && p.col == WIDTH - 1 {
                        completed.push(p.tile);
                    }
                }
                // The batch starts this tile: the new right edge.
                None if p.row == 0 && p.col == 0 => {
                    let mut tile = CachedTile::new();
                    tile.set(0, 0, *hash);
                    tile.last_used = tick;
                    t.map.insert(p.tile, tile);
                }
                // An older tile not cached: left for a read to fetch.
                None => {}
            }
        }
        t.retiring
            .extend(completed.into_iter().map(|tile| (appends, tile)));
        let budget = self.bound.bytes(t.committed);
        t.evict(budget);
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StorageError> {
        let c = self.inner.latest_checkpoint()?;
        if let Some(c) = &c {
            self.saw_size(c.size);
        }
        Ok(c)
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<CheckpointRecord>, StorageError> {
        let c = self.inner.checkpoint_at(size)?;
        if c.is_some() {
            self.saw_size(size);
        }
        Ok(c)
    }

    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        let mut out = vec![[0u8; 32]; nodes.len()];
        let mut missing = Vec::new();
        {
            let mut t = self.lock()?;
            t.tick += 1;
            let tick = t.tick;
            // Consecutive nodes mostly share a tile (a hash tile is 256 of them).
            let mut last: Option<(TileKey, &mut CachedTile)> = None;
            for (k, node) in nodes.iter().enumerate() {
                let Some(p) = Place::of(*node) else {
                    missing.push(k);
                    continue;
                };
                if last.as_ref().is_none_or(|(key, _)| *key != p.tile) {
                    last = t.map.get_mut(&p.tile).map(|c| {
                        c.last_used = tick;
                        (p.tile, c)
                    });
                    if last.is_none() {
                        missing.push(k);
                        continue;
                    }
                }
                match last.as_ref().and_then(|(_, c)| c.get(p)) {
                    Some(h) => out[k] = h,
                    None => missing.push(k),
                }
            }
        }
        if !missing.is_empty() {
            self.fill(nodes, &missing, &mut out)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_sized_to_the_tree_grows_with_it_between_its_floor_and_ceiling() {
        let bound = CacheBound::SizedToTree { ceiling: 1 << 30 };
        assert_eq!(bound.bytes(0), DEFAULT_CACHE_BYTES);
        assert_eq!(bound.bytes(1_000_000), DEFAULT_CACHE_BYTES);
        // 10^7 entries: 39,063 leaf tiles and the 154 above them (rounded up), ≈ 645 MB.
        let ten_million = bound.bytes(10_000_000);
        assert_eq!(ten_million, (39_063 + 153 + 1) * TILE_BYTES);
        let mut tiles = Tiles {
            committed: 10_000_000,
            ..Tiles::default()
        };
        assert!(tiles.tree_fits(ten_million));
        assert_eq!(bound.bytes(100_000_000), 1 << 30);
        tiles.committed = 100_000_000;
        assert!(!tiles.tree_fits(1 << 30));
        assert_eq!(CacheBound::Fixed(5).bytes(10_000_000), 5);
    }
}
