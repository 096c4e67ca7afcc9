//! The tiles directory (server/src/log/tiles_dir.rs) holds exactly what `/tile/…`
//! and `/checkpoint` serve, and a rewrite after an interrupted run changes
//! nothing. (On PostgreSQL the same comparison runs against real server
//! processes in tests/tests/multinode_failover.rs.)

mod support;

use std::path::Path;
use std::sync::Arc;

use glassbox_server::log::tiles_dir::TilesDir;
use glassbox_server::storage::Storage;
use support::{participant, submission, Options, TestLog};

/// Every file under `dir`, as paths relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

async fn tiles_equal_what_the_server_serves(storage: Option<Arc<dyn Storage>>) {
    let log = TestLog::with(Options::default(), storage).await;
    let vendor = participant(7);
    log.enrol(&vendor, &[glassbox_core::statement::Role::Vendor])
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = TilesDir::open(tmp.path()).unwrap();
    // Grow across a full tile, syncing at several sizes (partial tiles too).
    for round in 0..3u32 {
        let envs: Vec<_> = (0..110)
            .map(|i| submission(&vendor, "https://git.example/r", round * 1000 + i, "1.0"))
            .collect();
        let futs = envs.iter().map(|e| log.submit(e));
        for (status, _) in futures_util::future::join_all(futs).await {
            assert!(status.is_success());
        }
        let (d, s) = (dir.clone(), log.storage.clone());
        tokio::task::spawn_blocking(move || d.sync(s.as_ref()).unwrap())
            .await
            .unwrap();
    }
    let size = dir.written_size();
    assert!(size > 256, "size {size}");
    let written = files(tmp.path());
    assert!(written.contains(&"tile/0/000".to_string()));
    assert!(written.contains(&"tile/entries/000".to_string()));
    assert!(written.iter().any(|f| f.starts_with("tile/1/000.p/")));
    for rel in &written {
        let (status, _, body) = log.get(&format!("/{rel}")).await;
        assert_eq!(status, 200, "{rel}");
        assert_eq!(std::fs::read(tmp.path().join(rel)).unwrap(), body, "{rel}");
    }
    // Restart after a crash that lost the checkpoint file: the rewrite yields
    // the same files, byte for byte.
    let before: Vec<Vec<u8>> = written
        .iter()
        .map(|f| std::fs::read(tmp.path().join(f)).unwrap())
        .collect();
    std::fs::remove_file(tmp.path().join("checkpoint")).unwrap();
    let (d, s) = (dir.clone(), log.storage.clone());
    tokio::task::spawn_blocking(move || d.sync(s.as_ref()).unwrap())
        .await
        .unwrap();
    assert_eq!(files(tmp.path()), written);
    for (f, old) in written.iter().zip(before) {
        assert_eq!(std::fs::read(tmp.path().join(f)).unwrap(), old, "{f}");
    }
}

#[tokio::test]
async fn tiles_dir_equals_tile_routes_on_memory() {
    tiles_equal_what_the_server_serves(None).await;
}
