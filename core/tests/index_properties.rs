//! Properties of the index trie over arbitrary key sets: the root depends only on
//! what is filed, and every proof verifies for exactly its key.

use glassbox_core::index::{IndexProof, ListHead, Lookup, Trie};
use proptest::prelude::*;

/// Keys drawn from a small pool of prefixes so that long shared prefixes occur.
fn key() -> impl Strategy<Value = [u8; 32]> {
    (0u8..4, any::<[u8; 32]>()).prop_map(|(shared, mut k)| {
        for b in k.iter_mut().take(usize::from(shared) * 8) {
            *b = 0x5a;
        }
        k
    })
}

proptest! {
    #[test]
    fn the_root_depends_only_on_the_lists(keys in prop::collection::vec(key(), 0..60), seed in any::<u64>()) {
        let mut forward = Trie::new();
        for (i, k) in keys.iter().enumerate() {
            forward.append(*k, i as u64);
        }
        // The same lists filed key by key, the keys in another order.
        let mut distinct = keys.clone();
        distinct.sort_by_key(|k| k.map(|b| b ^ seed as u8));
        distinct.dedup();
        let mut other = Trie::new();
        for k in &distinct {
            for (i, _) in keys.iter().enumerate().filter(|(_, x)| *x == k) {
                other.append(*k, i as u64);
            }
        }
        prop_assert_eq!(forward.root(), other.root());
    }

    #[test]
    fn every_proof_verifies_for_its_key_only(keys in prop::collection::vec(key(), 1..40), probe in key()) {
        let mut trie = Trie::new();
        for (i, k) in keys.iter().enumerate() {
            trie.append(*k, i as u64);
        }
        let root = trie.root();
        for k in keys.iter().chain([&probe]) {
            let proof = trie.prove(k);
            let lookup = proof.verify(&root, k).unwrap();
            let want: Vec<u64> = (0..keys.len() as u64).filter(|&i| keys[i as usize] == *k).collect();
            prop_assert_eq!(lookup.value(), ListHead::of(&want).unwrap());
            prop_assert_eq!(matches!(lookup, Lookup::Absent), want.is_empty());
            let back = IndexProof::from_bytes(&proof.to_bytes()).unwrap();
            prop_assert_eq!(back, proof);
        }
    }
}
