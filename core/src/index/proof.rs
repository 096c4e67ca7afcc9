//! Lookup proofs: that a key's list is exactly (count, head) at a trie root, or
//! that the key has no entries.
//!
//! A proof is the path a lookup of the key takes from the root: at each inner node
//! its split bit and the hash of the child not taken, then what the path ends at —
//! a leaf (its key and value) or nothing (the empty trie). The verifier rehashes the
//! path upward, taking at each node the side the *looked-up* key's bit names, and
//! compares with the root. Hashes bind every split bit and child, so a path that
//! reproduces the root is the trie's own path for that key; it ends at the key's
//! leaf when the key is present, so a path ending at another leaf proves absence.
//!
//! Binary form (the `proof` member of lookups and bundles, base64):
//!
//! ```text
//! uint8 n                          number of steps, root first
//! n × (uint8 bit || 32 sibling)
//! uint8 end                        0: empty trie (n = 0), 1: leaf
//! [32 key || uint64_be count || 32 head]   when end = 1
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::list::ListHead;
use super::trie::{bit, inner_hash, leaf_hash, EMPTY_ROOT};

/// One inner node on the lookup path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofStep {
    /// The bit the node splits at.
    pub bit: u8,
    /// The hash of the child the lookup did not take.
    pub sibling: [u8; 32],
}

/// Where the lookup path ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofEnd {
    /// The trie is empty.
    Empty,
    /// A leaf: the looked-up key's own, or the one that proves it absent.
    Leaf {
        /// The leaf's key.
        key: [u8; 32],
        /// Its value.
        value: ListHead,
    },
}

/// A lookup proof (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexProof {
    /// Inner nodes from the root down.
    pub steps: Vec<ProofStep>,
    /// What the path ends at.
    pub end: ProofEnd,
}

/// What a verified proof says about the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The key has entries: this many, with this chain head.
    Present(ListHead),
    /// No entry is filed under the key.
    Absent,
}

impl Lookup {
    /// The key's value: [`ListHead::EMPTY`] when absent.
    pub fn value(self) -> ListHead {
        match self {
            Lookup::Present(v) => v,
            Lookup::Absent => ListHead::EMPTY,
        }
    }
}

/// Why an index proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexProofError {
    /// The path does not hash to the root.
    #[error("index proof does not lead to the committed root")]
    RootMismatch,
    /// Split bits must grow strictly from the root down.
    #[error("index proof steps are out of order (bit {later} below bit {earlier})")]
    StepOrder {
        /// The split bit higher up.
        earlier: u8,
        /// The split bit below it, not greater.
        later: u8,
    },
    /// The leaf at the end does not lie on the path its steps describe.
    #[error("index proof ends at a leaf that is off its own path")]
    LeafOffPath,
    /// An empty trie has no steps.
    #[error("index proof of an empty trie has steps")]
    EmptyWithSteps,
    /// A leaf with a count of zero is never stored.
    #[error("index proof ends at a leaf with no entries")]
    EmptyLeaf,
    /// The binary form is malformed.
    #[error("index proof is malformed: {0}")]
    Malformed(&'static str),
    /// The list handed with a proof is not the list the proof commits to.
    #[error("the list of {given} log indices is not the key's list of {committed} at this root")]
    ListMismatch {
        /// Indices given.
        given: u64,
        /// Indices the root commits to.
        committed: u64,
    },
    /// The list handed with a proof is not in log order.
    #[error(transparent)]
    Unordered(#[from] super::list::UnorderedList),
}

impl IndexProof {
    /// Check the proof for the trie key `key` against `root`.
    pub fn verify(&self, root: &[u8; 32], key: &[u8; 32]) -> Result<Lookup, IndexProofError> {
        let (leaf_key, value) = match self.end {
            ProofEnd::Empty if !self.steps.is_empty() => {
                return Err(IndexProofError::EmptyWithSteps)
            }
            ProofEnd::Empty if *root == EMPTY_ROOT => return Ok(Lookup::Absent),
            ProofEnd::Empty => return Err(IndexProofError::RootMismatch),
            ProofEnd::Leaf { key, value } => (key, value),
        };
        if value.count == 0 {
            return Err(IndexProofError::EmptyLeaf);
        }
        for w in self.steps.windows(2) {
            if w[1].bit <= w[0].bit {
                return Err(IndexProofError::StepOrder {
                    earlier: w[0].bit,
                    later: w[1].bit,
                });
            }
        }
        // In a well-formed trie the leaf agrees with every branch taken to reach it.
        if self
            .steps
            .iter()
            .any(|s| bit(&leaf_key, s.bit) != bit(key, s.bit))
        {
            return Err(IndexProofError::LeafOffPath);
        }
        let mut hash = leaf_hash(&leaf_key, &value);
        for step in self.steps.iter().rev() {
            hash = if bit(key, step.bit) == 0 {
                inner_hash(step.bit, &hash, &step.sibling)
            } else {
                inner_hash(step.bit, &step.sibling, &hash)
            };
        }
        if hash != *root {
            return Err(IndexProofError::RootMismatch);
        }
        Ok(if leaf_key == *key {
            Lookup::Present(value)
        } else {
            Lookup::Absent
        })
    }

    /// Check that `indices` is the complete list of log entries filed under `key`
    /// at `root`: the proof verifies, and the list hashes to the committed value
    /// (an empty list for an absent key).
    pub fn verify_list(
        &self,
        root: &[u8; 32],
        key: &[u8; 32],
        indices: &[u64],
    ) -> Result<(), IndexProofError> {
        let committed = self.verify(root, key)?.value();
        let given = ListHead::of(indices)?;
        if given != committed {
            return Err(IndexProofError::ListMismatch {
                given: given.count,
                committed: committed.count,
            });
        }
        Ok(())
    }

    /// The binary form (see the module documentation).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.steps.len() * 33 + 72);
        // A trie over 256-bit keys has at most 255 split bits on one path.
        out.push(self.steps.len() as u8);
        for s in &self.steps {
            out.push(s.bit);
            out.extend(s.sibling);
        }
        match &self.end {
            ProofEnd::Empty => out.push(0),
            ProofEnd::Leaf { key, value } => {
                out.push(1);
                out.extend(key);
                out.extend(value.count.to_be_bytes());
                out.extend(value.head);
            }
        }
        out
    }

    /// Parse the binary form; trailing bytes are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<IndexProof, IndexProofError> {
        let mut r = Reader(bytes);
        let n = r.u8()?;
        let steps = (0..n)
            .map(|_| {
                Ok(ProofStep {
                    bit: r.u8()?,
                    sibling: r.array()?,
                })
            })
            .collect::<Result<Vec<_>, IndexProofError>>()?;
        let end = match r.u8()? {
            0 => ProofEnd::Empty,
            1 => ProofEnd::Leaf {
                key: r.array()?,
                value: ListHead {
                    count: u64::from_be_bytes(r.array()?),
                    head: r.array()?,
                },
            },
            _ => return Err(IndexProofError::Malformed("unknown end marker")),
        };
        if !r.0.is_empty() {
            return Err(IndexProofError::Malformed("trailing bytes"));
        }
        Ok(IndexProof { steps, end })
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, IndexProofError> {
        Ok(self.array::<1>()?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], IndexProofError> {
        if self.0.len() < N {
            return Err(IndexProofError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        Ok(head.try_into().expect("split at N"))
    }
}

/// On the wire a proof is its binary form in standard base64.
impl Serialize for IndexProof {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(self.to_bytes()))
    }
}

impl<'de> Deserialize<'de> for IndexProof {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IndexProof, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("index proof is not base64: {e}")))?;
        IndexProof::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::index::Trie;

    fn key(n: u64) -> [u8; 32] {
        Sha256::digest(n.to_be_bytes()).into()
    }

    fn trie(keys: u64) -> Trie {
        let mut t = Trie::new();
        for n in 0..keys {
            t.append(key(n), n);
            t.append(key(n / 2), 1000 + n);
        }
        t
    }

    #[test]
    fn every_key_proves_its_list_and_absent_keys_prove_absence() {
        for size in [0u64, 1, 2, 3, 50] {
            let mut t = trie(size);
            let root = t.root();
            for n in 0..size + 20 {
                let k = key(n);
                let proof = t.prove(&k);
                let lookup = proof.verify(&root, &k).unwrap();
                assert_eq!(lookup.value(), t.get(&k), "size {size} key {n}");
                assert_eq!(matches!(lookup, Lookup::Absent), n >= size);
                let round = IndexProof::from_bytes(&proof.to_bytes()).unwrap();
                assert_eq!(round, proof);
            }
        }
    }

    #[test]
    fn a_list_verifies_only_when_it_is_the_whole_list() {
        let mut t = Trie::new();
        for i in [3u64, 8, 20] {
            t.append(key(1), i);
        }
        t.append(key(2), 5);
        let root = t.root();
        let proof = t.prove(&key(1));
        proof.verify_list(&root, &key(1), &[3, 8, 20]).unwrap();
        for wrong in [&[3u64, 20][..], &[3, 8], &[3, 8, 20, 21], &[3, 9, 20], &[]] {
            assert!(matches!(
                proof.verify_list(&root, &key(1), wrong),
                Err(IndexProofError::ListMismatch { .. })
            ));
        }
        assert!(matches!(
            proof.verify_list(&root, &key(1), &[8, 3, 20]),
            Err(IndexProofError::Unordered(_))
        ));
        // An absent key's list is empty, and only empty.
        let absent = t.prove(&key(9));
        absent.verify_list(&root, &key(9), &[]).unwrap();
        assert!(absent.verify_list(&root, &key(9), &[3]).is_err());
    }

    #[test]
    fn a_proof_for_one_key_does_not_pass_for_another_or_another_root() {
        let mut t = trie(40);
        let root = t.root();
        let proof = t.prove(&key(7));
        // Key 7 is present: its proof ends at its own leaf, so it cannot show
        // key 8 absent nor key 8's list.
        let other = proof.verify(&root, &key(8));
        assert!(other.is_err(), "{other:?}");
        t.append(key(7), 5000);
        assert_eq!(
            proof.verify(&t.root(), &key(7)),
            Err(IndexProofError::RootMismatch)
        );
    }

    #[test]
    fn tampered_proofs_are_refused() {
        let mut t = trie(64);
        let root = t.root();
        let k = key(5);
        let good = t.prove(&k);
        assert!(good.steps.len() >= 2);

        let mut p = good.clone();
        p.steps[0].sibling[0] ^= 1;
        assert_eq!(p.verify(&root, &k), Err(IndexProofError::RootMismatch));

        let mut p = good.clone();
        p.steps.remove(0);
        assert!(p.verify(&root, &k).is_err());

        let mut p = good.clone();
        p.steps.swap(0, 1);
        assert!(matches!(
            p.verify(&root, &k),
            Err(IndexProofError::StepOrder { .. })
        ));

        // Claim the key's list is one shorter: the leaf no longer hashes.
        let mut p = good.clone();
        if let ProofEnd::Leaf { value, .. } = &mut p.end {
            value.count -= 1;
        }
        assert_eq!(p.verify(&root, &k), Err(IndexProofError::RootMismatch));

        // Claim absence with an empty trie.
        let p = IndexProof {
            steps: vec![],
            end: ProofEnd::Empty,
        };
        assert_eq!(p.verify(&root, &k), Err(IndexProofError::RootMismatch));

        // Claim absence by ending at a sibling leaf of another branch.
        let other = t.prove(&key(6));
        let spliced = IndexProof {
            steps: good.steps.clone(),
            end: other.end,
        };
        assert!(spliced.verify(&root, &k).is_err());
    }

    #[test]
    fn malformed_binary_is_refused_not_misread() {
        let mut t = trie(10);
        let bytes = t.prove(&key(3)).to_bytes();
        for cut in 0..bytes.len() {
            assert!(IndexProof::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(IndexProof::from_bytes(&long).is_err());
        let mut bad_end = IndexProof {
            steps: vec![],
            end: ProofEnd::Empty,
        }
        .to_bytes();
        bad_end[1] = 7;
        assert!(IndexProof::from_bytes(&bad_end).is_err());
        let json = serde_json::to_string(&t.prove(&key(3))).unwrap();
        let back: IndexProof = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t.prove(&key(3)));
        assert!(serde_json::from_str::<IndexProof>("\"!!\"").is_err());
    }
}
