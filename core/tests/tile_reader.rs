//! A tile-backed `HashReader` gives the same roots and proofs as the whole
//! tree in memory, from only the tiles `tiles_for_nodes` names.

use std::sync::OnceLock;

use glassbox_core::merkle::{
    consistency_proof, consistency_proof_nodes, inclusion_proof, inclusion_proof_nodes, leaf_hash,
    tree_root, tree_root_nodes, HashReadError, HashReader, MemoryTree, NodeId, ProofError,
};
use glassbox_core::tile::{
    encode_hash_tile, tiles_for_nodes, tiles_for_size, Tile, TileError, TileHashReader,
};
use proptest::prelude::*;

const SIZE: u64 = 70_000;

fn tree() -> &'static MemoryTree {
    static TREE: OnceLock<MemoryTree> = OnceLock::new();
    TREE.get_or_init(|| {
        MemoryTree::from_leaf_hashes((0..SIZE).map(|i| leaf_hash(&i.to_be_bytes())))
    })
}

/// What a log would serve for `tile`: its hashes, encoded.
fn serve(tile: Tile) -> Vec<u8> {
    let hashes = tree()
        .read_hashes(&tile.nodes())
        .expect("tile nodes are in the tree");
    encode_hash_tile(&hashes).expect("encode")
}

/// A client that fetches exactly the tiles needed for `nodes` in a tree of `size`.
fn client_for(nodes: &[NodeId], size: u64) -> TileHashReader {
    let mut reader = TileHashReader::new();
    for tile in tiles_for_nodes(nodes, size) {
        reader.insert(tile, &serve(tile)).expect("insert");
    }
    reader
}

#[test]
fn all_tiles_of_the_tree_give_the_same_roots_and_proofs() {
    let mut reader = TileHashReader::new();
    for tile in tiles_for_size(SIZE) {
        reader.insert(tile, &serve(tile)).expect("insert");
    }
    for size in [1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 69_999, 70_000] {
        assert_eq!(
            tree_root(size, &reader),
            tree_root(size, tree()),
            "root {size}"
        );
        for index in [0, size / 3, size - 1] {
            assert_eq!(
                inclusion_proof(index, size, &reader),
                inclusion_proof(index, size, tree()),
                "inclusion {index} of {size}"
            );
        }
        assert_eq!(
            consistency_proof(1.max(size / 2), size, &reader),
            consistency_proof(1.max(size / 2), size, tree()),
            "consistency to {size}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn fetching_only_the_named_tiles_suffices(size in 1u64..=SIZE, a in any::<u64>(), b in any::<u64>()) {
        let index = a % size;
        let nodes = inclusion_proof_nodes(index, size).expect("nodes");
        let reader = client_for(&nodes, size);
        prop_assert_eq!(inclusion_proof(index, size, &reader), inclusion_proof(index, size, tree()));

        let size1 = 1 + b % size;
        let nodes = consistency_proof_nodes(size1, size).expect("nodes");
        let reader = client_for(&nodes, size);
        prop_assert_eq!(consistency_proof(size1, size, &reader), consistency_proof(size1, size, tree()));

        let reader = client_for(&tree_root_nodes(size), size);
        prop_assert_eq!(tree_root(size, &reader), tree_root(size, tree()));
    }
}

#[test]
fn a_missing_tile_is_a_missing_node() {
    let reader = TileHashReader::new();
    assert_eq!(
        tree_root(3, &reader),
        Err(ProofError::Read(HashReadError::Missing {
            node: NodeId::new(1, 0)
        }))
    );
}

#[test]
fn a_partial_tile_cannot_answer_beyond_its_width() {
    let mut reader = TileHashReader::new();
    let tile = Tile {
        level: 0,
        index: 0,
        width: 3,
    };
    reader.insert(tile, &serve(tile)).expect("insert");
    assert!(reader
        .read_hashes(&[NodeId::new(1, 0), NodeId::leaf(2)])
        .is_ok());
    assert_eq!(
        reader.read_hashes(&[NodeId::leaf(3)]),
        Err(HashReadError::Missing {
            node: NodeId::leaf(3)
        })
    );
    assert!(reader.read_hashes(&[NodeId::new(2, 0)]).is_err());
}

#[test]
fn a_wider_copy_of_a_tile_replaces_the_partial_one() {
    let mut reader = TileHashReader::new();
    let partial = Tile {
        level: 0,
        index: 1,
        width: 10,
    };
    reader.insert(partial, &serve(partial)).expect("partial");
    reader
        .insert(partial.full(), &serve(partial.full()))
        .expect("full");
    // Inserting the narrower one again keeps the wider contents.
    reader
        .insert(partial, &serve(partial))
        .expect("partial again");
    assert_eq!(
        reader.read_hashes(&[NodeId::leaf(511)]),
        tree().read_hashes(&[NodeId::leaf(511)])
    );
}

#[test]
fn conflicting_copies_of_a_tile_are_rejected() {
    let mut reader = TileHashReader::new();
    let tile = Tile {
        level: 0,
        index: 0,
        width: 4,
    };
    reader.insert(tile, &serve(tile)).expect("insert");
    let mut forged = serve(tile.full());
    forged[0] ^= 1;
    assert_eq!(
        reader.insert(tile.full(), &forged),
        Err(TileError::Conflict { tile: tile.full() })
    );
}

#[test]
fn tile_bytes_of_the_wrong_length_are_rejected() {
    let mut reader = TileHashReader::new();
    let tile = Tile {
        level: 0,
        index: 0,
        width: 4,
    };
    assert_eq!(
        reader.insert(tile, &[0u8; 96]),
        Err(TileError::HashTileLength { width: 4, len: 96 })
    );
}
