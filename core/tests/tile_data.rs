//! Entry bundles and hash tile bytes (c2sp.org/tlog-tiles "Log entries").

use glassbox_core::tile::{
    decode_entry_bundle, decode_hash_tile, encode_entry_bundle, encode_hash_tile, TileError,
};
use proptest::prelude::*;

#[test]
fn bundle_bytes_are_big_endian_length_then_entry() {
    let bundle = encode_entry_bundle(&[b"ab", b"", &[7u8; 258]]).expect("encode");
    assert_eq!(&bundle[..4], &[0, 2, b'a', b'b']);
    assert_eq!(&bundle[4..6], &[0, 0]);
    assert_eq!(&bundle[6..8], &[1, 2], "258 = 0x0102, big-endian");
    assert_eq!(bundle.len(), 8 + 258);
}

#[test]
fn entry_of_65535_bytes_fits_and_65536_does_not() {
    let max = vec![1u8; 65_535];
    let bundle = encode_entry_bundle(&[&max]).expect("encode");
    assert_eq!(decode_entry_bundle(&bundle), Ok(vec![max]));
    let too_big = vec![1u8; 65_536];
    assert_eq!(
        encode_entry_bundle(&[b"ok", &too_big]),
        Err(TileError::EntryTooLarge {
            index: 1,
            len: 65_536
        })
    );
}

#[test]
fn empty_bundle_is_refused_both_ways() {
    assert_eq!(encode_entry_bundle(&[]), Err(TileError::Empty));
    assert_eq!(decode_entry_bundle(&[]), Err(TileError::Empty));
}

#[test]
fn bundle_of_257_entries_is_refused_both_ways() {
    let entries: Vec<&[u8]> = vec![b"x"; 257];
    assert_eq!(
        encode_entry_bundle(&entries),
        Err(TileError::TooManyItems { count: 257 })
    );
    let bytes: Vec<u8> = [0u8, 1, b'x'].repeat(257);
    assert_eq!(
        decode_entry_bundle(&bytes),
        Err(TileError::TooManyItems { count: 257 })
    );
    assert_eq!(
        decode_entry_bundle(&bytes[..256 * 3]).map(|e| e.len()),
        Ok(256)
    );
}

#[test]
fn bundle_truncated_in_the_length_prefix() {
    assert_eq!(
        decode_entry_bundle(&[0, 1, b'a', 0]),
        Err(TileError::TruncatedBundle { offset: 3 })
    );
}

#[test]
fn bundle_truncated_in_an_entry() {
    assert_eq!(
        decode_entry_bundle(&[0, 1, b'a', 0, 3, b'b', b'c']),
        Err(TileError::TruncatedBundle { offset: 3 })
    );
}

#[test]
fn hash_tile_must_be_exactly_32_bytes_per_hash() {
    let data = vec![9u8; 64];
    assert_eq!(decode_hash_tile(&data, 2), Ok(vec![[9u8; 32]; 2]));
    assert_eq!(
        decode_hash_tile(&data, 3),
        Err(TileError::HashTileLength { width: 3, len: 64 })
    );
    assert_eq!(
        decode_hash_tile(&data[..63], 2),
        Err(TileError::HashTileLength { width: 2, len: 63 })
    );
    assert_eq!(
        decode_hash_tile(&[], 0),
        Err(TileError::InvalidWidth { width: 0 })
    );
    assert_eq!(
        decode_hash_tile(&vec![0; 32 * 257], 257),
        Err(TileError::InvalidWidth { width: 257 })
    );
    assert_eq!(
        decode_hash_tile(&vec![0; 8192], 256).map(|h| h.len()),
        Ok(256)
    );
}

#[test]
fn hash_tile_encoding_refuses_empty_and_oversized() {
    assert_eq!(encode_hash_tile(&[]), Err(TileError::Empty));
    assert_eq!(
        encode_hash_tile(&[[0; 32]; 257]),
        Err(TileError::TooManyItems { count: 257 })
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn bundles_round_trip(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 1..=40)) {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let bundle = encode_entry_bundle(&refs).expect("encode");
        prop_assert_eq!(decode_entry_bundle(&bundle), Ok(entries));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(entries) = decode_entry_bundle(&bytes) {
            let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(encode_entry_bundle(&refs).expect("re-encode"), bytes);
        }
    }

    #[test]
    fn hash_tiles_round_trip(hashes in prop::collection::vec(any::<[u8; 32]>(), 1..=256)) {
        let bytes = encode_hash_tile(&hashes).expect("encode");
        prop_assert_eq!(decode_hash_tile(&bytes, hashes.len() as u16), Ok(hashes));
    }
}

#[test]
fn format_doc_example_bundle_of_a_b_c() {
    // docs/formats/tlog.md §7.
    assert_eq!(
        encode_entry_bundle(&[b"a", b"b", b"c"]),
        Ok(vec![0, 1, b'a', 0, 1, b'b', 0, 1, b'c'])
    );
}
