//! Known answers: the RFC 6962 reference tree used across Certificate
//! Transparency implementations (transparency-dev/merkle
//! `testonly/constants.go`), the worked example of `docs/formats/tlog.md`,
//! and the contract of `append_hashes`, `tree_root` and the reader errors.

use glassbox_core::merkle::{
    append_hashes, consistency_proof, consistency_proof_nodes, empty_root, inclusion_proof,
    inclusion_proof_nodes, leaf_hash, node_hash, tree_root, tree_root_nodes, verify_consistency,
    verify_inclusion, Hash, HashReadError, HashReader, MemoryTree, NodeId, ProofError,
};

fn h(hex_str: &str) -> Hash {
    hex::decode(hex_str)
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots of the reference tree for sizes 1..=8.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn reference_tree(size: usize) -> MemoryTree {
    MemoryTree::from_leaf_hashes(
        LEAVES[..size]
            .iter()
            .map(|l| leaf_hash(&hex::decode(l).expect("hex"))),
    )
}

#[test]
fn empty_root_is_sha256_of_nothing() {
    assert_eq!(
        empty_root(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(MemoryTree::new().root(), empty_root());
    assert_eq!(tree_root(0, &MemoryTree::new()), Ok(empty_root()));
}

#[test]
fn reference_tree_roots_match_for_sizes_1_to_8() {
    for size in 1..=8 {
        let tree = reference_tree(size);
        let want = h(ROOTS[size - 1]);
        assert_eq!(tree.root(), want, "MemoryTree::root, size {size}");
        let full = reference_tree(8);
        assert_eq!(
            tree_root(size as u64, &full),
            Ok(want),
            "tree_root over the 8-leaf tree, size {size}"
        );
    }
}

#[test]
fn reference_tree_interior_nodes_match() {
    let tree = reference_tree(8);
    let expect = [
        (
            1,
            0,
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        ),
        (
            1,
            3,
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ),
        (
            2,
            1,
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
        (
            0,
            7,
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ),
    ];
    for (level, index, hash) in expect {
        assert_eq!(tree.node(NodeId::new(level, index)), Some(h(hash)));
    }
}

#[test]
fn three_leaf_worked_example_from_the_format_doc() {
    // docs/formats/tlog.md walks through exactly these values.
    let a = leaf_hash(b"a");
    let b = leaf_hash(b"b");
    let c = leaf_hash(b"c");
    assert_eq!(
        a,
        h("022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c")
    );
    assert_eq!(
        b,
        h("57eb35615d47f34ec714cacdf5fd74608a5e8e102724e80b24b287c0c27b6a31")
    );
    assert_eq!(
        c,
        h("597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8")
    );
    let ab = node_hash(&a, &b);
    assert_eq!(
        ab,
        h("b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb")
    );
    let root = node_hash(&ab, &c);
    assert_eq!(
        root,
        h("36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1")
    );
    let tree = MemoryTree::from_leaf_hashes([a, b, c]);
    assert_eq!(tree.root(), root);
    assert_eq!(inclusion_proof(0, 3, &tree), Ok(vec![b, c]));
    assert_eq!(inclusion_proof(2, 3, &tree), Ok(vec![ab]));
    assert_eq!(consistency_proof(2, 3, &tree), Ok(vec![c]));
    assert_eq!(verify_consistency(2, 3, &[c], &ab, &root), Ok(()));
}

#[test]
fn append_hashes_returns_exactly_the_nodes_memory_tree_stores() {
    let mut tree = MemoryTree::new();
    for i in 0..300u64 {
        let leaf = leaf_hash(&i.to_be_bytes());
        let appended = append_hashes(i, leaf, &tree).expect("append");
        tree.push(leaf);
        let levels: Vec<u8> = appended.iter().map(|(n, _)| n.level).collect();
        let want: Vec<u8> = (0..=i.trailing_ones() as u8).collect();
        assert_eq!(levels, want, "levels completed by leaf {i}");
        for (node, hash) in appended {
            assert_eq!(tree.node(node), Some(hash), "node {node:?} after leaf {i}");
        }
    }
}

#[test]
fn append_hashes_fails_when_the_reader_lacks_the_previous_tree() {
    let tree = reference_tree(2);
    // Leaf 3 needs the level-0 node 2, which a 2-leaf tree does not hold.
    let err = append_hashes(3, leaf_hash(b"x"), &tree).unwrap_err();
    assert_eq!(
        err,
        ProofError::Read(HashReadError::Missing {
            node: NodeId::new(0, 2)
        })
    );
}

#[test]
fn proofs_for_a_size_the_reader_does_not_hold_fail_with_missing() {
    let tree = reference_tree(5);
    assert!(matches!(
        inclusion_proof(0, 6, &tree),
        Err(ProofError::Read(HashReadError::Missing { .. }))
    ));
    assert!(matches!(
        tree_root(8, &tree),
        Err(ProofError::Read(HashReadError::Missing { .. }))
    ));
}

#[test]
fn index_at_or_beyond_size_is_out_of_range() {
    let tree = reference_tree(8);
    assert_eq!(
        inclusion_proof(8, 8, &tree),
        Err(ProofError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        verify_inclusion(&[0; 32], 0, 0, &[], &empty_root()),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
}

#[test]
fn consistency_sizes_out_of_order_or_from_empty_are_refused() {
    let tree = reference_tree(8);
    assert_eq!(
        consistency_proof(5, 4, &tree),
        Err(ProofError::SizesOutOfOrder { size1: 5, size2: 4 })
    );
    assert_eq!(
        consistency_proof(0, 4, &tree),
        Err(ProofError::EmptyOldTree)
    );
    assert_eq!(consistency_proof(4, 4, &tree), Ok(vec![]));
    let root = tree.root();
    assert_eq!(
        verify_consistency(0, 8, &[], &empty_root(), &root),
        Err(ProofError::EmptyOldTree)
    );
}

#[test]
fn wrong_proof_length_is_reported_as_such() {
    let tree = reference_tree(8);
    let mut proof = inclusion_proof(3, 8, &tree).expect("proof");
    proof.push([0; 32]);
    let leaf = tree.node(NodeId::leaf(3)).expect("leaf");
    assert_eq!(
        verify_inclusion(&leaf, 3, 8, &proof, &tree.root()),
        Err(ProofError::WrongProofLength {
            expected: 3,
            actual: 4
        })
    );
}

#[test]
fn proof_node_lists_are_logarithmic_and_match_reads() {
    struct Counting<'a>(&'a MemoryTree, std::cell::RefCell<Vec<NodeId>>);
    impl HashReader for Counting<'_> {
        fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
            self.1.borrow_mut().extend_from_slice(nodes);
            self.0.read_hashes(nodes)
        }
    }
    let tree = MemoryTree::from_leaf_hashes((0..1000u32).map(|i| leaf_hash(&i.to_be_bytes())));
    let reader = Counting(&tree, Default::default());
    for (index, size) in [(0, 1000), (999, 1000), (517, 777), (3, 4)] {
        reader.1.borrow_mut().clear();
        inclusion_proof(index, size, &reader).expect("proof");
        let nodes = inclusion_proof_nodes(index, size).expect("nodes");
        assert_eq!(*reader.1.borrow(), nodes);
        assert!(
            nodes.len() <= 2 * 10,
            "{} nodes for size {size}",
            nodes.len()
        );
    }
    for (size1, size2) in [(1, 1000), (999, 1000), (512, 1000), (333, 777)] {
        reader.1.borrow_mut().clear();
        consistency_proof(size1, size2, &reader).expect("proof");
        assert_eq!(
            *reader.1.borrow(),
            consistency_proof_nodes(size1, size2).expect("nodes")
        );
        assert!(reader.1.borrow().len() <= 2 * 10);
    }
    assert_eq!(
        tree_root_nodes(1000),
        vec![
            NodeId::new(9, 0),
            NodeId::new(8, 2),
            NodeId::new(7, 6),
            NodeId::new(6, 14),
            NodeId::new(5, 30),
            NodeId::new(3, 124),
        ]
    );
}

#[test]
fn reader_returning_too_few_hashes_is_a_contract_error() {
    struct Short;
    impl HashReader for Short {
        fn read_hashes(&self, _nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
            Ok(vec![])
        }
    }
    assert_eq!(
        tree_root(3, &Short),
        Err(ProofError::ReaderContract {
            requested: 2,
            returned: 0
        })
    );
}
