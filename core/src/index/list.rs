//! The value under an index key: how many entries are filed under it, and a hash
//! chain over their log indices.
//!
//! ```text
//! head(0)  = 32 zero bytes
//! head(n)  = SHA-256(0x02 || head(n-1) || uint64_be(index_n))
//! ```
//!
//! Indices are strictly increasing (log order). Appending an entry costs one hash
//! however long the list is, and the pair (count, head) names exactly one list.

use sha2::{Digest, Sha256};

/// Domain-separation byte of a chain step (0x00 and 0x01 are the trie's).
const CHAIN_PREFIX: u8 = 0x02;

/// (count, chain head) of a list of log indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListHead {
    /// How many indices the list holds.
    pub count: u64,
    /// The chain over them.
    pub head: [u8; 32],
}

/// Why a list of indices cannot be an index value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("index list is not strictly increasing: {later} follows {earlier}")]
pub struct UnorderedList {
    /// The earlier index in the list.
    pub earlier: u64,
    /// The index after it, not greater.
    pub later: u64,
}

impl ListHead {
    /// The value of a key no entry is filed under.
    pub const EMPTY: ListHead = ListHead {
        count: 0,
        head: [0; 32],
    };

    /// The head after appending `index`. The caller keeps indices increasing.
    pub fn push(self, index: u64) -> ListHead {
        let mut h = Sha256::new();
        h.update([CHAIN_PREFIX]);
        h.update(self.head);
        h.update(index.to_be_bytes());
        ListHead {
            count: self.count + 1,
            head: h.finalize().into(),
        }
    }

    /// The head of `indices`, which must be strictly increasing.
    pub fn of(indices: &[u64]) -> Result<ListHead, UnorderedList> {
        let mut head = ListHead::EMPTY;
        for (i, &index) in indices.iter().enumerate() {
            if i > 0 && indices[i - 1] >= index {
                return Err(UnorderedList {
                    earlier: indices[i - 1],
                    later: index,
                });
            }
            head = head.push(index);
        }
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_named_by_its_count_and_chain() {
        assert_eq!(ListHead::of(&[]).unwrap(), ListHead::EMPTY);
        let a = ListHead::of(&[1, 5, 9]).unwrap();
        assert_eq!(a, ListHead::EMPTY.push(1).push(5).push(9));
        assert_eq!(a.count, 3);
        assert_ne!(a, ListHead::of(&[1, 5]).unwrap());
        assert_ne!(a, ListHead::of(&[1, 6, 9]).unwrap());
        // One step by hand: SHA-256(0x02 || 32 zero bytes || 00..07).
        let mut input = vec![0x02];
        input.extend([0; 32]);
        input.extend(7u64.to_be_bytes());
        let want: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(ListHead::of(&[7]).unwrap().head, want);
    }

    #[test]
    fn repeated_or_decreasing_indices_are_refused() {
        assert_eq!(
            ListHead::of(&[3, 3]),
            Err(UnorderedList {
                earlier: 3,
                later: 3
            })
        );
        assert!(ListHead::of(&[4, 2]).is_err());
    }
}
