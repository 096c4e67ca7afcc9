//! Tiles for a CDN (docs/design.md §4): the log's C2SP tlog-tiles read API written to a
//! directory as static files, so nginx or any static host (and a CDN in front
//! of it) serves `/checkpoint` and `/tile/…` without touching the database.
//!
//! ```text
//! <dir>/checkpoint                  the newest signed checkpoint
//! <dir>/tile/<L>/<N>[.p/<W>]        hash tiles (tlog-tiles "Hash tiles")
//! <dir>/tile/entries/<N>[.p/<W>]    entry bundles
//! ```
//!
//! Files are written after the commit that makes them true, each by
//! write-to-temporary, fsync, rename, so a reader never sees a torn file.
//! The checkpoint is written last, after the directories holding the new tiles
//! are synced: every tile of the tree it names is already on disk under its name. On restart the writer starts from the size in `<dir>/checkpoint` and
//! (re)writes every tile that changed since, so an interrupted run is repaired
//! by rewriting identical bytes. Full tiles never change once written; partial
//! tiles are left in place when the full one appears (tlog-tiles allows both).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use glassbox_core::tile::{encode_entry_bundle, tiles_changed, TilePath, TILE_WIDTH};
use tokio::sync::watch;

use crate::storage::{Storage, StorageError};

/// Why writing the tiles directory failed. The writer retries on its next round.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TilesDirError {
    #[error("tiles directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tiles directory: reading the log: {0}")]
    Storage(#[from] StorageError),
    #[error("tiles directory: encoding {path}: {reason}")]
    Encode { path: String, reason: String },
}

/// A directory holding the log's tiles.
#[derive(Clone, Debug)]
pub struct TilesDir {
    dir: PathBuf,
}

impl TilesDir {
    /// Use (creating if needed) `dir`.
    pub fn open(dir: &Path) -> Result<Self, TilesDirError> {
        std::fs::create_dir_all(dir).map_err(|source| TilesDirError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(TilesDir {
            dir: dir.to_path_buf(),
        })
    }

    /// The tree size of the checkpoint on disk; 0 when there is none (or it is
    /// unreadable, which makes the next sync rewrite everything).
    pub fn written_size(&self) -> u64 {
        std::fs::read_to_string(self.dir.join("checkpoint"))
            .ok()
            .and_then(|text| text.lines().nth(1).and_then(|l| l.parse().ok()))
            .unwrap_or(0)
    }

    /// Bring the directory up to the newest committed checkpoint of `storage`;
    /// returns its size.
    pub fn sync(&self, storage: &dyn Storage) -> Result<u64, TilesDirError> {
        let Some(cp) = storage.latest_checkpoint()? else {
            return Ok(0);
        };
        let on_disk = self.written_size();
        // A directory ahead of the database (e.g. a restored older backup) is
        // rewritten from scratch rather than trusted.
        let from = if on_disk > cp.size { 0 } else { on_disk };
        if from == cp.size {
            // Same tree; the note may have gained witness cosignatures since.
            if std::fs::read(self.dir.join("checkpoint")).ok().as_ref() != Some(&cp.note) {
                self.write_file("checkpoint", &cp.note)?;
                sync_dir(&self.dir)?;
            }
            return Ok(cp.size);
        }
        let mut written_in = std::collections::BTreeSet::new();
        for tile in tiles_changed(from, cp.size) {
            let path = TilePath::Hash(tile).to_string();
            let hashes = storage.read_hashes(&tile.nodes())?;
            written_in.insert(self.write_file(&path, &hashes.concat())?);
            if tile.level == 0 {
                let start = tile.index * TILE_WIDTH;
                let leaves = storage.leaves(start, start + u64::from(tile.width))?;
                let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
                let bundle = encode_entry_bundle(&refs).map_err(|e| TilesDirError::Encode {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                let entries = TilePath::Entries {
                    index: tile.index,
                    width: tile.width,
                };
                written_in.insert(self.write_file(&entries.to_string(), &bundle)?);
            }
        }
        // The new tiles' names are durable before the checkpoint that needs them.
        for dir in &written_in {
            sync_dir(dir)?;
        }
        self.write_file("checkpoint", &cp.note)?;
        sync_dir(&self.dir)?;
        Ok(cp.size)
    }

    /// Atomically replace `<dir>/<rel>` with `data`; returns the directory it is in
    /// (whose entry for it is durable only once that directory is synced).
    fn write_file(&self, rel: &str, data: &[u8]) -> Result<PathBuf, TilesDirError> {
        let path = self.dir.join(rel);
        let io = |source| TilesDirError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let tmp = path.with_file_name(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("tile"),
            std::process::id()
        ));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(data).map_err(io)?;
        // Durable before it is visible: the checkpoint file, renamed last, must
        // never name a tree whose tiles a power loss could take away.
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(path
            .parent()
            .map_or_else(|| self.dir.clone(), Path::to_path_buf))
    }
}

/// Flush a directory, so that the names of files renamed into it survive a crash.
fn sync_dir(dir: &Path) -> Result<(), TilesDirError> {
    let io = |source| TilesDirError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::File::open(dir).map_err(io)?.sync_all().map_err(io)
}

/// The background writer: syncs the directory every `every` until stopped.
pub struct TilesWriter {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl TilesWriter {
    /// Start writing `dir` from `storage`.
    pub fn spawn(storage: Arc<dyn Storage>, dir: TilesDir, every: Duration) -> TilesWriter {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut stopping = false;
            loop {
                let (s, d) = (storage.clone(), dir.clone());
                match tokio::task::spawn_blocking(move || d.sync(s.as_ref())).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "writing the tiles directory"),
                    Err(e) => tracing::warn!(error = %e, "tiles directory task failed"),
                }
                if stopping {
                    break;
                }
                // A stop makes one more round, begun after the stop (so after
                // the sequencer's last commit), then ends.
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stopped.changed() => stopping = true,
                }
            }
        });
        TilesWriter { stop, task }
    }

    /// Write whatever was committed last, then stop.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
