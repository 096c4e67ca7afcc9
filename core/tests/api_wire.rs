//! The shared wire types read what the log writes: the examples of docs/api.md (with
//! concrete values where the document elides them) parse into `glassbox_core::api`
//! and serialise back to the same JSON, so the server and its clients cannot drift
//! apart field by field.

use glassbox_core::api::{
    CheckpointPage, ConsistencyProof, ErrorBody, InclusionProof, SearchFilter, SearchPage,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Parses `json` as `T`, serialises it again and asserts nothing was lost or added.
fn round_trips<T: DeserializeOwned + Serialize>(json: &str) -> T {
    let parsed: T = serde_json::from_str(json).expect("parses");
    let again = serde_json::to_value(&parsed).expect("serialises");
    let original: Value = serde_json::from_str(json).expect("valid JSON");
    assert_eq!(again, original);
    parsed
}

#[test]
fn an_error_body_round_trips() {
    let body: ErrorBody = round_trips(
        r#"{"error": {"code": "unknown_key", "message": "signer 5f1c is not registered at log index 12"}}"#,
    );
    assert_eq!(body.error.code, "unknown_key");
}

#[test]
fn a_search_page_round_trips_with_and_without_a_cursor() {
    let page: SearchPage = round_trips(
        r#"{"entries": [{"index": 4, "kind": "source-submission",
            "integratedTime": "2026-01-01T00:00:00.000Z", "signers": ["3b7e"],
            "entry": {"payload": "eyJf", "payloadType": "application/vnd.in-toto+json",
                      "signatures": [{"keyid": "3b7e", "sig": "Qk1"}]}}],
            "nextCursor": "YWZ0ZXI6NA"}"#,
    );
    assert_eq!(page.entries[0].integrated_time, "2026-01-01T00:00:00.000Z");
    assert_eq!(page.next_cursor.as_deref(), Some("YWZ0ZXI6NA"));
    let last: SearchPage = round_trips(r#"{"entries": []}"#);
    assert_eq!(last.next_cursor, None);
}

#[test]
fn a_checkpoint_page_round_trips_with_and_without_next_since() {
    let page: CheckpointPage = round_trips(
        r#"{"checkpoints": [{"size": 0, "createdAt": "2026-01-01T00:00:00.000Z",
            "checkpoint": "glassbox.localhost/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— glassbox.localhost/log AAAA\n"}],
            "nextSince": 1}"#,
    );
    assert_eq!(page.checkpoints[0].created_at, "2026-01-01T00:00:00.000Z");
    assert_eq!(page.next_since, Some(1));
    let last: CheckpointPage = round_trips(r#"{"checkpoints": []}"#);
    assert_eq!(last.next_since, None);
}

#[test]
fn proofs_round_trip() {
    let inclusion: InclusionProof = round_trips(
        r#"{"index": 3, "size": 6, "leafHash": "AAAA", "root": "BBBB", "hashes": ["CCCC"]}"#,
    );
    assert_eq!(inclusion.leaf_hash, "AAAA");
    let consistency: ConsistencyProof = round_trips(
        r#"{"from": 2, "to": 7, "fromRoot": "AAAA", "toRoot": "BBBB", "hashes": ["CCCC"]}"#,
    );
    assert_eq!((consistency.from, consistency.to), (2, 7));
}

#[test]
fn a_consistency_proof_missing_its_roots_is_refused() {
    assert!(
        serde_json::from_str::<ConsistencyProof>(r#"{"from": 1, "to": 2, "hashes": []}"#).is_err()
    );
}

#[test]
fn a_search_filter_sends_only_the_given_parameters_under_their_wire_names() {
    let filter = SearchFilter {
        dirhash: Some("sha256:ab".to_owned()),
        since: Some("2026-01-01T00:00:00Z".to_owned()),
        ..SearchFilter::default()
    };
    assert_eq!(
        filter.query_pairs(),
        [("dirhash", "sha256:ab"), ("since", "2026-01-01T00:00:00Z")]
    );
    let parsed: SearchFilter =
        round_trips(r#"{"dirhash": "sha256:ab", "since": "2026-01-01T00:00:00Z"}"#);
    assert_eq!(parsed, filter);
    assert_eq!(
        serde_json::to_value(SearchFilter::default()).unwrap(),
        serde_json::json!({})
    );
}

#[test]
fn the_search_filter_keys_are_its_wire_names_in_declaration_order() {
    let every = SearchFilter {
        artifact: Some("a".to_owned()),
        commit: Some("c".to_owned()),
        dirhash: Some("d".to_owned()),
        repository: Some("r".to_owned()),
        signer: Some("s".to_owned()),
        organisation: Some("o".to_owned()),
        kind: Some("k".to_owned()),
        since: Some("t0".to_owned()),
        until: Some("t1".to_owned()),
    };
    let sent: Vec<&str> = every.query_pairs().into_iter().map(|(k, _)| k).collect();
    assert_eq!(sent, SearchFilter::KEYS);
    let json = serde_json::to_value(&every).unwrap();
    let mut names: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = SearchFilter::KEYS.to_vec();
    names.sort_unstable();
    keys.sort_unstable();
    assert_eq!(names, keys);
}
