//! Tile, entry and proof paths naming positions beyond the log, up to `u64::MAX`
//! and in every C2SP tlog-tiles path form: a 404 (or the documented 400 for a
//! proof's size) with the usual error body, nothing logged at warn or error, and
//! no arithmetic overflow — over the SQLite backend, whose integers stop at
//! `i64::MAX`, behind the node hash cache the server binary uses.

mod support;

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use glassbox_core::statement::Role;
use glassbox_server::storage::cache::CachedStorage;
use glassbox_server::storage::sqlite::SqliteStorage;
use proptest::prelude::*;
use support::*;
use tracing_subscriber::layer::SubscriberExt as _;

/// Largest index a tile path can name: tile N starts at leaf N·256 < 2^64.
const MAX_TILE_INDEX: u64 = (1 << 56) - 1;

/// Events at warn or error level, from every thread of this test binary.
static NOISE: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The tests of this file run one at a time, so each sees only its own noise.
static SERIAL: Mutex<()> = Mutex::new(());

/// What was logged at warn or error since `from`.
fn noise_since(from: usize) -> Vec<String> {
    NOISE.lock().unwrap()[from..].to_vec()
}

fn noise_now() -> usize {
    NOISE.lock().unwrap().len()
}

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

struct CountNoise;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountNoise {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() <= tracing::Level::WARN {
            let mut message = Message(event.metadata().level().to_string());
            event.record(&mut message);
            NOISE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(message.0);
        }
    }
}

/// `<N>` as c2sp.org/tlog-tiles writes it: 3-digit elements, all but the last
/// `x`-prefixed.
fn index_path(mut n: u64) -> String {
    let mut elements = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        elements.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    elements.reverse();
    elements.join("/")
}

fn tile_uri(level: Option<u8>, index: u64, width: u16) -> String {
    let head = level.map_or("entries".to_string(), |l| l.to_string());
    let suffix = if width == 256 {
        String::new()
    } else {
        format!(".p/{width}")
    };
    format!("/tile/{head}/{}{suffix}", index_path(index))
}

/// Whether a tree of `size` leaves holds the tile: its last node is complete.
fn in_tree(size: u64, level: Option<u8>, index: u64, width: u16) -> bool {
    let nodes = match level {
        None => u128::from(size),
        Some(l) if l < 8 => u128::from(size) >> (8 * u32::from(l)),
        Some(_) => 0,
    };
    u128::from(index) * 256 + u128::from(width) <= nodes
}

fn index_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..3u64,
        any::<u64>(),
        MAX_TILE_INDEX - 2..=MAX_TILE_INDEX + 2,
        (1u64 << 55)..(1u64 << 57),
        (i64::MAX as u64 / 256 - 2)..=(i64::MAX as u64 / 256 + 2),
        u64::MAX - 2..=u64::MAX,
    ]
}

fn level_strategy() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![
        Just(None),
        (0..=8u8).prop_map(Some),
        (60..=64u8).prop_map(Some),
        any::<u8>().prop_map(Some),
    ]
}

fn width_strategy() -> impl Strategy<Value = u16> {
    prop_oneof![1..=4u16, 250..=256u16, 1..=256u16]
}

/// A log of a few entries over SQLite behind the hash cache, and the runtime it
/// runs on.
fn small_log() -> (tokio::runtime::Runtime, TestLog, tempfile::TempDir, u64) {
    let _ =
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountNoise));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStorage::open(&dir.path().join("glassbox.db"), 2).unwrap());
    let storage = Arc::new(CachedStorage::new(sqlite, 1 << 20));
    let log = rt.block_on(async {
        let log = TestLog::with(Options::default(), Some(storage)).await;
        for seed in 10..13 {
            log.enrol(&participant(seed), &[Role::Reviewer]).await;
        }
        log
    });
    let size = log.storage.latest_checkpoint().unwrap().unwrap().size;
    (rt, log, dir, size)
}

fn assert_not_found(rt: &tokio::runtime::Runtime, log: &TestLog, uri: &str) {
    let (status, body) = rt.block_on(log.get_json(uri));
    assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
    assert_eq!(code(&body), "not_found", "{uri}: {body}");
}

#[test]
fn tiles_beyond_the_tree_are_404_up_to_u64_max_and_log_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (rt, log, _dir, size) = small_log();
    let before = noise_now();
    let config = ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(level in level_strategy(), index in index_strategy(), width in width_strategy())| {
        let uri = tile_uri(level, index, width);
        let (status, _, body) = rt.block_on(log.get(&uri));
        if level.is_none_or(|l| l <= 63) && index <= MAX_TILE_INDEX && in_tree(size, level, index, width) {
            prop_assert_eq!(status, StatusCode::OK, "{}", uri);
        } else {
            prop_assert_eq!(status, StatusCode::NOT_FOUND, "{}", uri);
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            prop_assert_eq!(code(&body), "not_found", "{}", uri);
        }
    });
    assert_eq!(
        noise_since(before),
        Vec::<String>::new(),
        "warn or error logged"
    );
}

#[test]
fn the_largest_tile_indices_are_404_and_log_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (rt, log, _dir, _) = small_log();
    let before = noise_now();
    for index in [
        MAX_TILE_INDEX,
        MAX_TILE_INDEX - 1,
        i64::MAX as u64 / 256 + 1,
    ] {
        for width in [1, 255, 256] {
            assert_not_found(&rt, &log, &tile_uri(None, index, width));
            for level in [0, 7, 8, 63] {
                assert_not_found(&rt, &log, &tile_uri(Some(level), index, width));
            }
        }
    }
    for uri in [
        "/tile/entries/x072/x057/x594/x037/x927/x935",
        "/tile/entries/x072/x057/x594/x037/x927/x935.p/255",
        "/tile/entries/x018/x446/x744/x073/x709/x551/615",
        "/tile/0/x072/x057/x594/x037/x927/x935",
        "/tile/63/x072/x057/x594/x037/x927/x935.p/1",
        "/tile/64/000",
    ] {
        assert_not_found(&rt, &log, uri);
    }
    assert_eq!(
        noise_since(before),
        Vec::<String>::new(),
        "warn or error logged"
    );
}

#[test]
fn entries_and_proofs_beyond_the_log_are_4xx_and_log_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (rt, log, _dir, size) = small_log();
    let before = noise_now();
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(index in prop_oneof![index_strategy(), index_strategy().prop_map(|i| i.saturating_mul(256))], other in any::<u64>())| {
        let (status, body) = rt.block_on(log.get_json(&format!("/api/v1/entries/{index}")));
        if index < size {
            prop_assert_eq!(status, StatusCode::OK);
        } else {
            prop_assert_eq!(status, StatusCode::NOT_FOUND, "entry {}", index);
            prop_assert_eq!(code(&body), "not_found");
        }
        for uri in [
            format!("/api/v1/proof/inclusion?index={index}&size={other}"),
            format!("/api/v1/proof/inclusion?index=0&size={index}"),
            format!("/api/v1/proof/consistency?from={index}&to={other}"),
            format!("/api/v1/proof/consistency?from=1&to={index}"),
        ] {
            let (status, body) = rt.block_on(log.get_json(&uri));
            prop_assert!(status.is_success() || status.is_client_error(), "{}: {}", uri, body);
        }
    });
    assert_eq!(
        noise_since(before),
        Vec::<String>::new(),
        "warn or error logged"
    );
}
