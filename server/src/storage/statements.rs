//! Where a SQLite log finds a statement's first copy: recent digests in memory,
//! older ones in `statement_index`, moved there one digest range at a time.
//!
//! A B-tree keyed by digest puts every new digest on a random page, so an index
//! maintained row by row dirties about one page per entry in every commit, and the
//! checkpointer copies each of them again (docs/performance.md, "What grows with
//! the log"). Here the digests are split into [`PARTS`] ranges by their first byte.
//! The digests of recent entries are held in memory; each commit moves the range
//! that waited longest into `statement_index`, in digest order, so the pages it
//! writes are those of one range — a `PARTS`th of the table — however many digests
//! it moves. `statement_flushed` records, per range, the log size below which the
//! range's digests are in the table; the rest are read back into memory from
//! `entries` on the first lookup after a start (at most `PARTS` batches' worth).
//!
//! Memory holds the digests of the last `PARTS` batches at most (40 bytes
//! each plus the map's nodes). The table holds a row per entry, as an index would.

use std::collections::BTreeMap;

use rusqlite::{params, Transaction};

use super::records::EntryRecord;
use super::schema::db;
use super::sqlite::{hash_from, to_i64};
use super::{Hash, StorageError};

/// Digest ranges, by the top five bits of the first byte.
pub const PARTS: usize = 32;

fn part_of(digest: &Hash) -> usize {
    usize::from(digest[0] >> 3)
}

/// The statement digests not yet known to be in `statement_index`, with what
/// says which ones those are.
#[derive(Default)]
pub struct Recent {
    /// Each digest's first index among the entries held here.
    first: BTreeMap<Hash, u64>,
    /// Per range, the log size below which its digests are in the table.
    flushed: [u64; PARTS],
    /// Entries below this size are here or in the table; `None` until read.
    covered: Option<u64>,
}

/// What a commit moved: applied to [`Recent`] once the commit is durable.
pub struct Moved {
    part: usize,
    end: u64,
}

impl Recent {
    /// Read what `tx`'s snapshot holds beyond what is here: the watermarks and
    /// the unmoved digests the first time, the entries appended since after.
    pub fn catch_up(&mut self, tx: &Transaction<'_>) -> Result<(), StorageError> {
        let from = match self.covered {
            Some(size) => size,
            None => {
                let mut seen = [false; PARTS];
                let mut read = tx
                    .prepare_cached("SELECT part, upto FROM statement_flushed")
                    .map_err(db)?;
                let mut rows = read.query([]).map_err(db)?;
                while let Some(row) = rows.next().map_err(db)? {
                    let part = usize::try_from(row.get::<_, i64>(0).map_err(db)?)
                        .ok()
                        .filter(|p| *p < PARTS)
                        .ok_or_else(|| corrupt("a statement range out of bounds"))?;
                    let upto = u64::try_from(row.get::<_, i64>(1).map_err(db)?)
                        .map_err(|_| corrupt("a negative statement watermark"))?;
                    self.flushed[part] = upto;
                    seen[part] = true;
                }
                if seen.contains(&false) {
                    return Err(corrupt("a statement range without its watermark"));
                }
                self.flushed.iter().copied().min().unwrap_or(0)
            }
        };
        let mut read = tx
            .prepare_cached("SELECT idx, statement FROM entries WHERE idx >= ?1 ORDER BY idx")
            .map_err(db)?;
        let mut rows = read.query([to_i64(from)?]).map_err(db)?;
        let mut size = from;
        while let Some(row) = rows.next().map_err(db)? {
            let idx = u64::try_from(row.get::<_, i64>(0).map_err(db)?)
                .map_err(|_| corrupt("a negative entry index"))?;
            let digest = hash_from(row.get(1).map_err(db)?)?;
            if idx >= self.flushed[part_of(&digest)] {
                self.first.entry(digest).or_insert(idx);
            }
            size = idx + 1;
        }
        self.covered = Some(size);
        Ok(())
    }

    /// The first index of `digest` held here.
    pub fn first(&self, digest: &Hash) -> Option<u64> {
        self.first.get(digest).copied()
    }

    /// The digests held in range `part`, in digest order, with their indexes.
    fn in_part(&self, part: usize) -> impl Iterator<Item = (Hash, u64)> + '_ {
        let mut lowest = [0; 32];
        // part < PARTS = 32, so part << 3 fits a byte.
        lowest[0] = (part << 3) as u8;
        self.first
            .range(lowest..)
            .take_while(move |(d, _)| part_of(d) == part)
            .map(|(d, i)| (*d, *i))
    }

    /// Inside the transaction appending `entries` (ending at log size `end`),
    /// after [`catch_up`](Self::catch_up) in it: write the range that waited
    /// longest to `statement_index`, with the batch's own digests in it. Apply the
    /// result with [`moved`](Self::moved) once the transaction is committed.
    pub fn move_one(
        &self,
        tx: &Transaction<'_>,
        entries: &[EntryRecord],
        end: u64,
    ) -> Result<Moved, StorageError> {
        let part = (0..PARTS)
            .min_by_key(|p| self.flushed[*p])
            .unwrap_or_default();
        let mut rows: Vec<(Hash, u64)> = self
            .in_part(part)
            .chain(
                entries
                    .iter()
                    .filter(|e| part_of(&e.statement_digest) == part)
                    .map(|e| (e.statement_digest, e.index)),
            )
            .collect();
        rows.sort_unstable();
        let mut insert = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO statement_index (statement, idx) VALUES (?1, ?2)",
            )
            .map_err(db)?;
        for (digest, idx) in &rows {
            insert
                .execute(params![&digest[..], to_i64(*idx)?])
                .map_err(db)?;
        }
        tx.prepare_cached("UPDATE statement_flushed SET upto = ?2 WHERE part = ?1")
            .map_err(db)?
            .execute(params![part as i64, to_i64(end)?])
            .map_err(db)?;
        Ok(Moved { part, end })
    }

    /// The transaction of [`move_one`](Self::move_one) committed: hold the
    /// batch's digests, and let go of the range now in the table.
    pub fn moved(&mut self, entries: &[EntryRecord], moved: Moved) {
        for e in entries {
            self.first.entry(e.statement_digest).or_insert(e.index);
        }
        let gone: Vec<Hash> = self
            .in_part(moved.part)
            .filter(|(_, i)| *i < moved.end)
            .map(|(d, _)| d)
            .collect();
        for d in gone {
            self.first.remove(&d);
        }
        self.flushed[moved.part] = self.flushed[moved.part].max(moved.end);
        self.covered = Some(self.covered.unwrap_or(0).max(moved.end));
    }
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(format!("statement index: {what}"))
}
