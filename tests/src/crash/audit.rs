//! What clients observed, and the audit that checks the log against it.
//!
//! [`Observed`] accumulates every receipt and every checkpoint any client was served;
//! [`audit`] reads the whole log back through its public read API and checks the
//! promises of docs/design.md §4 against them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::dsse::Envelope;
use glassbox_core::index::{keys_of, IndexCommitment, Trie};
use glassbox_core::merkle::{self, Hash, MemoryTree};
use glassbox_core::note::NoteVerifierKey;
use glassbox_core::statement::Attestation;
use glassbox_core::tile::{decode_entry_bundle, TilePath, TILE_WIDTH};
use glassbox_core::tlog_proof::TlogProof;

use super::client::get;
use super::Rng;

/// The log's index, rebuilt from its entries: every index commitment is signed by
/// the log and gives the root of the index over every entry before it, and the
/// newest checkpoint ends with one.
fn audit_index(leaves: &[Vec<u8>], vkey: &NoteVerifierKey) -> Result<(), String> {
    let mut index = Trie::new();
    let mut last_is_commitment = leaves.is_empty();
    for (i, leaf) in leaves.iter().enumerate() {
        let envelope =
            Envelope::from_json(leaf).map_err(|e| format!("entry {i} is not an envelope: {e}"))?;
        last_is_commitment = IndexCommitment::is_commitment(&envelope);
        if last_is_commitment {
            let c = IndexCommitment::open(&envelope, vkey.public_key())
                .map_err(|e| format!("entry {i}: {e}"))?;
            if c.size != i as u64 || c.root != index.root() || c.keys != index.len() as u64 {
                return Err(format!(
                    "the index commitment at entry {i} is not the index of the entries before it"
                ));
            }
            continue;
        }
        let (_, attestation) = Attestation::from_envelope(&envelope)
            .map_err(|e| format!("entry {i} is no attestation: {e}"))?;
        for key in keys_of(&envelope, &attestation) {
            index.append(key.hash(), i as u64);
        }
    }
    if !last_is_commitment {
        return Err("the newest checkpoint does not end with an index commitment".to_owned());
    }
    Ok(())
}

/// Acknowledged receipts checked through `GET /api/v1/entries/{index}` per audit in
/// addition to the ones acknowledged since the previous audit.
const OLD_RECEIPTS_SAMPLED: usize = 32;

/// A receipt whose tlog-proof verified: the entry's index and the checkpoint it was
/// proven under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedReceipt {
    pub index: u64,
    pub size: u64,
    pub root: Hash,
}

/// Check a receipt body (`{"index","entry","tlogProof"}`) for the envelope whose
/// canonical bytes are `leaf`: the entry is that envelope, and the tlog-proof is
/// signed by the log and proves the leaf at the receipt's index.
pub fn check_receipt(
    body: &[u8],
    leaf: &[u8],
    vkey: &NoteVerifierKey,
) -> Result<CheckedReceipt, String> {
    let text = String::from_utf8_lossy(body);
    let receipt: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("receipt is not JSON ({e}): {text}"))?;
    let index = receipt["index"]
        .as_u64()
        .ok_or_else(|| format!("receipt has no index: {text}"))?;
    let entry = serde_json::to_vec(&receipt["entry"]).map_err(|e| e.to_string())?;
    let entry = Envelope::from_json(&entry)
        .map_err(|e| format!("receipt {index}: entry is not an envelope: {e}"))?;
    if entry.to_canonical_json() != leaf {
        return Err(format!(
            "receipt {index}: the entry is not the envelope submitted"
        ));
    }
    let proof = receipt["tlogProof"]
        .as_str()
        .ok_or_else(|| format!("receipt {index} has no tlogProof"))?;
    let proof = TlogProof::parse(proof.as_bytes())
        .map_err(|e| format!("receipt {index}: tlog-proof: {e}"))?;
    if proof.index != index {
        return Err(format!(
            "receipt {index}: its tlog-proof is for index {}",
            proof.index
        ));
    }
    let checkpoint = proof
        .verify(leaf, vkey)
        .map_err(|e| format!("receipt {index}: tlog-proof does not verify: {e}"))?;
    Ok(CheckedReceipt {
        index,
        size: checkpoint.size,
        root: checkpoint.root,
    })
}

/// Everything clients were told.
#[derive(Debug, Default)]
pub struct Observed {
    /// Index → leaf of every receipt.
    receipts: BTreeMap<u64, Vec<u8>>,
    /// Leaf hash → index, to catch one envelope acknowledged at two indexes.
    indexes: HashMap<Hash, u64>,
    /// Indexes acknowledged since the last audit.
    fresh: Vec<u64>,
    /// Size → root of every checkpoint served.
    checkpoints: BTreeMap<u64, Hash>,
    /// Sizes not yet proven consistent with a newer checkpoint by the server's proofs.
    unproven: BTreeSet<u64>,
}

impl Observed {
    /// A receipt for `leaf` at `index` was received.
    pub fn acknowledge(&mut self, index: u64, leaf: &[u8]) -> Result<(), String> {
        if let Some(previous) = self.receipts.get(&index) {
            if previous != leaf {
                return Err(format!(
                    "two receipts for index {index} name different entries"
                ));
            }
            return Ok(());
        }
        let hash = merkle::leaf_hash(leaf);
        if let Some(&other) = self.indexes.get(&hash) {
            return Err(format!(
                "one envelope was acknowledged at index {other} and at index {index}"
            ));
        }
        self.indexes.insert(hash, index);
        self.receipts.insert(index, leaf.to_vec());
        self.fresh.push(index);
        Ok(())
    }

    /// A checkpoint of `size` with `root` was served.
    pub fn checkpoint(&mut self, size: u64, root: Hash) -> Result<(), String> {
        match self.checkpoints.get(&size) {
            Some(known) if *known != root => Err(format!(
                "fork: two checkpoints of size {size} with different roots"
            )),
            Some(_) => Ok(()),
            None => {
                self.checkpoints.insert(size, root);
                self.unproven.insert(size);
                Ok(())
            }
        }
    }

    /// A signed checkpoint note was served (by `/checkpoint`).
    pub fn checkpoint_note(&mut self, note: &[u8], vkey: &NoteVerifierKey) -> Result<(), String> {
        let signed = SignedCheckpoint::open(note, vkey)
            .map_err(|e| format!("a served checkpoint does not verify: {e}"))?;
        self.checkpoint(signed.checkpoint.size, signed.checkpoint.root)
    }

    /// Up to `n` random acknowledged (index, leaf) pairs.
    pub fn sample(&self, rng: &mut Rng, n: usize) -> Vec<(u64, Vec<u8>)> {
        if self.receipts.is_empty() {
            return Vec::new();
        }
        (0..n)
            .filter_map(|_| {
                let k = rng.below(self.receipts.len() as u64) as usize;
                self.receipts.iter().nth(k).map(|(i, l)| (*i, l.clone()))
            })
            .collect()
    }

    /// Distinct checkpoints served so far.
    pub fn checkpoints_seen(&self) -> usize {
        self.checkpoints.len()
    }

    /// Receipts received so far.
    pub fn receipts(&self) -> usize {
        self.receipts.len()
    }
}

/// The log as read back by an audit.
#[derive(Debug)]
pub struct LogView {
    pub size: u64,
    pub root: Hash,
    index_of: HashMap<Hash, u64>,
}

impl LogView {
    /// The index holding `leaf`, if the log has it.
    pub fn index_of(&self, leaf: &[u8]) -> Option<u64> {
        self.index_of.get(&merkle::leaf_hash(leaf)).copied()
    }
}

/// Read the whole log at `base` and check it against `observed` (module docs).
pub fn audit(
    agent: &ureq::Agent,
    base: &str,
    vkey: &NoteVerifierKey,
    observed: &mut Observed,
    rng: &mut Rng,
) -> Result<LogView, String> {
    let note = get_ok(agent, &format!("{base}/checkpoint"))?;
    let newest = SignedCheckpoint::open(&note, vkey)
        .map_err(|e| format!("/checkpoint does not verify: {e}"))?
        .checkpoint;
    observed.checkpoint(newest.size, newest.root)?;

    // Dense indexes: the entry tiles hold exactly `size` leaves, each once.
    let leaves = entry_leaves(agent, base, newest.size)?;
    let mut tree = MemoryTree::new();
    let mut index_of = HashMap::with_capacity(leaves.len());
    for (i, leaf) in leaves.iter().enumerate() {
        let hash = merkle::leaf_hash(leaf);
        if let Some(first) = index_of.insert(hash, i as u64) {
            return Err(format!("the entry at {first} is in the log again at {i}"));
        }
        tree.push(hash);
    }
    if tree.root() != newest.root {
        return Err(format!(
            "the root recomputed from /tile/entries differs from the checkpoint of size {}",
            newest.size
        ));
    }
    audit_index(&leaves, vkey)?;

    // Every receipt: its entry is in the log at its index.
    for (&index, leaf) in &observed.receipts {
        match leaves.get(index as usize) {
            Some(logged) if logged == leaf => {}
            Some(_) => {
                return Err(format!(
                    "index {index} holds another entry than its receipt"
                ))
            }
            None => {
                return Err(format!(
                    "acknowledged index {index} is beyond the log's size {}",
                    newest.size
                ))
            }
        }
    }
    // …and the entry API serves it, with a proof, at that index.
    let mut check: Vec<u64> = std::mem::take(&mut observed.fresh);
    check.extend(
        observed
            .sample(rng, OLD_RECEIPTS_SAMPLED)
            .into_iter()
            .map(|(i, _)| i),
    );
    for index in check {
        let leaf = observed.receipts[&index].clone();
        let body = get_ok(agent, &format!("{base}/api/v1/entries/{index}"))?;
        let receipt = check_receipt(&body, &leaf, vkey)?;
        if receipt.index != index {
            return Err(format!(
                "GET entry {index} answered index {}",
                receipt.index
            ));
        }
        observed.checkpoint(receipt.size, receipt.root)?;
    }

    // Every checkpoint ever served is a prefix of this tree…
    for (&size, root) in &observed.checkpoints {
        if size > newest.size {
            return Err(format!(
                "a checkpoint of size {size} was served, but the log now has {} entries",
                newest.size
            ));
        }
        let expected = merkle::tree_root(size, &tree)
            .map_err(|e| format!("root of the rebuilt tree at {size}: {e}"))?;
        if expected != *root {
            return Err(format!(
                "the checkpoint of size {size} served earlier is not a prefix of the log"
            ));
        }
    }
    // …and the server proves it (RFC 9162 §2.1.4); the newest is kept to be proven
    // against the next audit's newest, chaining every audit to the next.
    for size in std::mem::take(&mut observed.unproven) {
        if size == 0 || size == newest.size {
            continue;
        }
        prove_consistent(agent, base, size, observed.checkpoints[&size], &newest)?;
    }
    observed.unproven.insert(newest.size);

    Ok(LogView {
        size: newest.size,
        root: newest.root,
        index_of,
    })
}

/// Fetch and verify the consistency proof from (`size`, `root`) to `newest`.
fn prove_consistent(
    agent: &ureq::Agent,
    base: &str,
    size: u64,
    root: Hash,
    newest: &glassbox_core::checkpoint::Checkpoint,
) -> Result<(), String> {
    let url = format!(
        "{base}/api/v1/proof/consistency?from={size}&to={}",
        newest.size
    );
    let body = get_ok(agent, &url)?;
    let proof: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("{url}: not JSON: {e}"))?;
    let hashes = proof["hashes"]
        .as_array()
        .ok_or_else(|| format!("{url}: no hashes"))?
        .iter()
        .map(|h| h.as_str().and_then(decode_hash))
        .collect::<Option<Vec<Hash>>>()
        .ok_or_else(|| format!("{url}: a hash is not 32 bytes of base64"))?;
    merkle::verify_consistency(size, newest.size, &hashes, &root, &newest.root).map_err(|e| {
        format!(
            "the checkpoint of size {size} is not consistent with the newest ({}): {e}",
            newest.size
        )
    })
}

/// Every leaf of a log of `size` entries, from `/tile/entries/…`.
fn entry_leaves(agent: &ureq::Agent, base: &str, size: u64) -> Result<Vec<Vec<u8>>, String> {
    let mut leaves = Vec::with_capacity(size as usize);
    let mut index = 0;
    while index * TILE_WIDTH < size {
        let width = (size - index * TILE_WIDTH).min(TILE_WIDTH) as u16;
        let path = TilePath::Entries { index, width };
        let body = get_ok(agent, &format!("{base}/{path}"))?;
        let bundle = decode_entry_bundle(&body).map_err(|e| format!("{path}: {e}"))?;
        if bundle.len() != usize::from(width) {
            return Err(format!(
                "{path} holds {} entries, not {width}",
                bundle.len()
            ));
        }
        leaves.extend(bundle);
        index += 1;
    }
    Ok(leaves)
}

/// GET `url`, requiring `200`.
fn get_ok(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, String> {
    let answer = get(agent, url).map_err(|e| format!("GET {url}: {e}"))?;
    if answer.status != 200 {
        return Err(format!("GET {url}: {} {}", answer.status, answer.text()));
    }
    Ok(answer.body)
}

/// Standard base64 (with padding) of exactly 32 bytes, as the proof API writes hashes.
fn decode_hash(text: &str) -> Option<Hash> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.as_bytes();
    // 32 bytes = 10 full groups + 2 bytes: 44 characters ending in one '='.
    if bytes.len() != 44 || bytes[43] != b'=' {
        return None;
    }
    let mut out = Vec::with_capacity(33);
    for group in bytes[..40].chunks(4).chain(std::iter::once(&bytes[40..44])) {
        let mut n = 0u32;
        for (k, &c) in group.iter().enumerate() {
            let v = if c == b'=' && k == 3 { 0 } else { value(c)? };
            n = (n << 6) | v;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..]);
    }
    out.truncate(32);
    out.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_hash_reads_standard_base64() {
        // SHA-256("") in base64.
        let text = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(decode_hash(text), Some(merkle::empty_root()));
        assert_eq!(decode_hash(&text[..43]), None);
        assert_eq!(decode_hash(&text.replace('+', "-")), None);
    }

    #[test]
    fn one_index_acknowledged_with_two_entries_is_caught() {
        let mut o = Observed::default();
        o.acknowledge(3, b"a").unwrap();
        o.acknowledge(3, b"a").unwrap();
        assert!(o.acknowledge(3, b"b").is_err());
    }

    #[test]
    fn one_entry_acknowledged_at_two_indexes_is_caught() {
        let mut o = Observed::default();
        o.acknowledge(3, b"a").unwrap();
        assert!(o.acknowledge(4, b"a").is_err());
    }

    #[test]
    fn two_roots_for_one_size_is_a_fork() {
        let mut o = Observed::default();
        o.checkpoint(5, [1; 32]).unwrap();
        o.checkpoint(5, [1; 32]).unwrap();
        assert!(o.checkpoint(5, [2; 32]).is_err());
    }
}
