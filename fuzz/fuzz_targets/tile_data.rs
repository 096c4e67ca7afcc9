//! tlog-tiles data: entry bundles (`tile::decode_entry_bundle`) must re-encode byte for
//! byte; hash tiles (`tile::decode_hash_tile`, width = first byte + 1) likewise; and a
//! tile-backed hash reader fed the fuzzed tile never panics.
#![no_main]

use glassbox_core::merkle::{HashReader, NodeId};
use glassbox_core::tile::{
    decode_entry_bundle, decode_hash_tile, encode_entry_bundle, encode_hash_tile, Tile,
    TileHashReader,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = decode_entry_bundle(data) {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let encoded = encode_entry_bundle(&refs).expect("decoded entries must re-encode");
        assert_eq!(encoded, data, "entry bundle does not round-trip");
    }
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let width = u16::from(first) + 1;
    let Ok(hashes) = decode_hash_tile(rest, width) else {
        return;
    };
    assert_eq!(hashes.len(), usize::from(width));
    assert_eq!(encode_hash_tile(&hashes).as_deref(), Ok(rest));

    let mut reader = TileHashReader::new();
    let tile = Tile::new(0, 0, width).expect("width 1..=256 is a valid tile");
    reader.insert(tile, rest).expect("a decoded tile inserts");
    let nodes: Vec<NodeId> = (0u8..8)
        .flat_map(|level| (0u64..3).map(move |index| NodeId::new(level, index)))
        .collect();
    for node in nodes {
        let _ = reader.read_hashes(&[node]);
    }
});
