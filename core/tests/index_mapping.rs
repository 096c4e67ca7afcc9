//! The index mapping on a real log: which keys each kind of entry is filed under,
//! and that the trie built from the log proves each key's complete list.

mod verify_support;

use glassbox_core::index::{keys_of, IndexKey, Lookup, Trie};
use glassbox_core::statement::Attestation;
use verify_support::*;

/// File every entry of `log` the way the log does, in log order.
fn index_of(log: &TestLog) -> (Trie, Vec<Vec<IndexKey>>) {
    let mut trie = Trie::new();
    let mut keys = Vec::new();
    for (i, envelope) in log.entries.iter().enumerate() {
        let (_, attestation) = Attestation::from_envelope(envelope).unwrap();
        let k = keys_of(envelope, &attestation);
        for key in &k {
            trie.append(key.hash(), i as u64);
        }
        keys.push(k);
    }
    (trie, keys)
}

#[test]
fn each_kind_of_entry_is_filed_under_what_it_is_about() {
    let p = people();
    let log = happy_log(&p);
    let (_, keys) = index_of(&log);
    let signer = |k: &ed25519_dalek::SigningKey| IndexKey::Signer(id(k));
    // 0: genesis — the operator registers itself.
    assert_eq!(keys[0], vec![signer(&p.operator), IndexKey::Registry]);
    // 1: the operator registers the vendor.
    let mut want = vec![signer(&p.operator), signer(&p.vendor), IndexKey::Registry];
    want.sort();
    assert_eq!(keys[1], want);
    // 4: the vendor's submission of C.
    let mut want = vec![IndexKey::Source(DIR_C.into()), signer(&p.vendor)];
    want.sort();
    assert_eq!(keys[4], want);
    // 5: the review of C.
    let mut want = vec![IndexKey::Source(DIR_C.into()), signer(&p.reviewer)];
    want.sort();
    assert_eq!(keys[5], want);
    // 6: the vendor's build: artifact, source, signer.
    let mut want = vec![
        IndexKey::Artifact(artifact().hex()),
        IndexKey::Source(DIR_C.into()),
        signer(&p.vendor),
    ];
    want.sort();
    assert_eq!(keys[6], want);
}

#[test]
fn the_trie_of_a_log_proves_each_keys_complete_list() {
    let p = people();
    let log = happy_log(&p);
    let (mut trie, _) = index_of(&log);
    let root = trie.root();
    let cases = [
        (IndexKey::Artifact(artifact().hex()), vec![6u64, 7]),
        (IndexKey::Source(DIR_C.into()), vec![4, 5, 6, 7]),
        (IndexKey::Registry, vec![0, 1, 2, 3]),
        (IndexKey::Signer(id(&p.vendor)), vec![1, 4, 6]),
        (IndexKey::Source(DIR_D.into()), vec![]),
    ];
    for (key, list) in cases {
        let proof = trie.prove(&key.hash());
        proof
            .verify_list(&root, &key.hash(), &list)
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        // Leaving any one entry out is caught.
        for skip in 0..list.len() {
            let mut short = list.clone();
            short.remove(skip);
            assert!(proof.verify_list(&root, &key.hash(), &short).is_err());
        }
        assert_eq!(
            matches!(proof.verify(&root, &key.hash()).unwrap(), Lookup::Absent),
            list.is_empty()
        );
    }
}
