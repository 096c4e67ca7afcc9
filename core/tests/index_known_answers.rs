//! Known answers for the index, computed from docs/formats/index.md with an
//! independent implementation (a dozen lines of Python's hashlib, reproduced in
//! that document), so the Rust code and the written specification agree.

use glassbox_core::index::trie::leaf_hash;
use glassbox_core::index::{IndexKey, ListHead, Trie};

const ARTIFACT: &str = "5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f";
const SOURCE: &str = "3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a";

#[test]
fn the_worked_example_of_the_format_document() {
    let registry = IndexKey::Registry.hash();
    assert_eq!(
        hex::encode(registry),
        "872491a30d60d598962de6e7b834ab76b2aa65fbab102c6ebaaae6acdc238822"
    );
    let head = ListHead::of(&[0, 1, 2, 3]).unwrap();
    assert_eq!(
        hex::encode(head.head),
        "d28ef3657138f22df47c8d4357d913a2964d10ef06502ef37a3a3b2a3f252d1a"
    );
    assert_eq!(
        hex::encode(leaf_hash(&registry, &head)),
        "8338e84b01c35d396095fe646dd07af424dd3fcd1ecdbea52b3008c29392ace9"
    );

    let mut trie = Trie::new();
    for (key, indices) in [
        (IndexKey::Registry, &[0u64, 1, 2, 3][..]),
        (IndexKey::Source(SOURCE.into()), &[4, 5]),
        (IndexKey::Artifact(ARTIFACT.into()), &[6, 7]),
        (IndexKey::Source(SOURCE.into()), &[6, 7]),
    ] {
        for &i in indices {
            trie.append(key.hash(), i);
        }
    }
    assert_eq!(
        hex::encode(trie.root()),
        "231825b4c7bd1347e61ed296bd06f4be67d6541e8033f6097b0813ad2383212d"
    );
}

/// The fuzzer's seeds (fuzz/seeds/index_proof: 32-byte key, 32-byte root, proof)
/// were written by the Python of the format document: they must verify here.
#[test]
fn the_fuzz_seeds_are_proofs_this_code_accepts() {
    use glassbox_core::index::{IndexProof, Lookup};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/index_proof");
    let seed = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let verify = |bytes: Vec<u8>| {
        let (head, proof) = bytes.split_at(64);
        IndexProof::from_bytes(proof)
            .unwrap()
            .verify(
                head[32..].try_into().unwrap(),
                head[..32].try_into().unwrap(),
            )
            .unwrap()
    };
    assert_eq!(
        verify(seed("present")),
        Lookup::Present(ListHead::of(&[0, 1]).unwrap())
    );
    assert_eq!(verify(seed("absent")), Lookup::Absent);
    assert_eq!(verify(seed("empty")), Lookup::Absent);
}
