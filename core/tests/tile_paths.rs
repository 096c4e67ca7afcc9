//! Tile paths (c2sp.org/tlog-tiles): canonical round trips, and one rejection
//! test per mutation of a valid path.

use glassbox_core::tile::{Tile, TilePath, TilePathError};
use proptest::prelude::*;

fn hash_tile(level: u8, index: u64, width: u16) -> TilePath {
    TilePath::Hash(Tile {
        level,
        index,
        width,
    })
}

#[test]
fn spec_example_index_1234067_encodes_as_three_groups() {
    let path = hash_tile(0, 1_234_067, 256);
    assert_eq!(path.to_string(), "tile/0/x001/x234/067");
    assert_eq!(TilePath::parse("tile/0/x001/x234/067"), Ok(path));
}

#[test]
fn known_paths_parse_to_known_values() {
    let cases = [
        ("tile/0/000", hash_tile(0, 0, 256)),
        ("tile/0/000.p/1", hash_tile(0, 0, 1)),
        ("tile/0/x001/x234/067.p/8", hash_tile(0, 1_234_067, 8)),
        ("tile/1/999.p/255", hash_tile(1, 999, 255)),
        ("tile/63/x001/000", hash_tile(63, 1000, 256)),
        (
            "tile/entries/000",
            TilePath::Entries {
                index: 0,
                width: 256,
            },
        ),
        (
            "tile/entries/x123/456.p/17",
            TilePath::Entries {
                index: 123_456,
                width: 17,
            },
        ),
        (
            "tile/2/x072/x057/x594/x037/x927/935",
            hash_tile(2, (1 << 56) - 1, 256),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(TilePath::parse(text), Ok(want), "{text}");
        assert_eq!(want.to_string(), text);
        assert_eq!(text.parse::<TilePath>(), Ok(want));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn hash_tile_paths_round_trip(level in 0u8..=63, index in 0u64..(1 << 56), width in 1u16..=256) {
        let path = hash_tile(level, index, width);
        prop_assert_eq!(TilePath::parse(&path.to_string()), Ok(path));
    }

    #[test]
    fn entry_bundle_paths_round_trip(index in 0u64..(1 << 56), width in 1u16..=256) {
        let path = TilePath::Entries { index, width };
        prop_assert_eq!(TilePath::parse(&path.to_string()), Ok(path));
    }

    #[test]
    fn parse_never_panics_and_accepts_only_canonical_text(s in "tile/[0-9a-z./]{0,30}") {
        if let Ok(path) = TilePath::parse(&s) {
            prop_assert_eq!(path.to_string(), s);
        }
    }
}

/// Asserts `text` is rejected with an error matching `pattern`.
macro_rules! rejects {
    ($name:ident, $text:expr, $pattern:pat) => {
        #[test]
        fn $name() {
            let result = TilePath::parse($text);
            assert!(
                matches!(result, Err($pattern)),
                "{:?} gave {:?}",
                $text,
                result
            );
        }
    };
}

rejects!(
    missing_tile_prefix,
    "0/000",
    TilePathError::NotATilePath { .. }
);
rejects!(
    leading_slash,
    "/tile/0/000",
    TilePathError::NotATilePath { .. }
);
rejects!(
    prefix_misspelt,
    "tiles/0/000",
    TilePathError::NotATilePath { .. }
);
rejects!(
    trailing_slash,
    "tile/0/000/",
    TilePathError::NotATilePath { .. }
);
rejects!(
    double_slash,
    "tile/0//000",
    TilePathError::NotATilePath { .. }
);
rejects!(
    empty_after_prefix,
    "tile/",
    TilePathError::NotATilePath { .. }
);
rejects!(level_only, "tile/0", TilePathError::MissingIndex { .. });
rejects!(
    entries_without_index,
    "tile/entries",
    TilePathError::MissingIndex { .. }
);
rejects!(
    level_with_leading_zero,
    "tile/01/000",
    TilePathError::InvalidLevel { .. }
);
rejects!(
    level_double_zero,
    "tile/00/000",
    TilePathError::InvalidLevel { .. }
);
rejects!(level_64, "tile/64/000", TilePathError::InvalidLevel { .. });
rejects!(
    level_huge,
    "tile/99999999999999999999/000",
    TilePathError::InvalidLevel { .. }
);
rejects!(
    level_negative,
    "tile/-1/000",
    TilePathError::InvalidLevel { .. }
);
rejects!(
    level_plus_sign,
    "tile/+1/000",
    TilePathError::InvalidLevel { .. }
);
rejects!(
    level_not_a_number,
    "tile/data/000",
    TilePathError::InvalidLevel { .. }
);
rejects!(
    level_uppercase_entries,
    "tile/Entries/000",
    TilePathError::InvalidLevel { .. }
);
rejects!(
    index_two_digits,
    "tile/0/00",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_four_digits,
    "tile/0/0000",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_unpadded,
    "tile/0/5",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_last_element_with_x,
    "tile/0/x001/x234",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_single_element_with_x,
    "tile/0/x067",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_inner_element_without_x,
    "tile/0/001/234/067",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_uppercase_x,
    "tile/0/X001/067",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_non_digit,
    "tile/0/0a1",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_sign,
    "tile/0/+01",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    index_leading_zero_group,
    "tile/0/x000/067",
    TilePathError::NonCanonicalIndex { .. }
);
rejects!(
    index_leading_zero_groups_deep,
    "tile/0/x000/x001/067",
    TilePathError::NonCanonicalIndex { .. }
);
rejects!(
    index_overflows_u64,
    "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
    TilePathError::IndexTooLarge
);
rejects!(
    index_at_2_pow_56,
    "tile/0/x072/x057/x594/x037/x927/936",
    TilePathError::IndexTooLarge
);
rejects!(
    width_zero,
    "tile/0/000.p/0",
    TilePathError::InvalidWidth { .. }
);
rejects!(
    width_256_full_tile_written_as_partial,
    "tile/0/000.p/256",
    TilePathError::InvalidWidth { .. }
);
rejects!(
    width_over_256,
    "tile/0/000.p/300",
    TilePathError::InvalidWidth { .. }
);
rejects!(
    width_with_leading_zero,
    "tile/0/000.p/08",
    TilePathError::InvalidWidth { .. }
);
rejects!(
    width_not_a_number,
    "tile/0/000.p/x",
    TilePathError::InvalidWidth { .. }
);
rejects!(
    width_negative,
    "tile/0/000.p/-1",
    TilePathError::InvalidWidth { .. }
);
rejects!(
    width_missing,
    "tile/0/000.p",
    TilePathError::InvalidPartialSuffix { .. }
);
rejects!(
    width_followed_by_more,
    "tile/0/000.p/8/1",
    TilePathError::InvalidPartialSuffix { .. }
);
rejects!(
    partial_marker_on_inner_element,
    "tile/0/x001.p/8/067",
    TilePathError::InvalidPartialSuffix { .. }
);
rejects!(
    partial_marker_without_index,
    "tile/0/.p/8",
    TilePathError::InvalidPartialSuffix { .. }
);
rejects!(
    partial_marker_doubled,
    "tile/0/000.p.p/8",
    TilePathError::InvalidIndexElement { .. }
);
rejects!(
    entries_width_256,
    "tile/entries/000.p/256",
    TilePathError::InvalidWidth { .. }
);
rejects!(
    entries_index_unpadded,
    "tile/entries/1",
    TilePathError::InvalidIndexElement { .. }
);

#[test]
fn tile_new_checks_each_field() {
    assert!(Tile::new(63, 0, 256).is_ok());
    assert!(matches!(
        Tile::new(64, 0, 256),
        Err(TilePathError::InvalidLevel { .. })
    ));
    assert!(matches!(
        Tile::new(0, 1 << 56, 256),
        Err(TilePathError::IndexTooLarge)
    ));
    assert!(matches!(
        Tile::new(0, 0, 0),
        Err(TilePathError::InvalidWidth { .. })
    ));
    assert!(matches!(
        Tile::new(0, 0, 257),
        Err(TilePathError::InvalidWidth { .. })
    ));
}
