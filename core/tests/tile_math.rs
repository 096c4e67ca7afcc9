//! Which tiles a tree has (c2sp.org/tlog-tiles "Merkle Tree" and "Partial
//! Tiles"), which change on append, and which nodes a tile holds.

use std::collections::BTreeSet;

use glassbox_core::merkle::{inclusion_proof_nodes, NodeId};
use glassbox_core::tile::{tiles_changed, tiles_for_nodes, tiles_for_size, Tile};
use proptest::prelude::*;

fn t(level: u8, index: u64, width: u16) -> Tile {
    Tile {
        level,
        index,
        width,
    }
}

/// (level, full tiles, partial width or 0): one level of a tile list.
type LevelSummary = (u8, u64, u16);

fn summary(tiles: &[Tile]) -> Vec<LevelSummary> {
    let mut out: Vec<LevelSummary> = Vec::new();
    for tile in tiles {
        if out.last().is_none_or(|l| l.0 != tile.level) {
            out.push((tile.level, 0, 0));
        }
        let last = out.last_mut().expect("pushed above");
        if tile.width == 256 {
            assert_eq!(tile.index, last.1, "full tiles are listed in order");
            last.1 += 1;
        } else {
            assert_eq!(last.2, 0, "at most one partial tile per level");
            assert_eq!(tile.index, last.1, "the partial tile follows the full ones");
            last.2 = tile.width;
        }
    }
    out
}

#[test]
fn empty_tree_has_no_tiles() {
    assert!(tiles_for_size(0).is_empty());
}

#[test]
fn tiles_for_edge_sizes() {
    let cases: [(u64, &[LevelSummary]); 9] = [
        (1, &[(0, 0, 1)]),
        (255, &[(0, 0, 255)]),
        (256, &[(0, 1, 0), (1, 0, 1)]),
        (257, &[(0, 1, 1), (1, 0, 1)]),
        (511, &[(0, 1, 255), (1, 0, 1)]),
        (512, &[(0, 2, 0), (1, 0, 2)]),
        (65_536, &[(0, 256, 0), (1, 1, 0), (2, 0, 1)]),
        (65_537, &[(0, 256, 1), (1, 1, 0), (2, 0, 1)]),
        // The example of the specification.
        (70_000, &[(0, 273, 112), (1, 1, 17), (2, 0, 1)]),
    ];
    for (size, want) in cases {
        assert_eq!(summary(&tiles_for_size(size)), want, "size {size}");
    }
}

#[test]
fn tiles_changed_near_the_top_of_the_u64_range() {
    // Growing to 2^56 completes one tile at each of levels 0..=6 and opens
    // level 7; no arithmetic may overflow this close to 2^64.
    let mut want: Vec<Tile> = (0..=6u8)
        .map(|level| t(level, (1u64 << (48 - 8 * u32::from(level))) - 1, 256))
        .collect();
    want.push(t(7, 0, 1));
    assert_eq!(tiles_changed((1 << 56) - 1, 1 << 56), want);
    assert_eq!(
        tiles_changed(u64::MAX - 1, u64::MAX),
        vec![t(0, (1 << 56) - 1, 255)]
    );
}

#[test]
fn tile_nodes_are_the_level_8l_nodes_it_covers() {
    assert_eq!(
        t(1, 2, 3).nodes(),
        vec![
            NodeId::new(8, 512),
            NodeId::new(8, 513),
            NodeId::new(8, 514)
        ]
    );
    assert_eq!(t(0, 0, 256).nodes().len(), 256);
    assert_eq!(t(0, 1, 256).nodes()[255], NodeId::new(0, 511));
    assert_eq!(t(31, 0, 1).nodes(), vec![NodeId::new(248, 0)]);
    assert!(t(32, 0, 1).nodes().is_empty(), "level 256 is not a NodeId");
}

#[test]
fn tiles_for_nodes_names_the_tile_holding_each_node_at_the_right_width() {
    let size = 70_000;
    let nodes = [
        NodeId::new(0, 69_999), // last leaf: partial level-0 tile 273
        NodeId::new(3, 8_000),  // computed from level-0 tile 250
        NodeId::new(8, 272),    // level-1 tile 1, partial width 17
        NodeId::new(15, 1),     // computed from level-1 tile 0
        NodeId::new(16, 0),     // level-2 tile 0, width 1
        NodeId::new(0, 70_000), // not in the tree: skipped
        NodeId::new(17, 0),     // not complete in the tree: skipped
    ];
    assert_eq!(
        tiles_for_nodes(&nodes, size),
        vec![
            t(0, 250, 256),
            t(0, 273, 112),
            t(1, 0, 256),
            t(1, 1, 17),
            t(2, 0, 1)
        ]
    );
    let proof_tiles = tiles_for_nodes(&inclusion_proof_nodes(5, size).expect("nodes"), size);
    assert!(proof_tiles.len() <= 6, "{proof_tiles:?}");
}

#[test]
fn tiles_changed_by_crossing_a_tile_boundary() {
    assert_eq!(tiles_changed(255, 256), vec![t(0, 0, 256), t(1, 0, 1)]);
    assert_eq!(tiles_changed(256, 257), vec![t(0, 1, 1)]);
    assert_eq!(tiles_changed(0, 1), vec![t(0, 0, 1)]);
    assert!(tiles_changed(300, 300).is_empty());
    assert!(tiles_changed(300, 200).is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn tiles_changed_is_the_difference_of_tile_sets(old in 0u64..70_000, grow in 1u64..5_000) {
        let new = old + grow;
        let before: BTreeSet<Tile> = tiles_for_size(old).into_iter().collect();
        let want: Vec<Tile> = tiles_for_size(new)
            .into_iter()
            .filter(|tile| !before.contains(tile))
            .collect();
        prop_assert_eq!(tiles_changed(old, new), want);
    }

    #[test]
    fn partial_widths_follow_the_spec_formula(size in 1u64..10_000_000) {
        for tile in tiles_for_size(size).iter().filter(|tile| tile.width != 256) {
            let count = size >> (8 * u32::from(tile.level));
            prop_assert_eq!(u64::from(tile.width), count % 256);
        }
    }
}
