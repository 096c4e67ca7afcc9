//! SQLite tables keyed by digest, filled from memory one digest range per
//! commit: where a log finds a statement's first copy (`statement_index`) and
//! the search terms that name an artifact (`artifact_index`).
//!
//! A B-tree keyed by digest puts every new digest on a random page, so an index
//! maintained row by row dirties about one page per entry in every commit, and the
//! checkpointer copies each of them again (docs/performance.md, "What grows with
//! the log"). Here the digests are split into [`PARTS`] ranges by their first byte.
//! The digests of recent rows are held in memory; each commit moves the range
//! that waited longest into the table, in digest order, so the pages it writes
//! are those of one range — a `PARTS`th of the table — however many digests it
//! moves. A table of watermarks records, per range, the position below which the
//! range's digests are in the table; the rest are read back into memory from
//! their source rows on the first use after a start (at most `PARTS` batches'
//! worth).
//!
//! A position is what orders a digest's source rows: the entry's index for a
//! statement, the search term's ID for an artifact (terms get increasing IDs).
//! Memory holds the digests of the last `PARTS` batches at most (40 bytes each
//! plus the set's nodes). The table holds a row per source row, as an index would.

use std::collections::BTreeSet;

use rusqlite::{params, Transaction};

use super::schema::db;
use super::sqlite::{hash_from, to_i64};
use super::{Hash, StorageError};

/// Digest ranges, by the top five bits of the first byte.
pub const PARTS: usize = 32;

fn part_of(digest: &Hash) -> usize {
    usize::from(digest[0] >> 3)
}

/// One table kept this way: its SQL, by purpose.
pub struct Table {
    /// What the table is, for errors.
    pub what: &'static str,
    /// Insert a (digest, position) row; a row already there is left alone.
    pub insert: &'static str,
    /// Every range's watermark, as (range, position).
    pub read_flushed: &'static str,
    /// Set range ?1's watermark to position ?2.
    pub write_flushed: &'static str,
    /// The source rows at position ?1 or later, as (position, digest), in
    /// position order.
    pub source: &'static str,
}

/// Where a statement's first copy is: entries by statement digest.
pub const STATEMENTS: Table = Table {
    what: "statement index",
    insert: "INSERT OR IGNORE INTO statement_index (statement, idx) VALUES (?1, ?2)",
    read_flushed: "SELECT part, upto FROM statement_flushed",
    write_flushed: "UPDATE statement_flushed SET upto = ?2 WHERE part = ?1",
    source: "SELECT idx, statement FROM entries WHERE idx >= ?1 ORDER BY idx",
};

/// Which search terms name an artifact: term IDs by artifact digest (each build
/// naming an artifact gets a term of its own; schema 10).
pub const ARTIFACTS: Table = Table {
    what: "artifact index",
    insert: "INSERT OR IGNORE INTO artifact_index (artifact, term) VALUES (?1, ?2)",
    read_flushed: "SELECT part, upto FROM artifact_flushed",
    write_flushed: "UPDATE artifact_flushed SET upto = ?2 WHERE part = ?1",
    source: "SELECT id, value FROM term_values WHERE id >= ?1 AND field = 1 ORDER BY id",
};

/// The digests of one [`Table`] not yet known to be in it, with what says
/// which ones those are.
pub struct Held {
    table: &'static Table,
    /// (digest, position) of the source rows held here.
    rows: BTreeSet<(Hash, u64)>,
    /// Per range, the position below which its digests are in the table.
    flushed: [u64; PARTS],
    /// Source rows below this position are here or in the table; `None` until
    /// read.
    covered: Option<u64>,
}

/// What a commit moved: applied to [`Held`] once the commit is durable.
pub struct Moved {
    part: usize,
    end: u64,
}

impl Held {
    pub fn new(table: &'static Table) -> Held {
        Held {
            table,
            rows: BTreeSet::new(),
            flushed: [0; PARTS],
            covered: None,
        }
    }

    /// Read what `tx`'s snapshot holds beyond what is here: the watermarks and
    /// the unmoved digests the first time, the rows added since after.
    pub fn catch_up(&mut self, tx: &Transaction<'_>) -> Result<(), StorageError> {
        let from = match self.covered {
            Some(position) => position,
            None => {
                let mut seen = [false; PARTS];
                let mut read = tx.prepare_cached(self.table.read_flushed).map_err(db)?;
                let mut rows = read.query([]).map_err(db)?;
                while let Some(row) = rows.next().map_err(db)? {
                    let part = usize::try_from(row.get::<_, i64>(0).map_err(db)?)
                        .ok()
                        .filter(|p| *p < PARTS)
                        .ok_or_else(|| self.corrupt("a range out of bounds"))?;
                    let upto = u64::try_from(row.get::<_, i64>(1).map_err(db)?)
                        .map_err(|_| self.corrupt("a negative watermark"))?;
                    self.flushed[part] = upto;
                    seen[part] = true;
                }
                if seen.contains(&false) {
                    return Err(self.corrupt("a range without its watermark"));
                }
                self.flushed.iter().copied().min().unwrap_or(0)
            }
        };
        let mut read = tx.prepare_cached(self.table.source).map_err(db)?;
        let mut rows = read.query([to_i64(from)?]).map_err(db)?;
        let mut end = from;
        while let Some(row) = rows.next().map_err(db)? {
            let position = u64::try_from(row.get::<_, i64>(0).map_err(db)?)
                .map_err(|_| self.corrupt("a negative position"))?;
            let digest = hash_from(row.get(1).map_err(db)?)?;
            if position >= self.flushed[part_of(&digest)] {
                self.rows.insert((digest, position));
            }
            end = position + 1;
        }
        self.covered = Some(end);
        Ok(())
    }

    /// The positions of `digest` held here, in order.
    pub fn positions<'a>(&'a self, digest: &Hash) -> impl Iterator<Item = u64> + 'a {
        self.rows
            .range((*digest, 0)..=(*digest, u64::MAX))
            .map(|(_, p)| *p)
    }

    /// The rows held in range `part`, in digest order.
    fn in_part(&self, part: usize) -> impl Iterator<Item = (Hash, u64)> + '_ {
        let mut lowest = [0; 32];
        // part < PARTS = 32, so part << 3 fits a byte.
        lowest[0] = (part << 3) as u8;
        self.rows
            .range((lowest, 0)..)
            .take_while(move |(d, _)| part_of(d) == part)
            .copied()
    }

    /// Inside the transaction that adds the source rows `added` (every source
    /// row is then below position `end`), after [`catch_up`](Self::catch_up)
    /// in it: write the range that waited longest to the table, with the added
    /// rows in it. Apply the result with [`moved`](Self::moved) once the
    /// transaction is committed.
    pub fn move_one(
        &self,
        tx: &Transaction<'_>,
        added: &[(Hash, u64)],
        end: u64,
    ) -> Result<Moved, StorageError> {
        let part = (0..PARTS)
            .min_by_key(|p| self.flushed[*p])
            .unwrap_or_default();
        let mut rows: Vec<(Hash, u64)> = self
            .in_part(part)
            .chain(added.iter().copied().filter(|(d, _)| part_of(d) == part))
            .collect();
        rows.sort_unstable();
        let mut insert = tx.prepare_cached(self.table.insert).map_err(db)?;
        for (digest, position) in &rows {
            insert
                .execute(params![&digest[..], to_i64(*position)?])
                .map_err(db)?;
        }
        tx.prepare_cached(self.table.write_flushed)
            .map_err(db)?
            .execute(params![part as i64, to_i64(end)?])
            .map_err(db)?;
        Ok(Moved { part, end })
    }

    /// The transaction of [`move_one`](Self::move_one) committed: hold the
    /// added rows, and let go of the range now in the table.
    pub fn moved(&mut self, added: &[(Hash, u64)], moved: Moved) {
        self.rows.extend(added.iter().copied());
        let gone: Vec<(Hash, u64)> = self
            .in_part(moved.part)
            .filter(|(_, p)| *p < moved.end)
            .collect();
        for row in gone {
            self.rows.remove(&row);
        }
        self.flushed[moved.part] = self.flushed[moved.part].max(moved.end);
        self.covered = Some(self.covered.unwrap_or(0).max(moved.end));
    }

    fn corrupt(&self, what: &str) -> StorageError {
        StorageError::Corrupt(format!("{}: {what}", self.table.what))
    }
}
