//! DSSE v1 envelopes: known answers from the DSSE specification and its test vectors,
//! the canonical leaf, and every mutation the strict parser must refuse.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use glassbox_core::dsse::{
    key_id_hex, pae, DsseError, DsseSignature, Envelope, MAX_ENVELOPE_BYTES, MAX_SIGNATURES,
};
use glassbox_core::jcs;
use serde_json::{json, Value};

const IN_TOTO: &str = "application/vnd.in-toto+json";

fn key(seed_hex: &str) -> SigningKey {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(seed_hex, &mut seed).unwrap();
    SigningKey::from_bytes(&seed)
}

/// Keys "A" and "B" of the DSSE repository's `testvectors/vectors.json` (the RFC 8032
/// §7.1 test keys 1 and 2).
fn key_a() -> SigningKey {
    key("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
}
fn key_b() -> SigningKey {
    key("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
}

fn signed() -> Envelope {
    Envelope::sign(IN_TOTO, br#"{"_type":"x"}"#, &[&key_a(), &key_b()]).unwrap()
}

fn json_of(env: &Envelope) -> Value {
    env.to_value()
}

fn parse_value(v: &Value) -> Result<Envelope, DsseError> {
    Envelope::from_json(&serde_json::to_vec(v).unwrap())
}

// ---- known answers ----------------------------------------------------------------

#[test]
fn pae_matches_protocol_md_example() {
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}

#[test]
fn pae_counts_bytes_not_characters() {
    // DSSE testvectors "non-ascii-payload-type": 28 characters, 29 bytes.
    let got = pae("application/vnd.exämple+json", b"");
    assert_eq!(got, "DSSEv1 29 application/vnd.exämple+json 0 ".as_bytes());
}

#[test]
fn pae_of_empty_payload_ends_with_space() {
    assert_eq!(
        hex::encode(pae(IN_TOTO, b"")),
        "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203020"
    );
}

#[test]
fn signature_matches_dsse_single_signature_vector() {
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let env = Envelope::sign(IN_TOTO, payload, &[&key_a()]).unwrap();
    assert_eq!(
        STANDARD.encode(&env.signatures[0].sig),
        "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="
    );
    assert_eq!(
        env.signatures[0].keyid,
        key_id_hex(&key_a().verifying_key())
    );
    env.verify_signature(0, &key_a().verifying_key()).unwrap();
}

#[test]
fn signature_matches_dsse_empty_payload_vector() {
    let env = Envelope::sign(IN_TOTO, b"", &[&key_a()]).unwrap();
    assert_eq!(
        STANDARD.encode(&env.signatures[0].sig),
        "gSggCAaTLTYyRH6FIDBem6meyIynsYy8RTHVzwx9tnTb7Bg/1jMWnuVgI/gffqmbsC2VX5/jHfkkDqsj7CDbDg=="
    );
}

#[test]
fn canonical_leaf_known_answer() {
    let env = Envelope {
        payload: b"hello world".to_vec(),
        payload_type: "http://example.com/HelloWorld".to_owned(),
        signatures: vec![DsseSignature {
            keyid: "ab".repeat(32),
            sig: vec![0u8; 64],
        }],
    };
    let want = format!(
        r#"{{"payload":"aGVsbG8gd29ybGQ=","payloadType":"http://example.com/HelloWorld","signatures":[{{"keyid":"{}","sig":"{}"}}]}}"#,
        "ab".repeat(32),
        STANDARD.encode([0u8; 64])
    );
    assert_eq!(String::from_utf8(env.to_canonical_json()).unwrap(), want);
}

// ---- round trip and canonical leaf --------------------------------------------------

#[test]
fn sign_then_verify_every_signature() {
    let env = signed();
    assert_eq!(env.signatures.len(), 2);
    env.verify_signature(0, &key_a().verifying_key()).unwrap();
    env.verify_signature(1, &key_b().verifying_key()).unwrap();
}

#[test]
fn canonical_json_round_trips() {
    let env = signed();
    let leaf = env.to_canonical_json();
    let back = Envelope::from_json(&leaf).unwrap();
    assert_eq!(back, env);
    assert_eq!(back.to_canonical_json(), leaf);
}

#[test]
fn canonical_json_equals_jcs_of_the_envelope_object() {
    let mut env = signed();
    env.payload_type = "application/x-\u{1}\"quoted\"\\é".to_owned();
    assert_eq!(
        env.to_canonical_json(),
        jcs::canonicalize(&env.to_value()).unwrap()
    );
}

#[test]
fn reformatted_envelope_gives_identical_leaf() {
    let env = signed();
    let s = &env.signatures;
    let pretty = format!(
        "{{\n  \"signatures\" : [ {{ \"sig\": \"{}\", \"keyid\": \"{}\" }},\n {{\"sig\":\"{}\",\"keyid\":\"{}\"}} ],\n  \"payloadType\": \"application\\/vnd.in-toto+json\",\n  \"payload\": \"{}\"\n}}\n",
        STANDARD.encode(&s[0].sig),
        s[0].keyid,
        STANDARD.encode(&s[1].sig),
        s[1].keyid,
        STANDARD.encode(&env.payload),
    );
    let reparsed = Envelope::from_json(pretty.as_bytes()).unwrap();
    assert_eq!(reparsed.to_canonical_json(), env.to_canonical_json());
}

#[test]
fn signature_order_is_part_of_the_leaf() {
    let ab = signed();
    let ba = Envelope::sign(IN_TOTO, &ab.payload, &[&key_b(), &key_a()]).unwrap();
    assert_ne!(ab.to_canonical_json(), ba.to_canonical_json());
}

#[test]
fn payload_bytes_are_kept_exactly() {
    // Not valid UTF-8, not JSON: still carried byte for byte.
    let payload = [0xff, 0x00, b'{', b' ', 0x80];
    let env = Envelope::sign(IN_TOTO, &payload, &[&key_a()]).unwrap();
    let back = Envelope::from_json(&env.to_canonical_json()).unwrap();
    assert_eq!(back.payload, payload);
    back.verify_signature(0, &key_a().verifying_key()).unwrap();
}

#[test]
fn from_value_accepts_a_receipt_entry() {
    let env = signed();
    let entry: Value = serde_json::from_slice(&env.to_canonical_json()).unwrap();
    assert_eq!(Envelope::from_value(&entry).unwrap(), env);
}

// ---- verification failures ----------------------------------------------------------

#[test]
fn tampered_payload_fails_verification() {
    let mut env = signed();
    env.payload.push(b' ');
    assert!(matches!(
        env.verify_signature(0, &key_a().verifying_key()),
        Err(DsseError::BadSignature { index: 0, .. })
    ));
}

#[test]
fn wrong_payload_type_fails_verification() {
    let mut env = signed();
    env.payload_type = "application/vnd.example.other+json".to_owned();
    assert!(matches!(
        env.verify_signature(0, &key_a().verifying_key()),
        Err(DsseError::BadSignature { .. })
    ));
}

#[test]
fn flipped_sig_bit_fails_verification() {
    for bit in [0usize, 255, 511] {
        let mut env = signed();
        env.signatures[1].sig[bit / 8] ^= 1 << (bit % 8);
        assert!(
            matches!(
                env.verify_signature(1, &key_b().verifying_key()),
                Err(DsseError::BadSignature { index: 1, .. })
            ),
            "bit {bit}"
        );
        // The other signature is unaffected.
        env.verify_signature(0, &key_a().verifying_key()).unwrap();
    }
}

#[test]
fn wrong_key_is_a_keyid_mismatch() {
    let env = signed();
    assert!(matches!(
        env.verify_signature(0, &key_b().verifying_key()),
        Err(DsseError::KeyIdMismatch { index: 0, .. })
    ));
}

#[test]
fn signature_copied_under_another_keyid_fails() {
    let mut env = signed();
    env.signatures[1].sig = env.signatures[0].sig.clone();
    assert!(matches!(
        env.verify_signature(1, &key_b().verifying_key()),
        Err(DsseError::BadSignature { .. })
    ));
}

#[test]
fn signature_index_out_of_range() {
    assert_eq!(
        signed().verify_signature(2, &key_a().verifying_key()),
        Err(DsseError::NoSuchSignature { index: 2, count: 2 })
    );
}

// ---- signing refusals ---------------------------------------------------------------

#[test]
fn sign_without_keys_is_refused() {
    assert_eq!(
        Envelope::sign(IN_TOTO, b"x", &[]),
        Err(DsseError::NoSigningKeys)
    );
}

#[test]
fn sign_with_same_key_twice_is_refused() {
    assert!(matches!(
        Envelope::sign(IN_TOTO, b"x", &[&key_a(), &key_a()]),
        Err(DsseError::DuplicateKeyId { index: 1, .. })
    ));
}

#[test]
fn sign_with_empty_payload_type_is_refused() {
    assert!(matches!(
        Envelope::sign("", b"x", &[&key_a()]),
        Err(DsseError::BadPayloadType { .. })
    ));
}

// ---- strict parsing -----------------------------------------------------------------

fn expect_json_error(v: &Value, want_path: &str, want_fragment: &str) {
    match parse_value(v) {
        Err(DsseError::Json { path, message }) => {
            assert_eq!(path, want_path, "{message}");
            assert!(message.contains(want_fragment), "{message}");
        }
        other => panic!("expected a JSON error at {want_path}, got {other:?}"),
    }
}

#[test]
fn unknown_top_level_field_is_rejected() {
    let mut v = json_of(&signed());
    v["extra"] = json!(1);
    expect_json_error(&v, "extra", "unknown field `extra`");
}

#[test]
fn unknown_signature_field_is_rejected() {
    let mut v = json_of(&signed());
    v["signatures"][1]["cert"] = json!("x");
    expect_json_error(&v, "signatures[1].cert", "unknown field `cert`");
}

#[test]
fn missing_keyid_is_rejected() {
    let mut v = json_of(&signed());
    v["signatures"][0].as_object_mut().unwrap().remove("keyid");
    expect_json_error(&v, "signatures[0]", "missing field `keyid`");
}

#[test]
fn missing_payload_is_rejected() {
    let mut v = json_of(&signed());
    v.as_object_mut().unwrap().remove("payload");
    expect_json_error(&v, "envelope", "missing field `payload`");
}

#[test]
fn wrong_type_for_payload_type_is_rejected() {
    let mut v = json_of(&signed());
    v["payloadType"] = json!(5);
    expect_json_error(&v, "payloadType", "invalid type");
}

#[test]
fn duplicate_member_is_rejected() {
    let env = signed();
    let text = String::from_utf8(env.to_canonical_json()).unwrap();
    let doubled = text.replacen("{\"payload\":", "{\"payload\":\"\",\"payload\":", 1);
    assert!(matches!(
        Envelope::from_json(doubled.as_bytes()),
        Err(DsseError::Json { .. })
    ));
}

#[test]
fn trailing_garbage_is_rejected() {
    let mut bytes = signed().to_canonical_json();
    bytes.extend_from_slice(b" {}");
    assert!(matches!(
        Envelope::from_json(&bytes),
        Err(DsseError::Json { .. })
    ));
}

#[test]
fn not_an_object_is_rejected() {
    assert!(matches!(
        Envelope::from_json(b"[]"),
        Err(DsseError::Json { .. })
    ));
    assert!(matches!(
        Envelope::from_json(b""),
        Err(DsseError::Json { .. })
    ));
}

#[test]
fn duplicate_keyid_is_rejected() {
    let mut v = json_of(&signed());
    v["signatures"][1]["keyid"] = v["signatures"][0]["keyid"].clone();
    assert!(matches!(
        parse_value(&v),
        Err(DsseError::DuplicateKeyId { index: 1, .. })
    ));
}

#[test]
fn uppercase_keyid_is_rejected() {
    let mut v = json_of(&signed());
    let upper = v["signatures"][0]["keyid"].as_str().unwrap().to_uppercase();
    v["signatures"][0]["keyid"] = json!(upper);
    assert!(matches!(
        parse_value(&v),
        Err(DsseError::BadKeyId { index: 0, .. })
    ));
}

#[test]
fn short_keyid_is_rejected() {
    let mut v = json_of(&signed());
    v["signatures"][0]["keyid"] = json!("A");
    assert!(matches!(
        parse_value(&v),
        Err(DsseError::BadKeyId { index: 0, .. })
    ));
}

#[test]
fn bad_base64_payload_is_rejected() {
    let mut v = json_of(&signed());
    v["payload"] = json!("not base64!");
    assert!(matches!(
        parse_value(&v),
        Err(DsseError::Base64 { path, .. }) if path == "payload"
    ));
}

#[test]
fn unpadded_base64_is_rejected() {
    let mut v = json_of(&signed());
    // "eyJfdHlwZSI6IngifQ==" without its padding.
    let padded = v["payload"].as_str().unwrap().to_owned();
    assert!(padded.ends_with('='));
    v["payload"] = json!(padded.trim_end_matches('='));
    assert!(matches!(parse_value(&v), Err(DsseError::Base64 { .. })));
}

#[test]
fn url_safe_base64_sig_is_rejected() {
    let env = signed();
    // Find a signature whose URL-safe spelling differs from the standard one.
    let mut v = json_of(&env);
    let mut changed = false;
    for (i, s) in env.signatures.iter().enumerate() {
        let url = URL_SAFE.encode(&s.sig);
        if url != STANDARD.encode(&s.sig) {
            v["signatures"][i]["sig"] = json!(url);
            changed = true;
            break;
        }
    }
    assert!(changed, "both signatures happen to be alphabet-neutral");
    assert!(
        matches!(parse_value(&v), Err(DsseError::Base64 { path, .. }) if path.ends_with(".sig"))
    );
}

#[test]
fn truncated_sig_is_rejected() {
    let mut v = json_of(&signed());
    v["signatures"][0]["sig"] = json!(STANDARD.encode([1u8; 63]));
    assert_eq!(
        parse_value(&v),
        Err(DsseError::BadSignatureLength { index: 0, len: 63 })
    );
}

#[test]
fn empty_signatures_are_rejected() {
    let mut v = json_of(&signed());
    v["signatures"] = json!([]);
    assert_eq!(parse_value(&v), Err(DsseError::NoSignatures));
}

#[test]
fn too_many_signatures_are_rejected() {
    let mut v = json_of(&signed());
    let sigs: Vec<Value> = (0..=MAX_SIGNATURES)
        .map(|i| json!({"keyid": format!("{i:064x}"), "sig": STANDARD.encode([0u8; 64])}))
        .collect();
    v["signatures"] = json!(sigs);
    assert!(matches!(
        parse_value(&v),
        Err(DsseError::TooManySignatures { .. })
    ));
}

#[test]
fn empty_payload_type_is_rejected() {
    let mut v = json_of(&signed());
    v["payloadType"] = json!("");
    assert!(matches!(
        parse_value(&v),
        Err(DsseError::BadPayloadType { .. })
    ));
}

#[test]
fn control_character_in_payload_type_is_rejected() {
    let mut v = json_of(&signed());
    v["payloadType"] = json!("application/json\n");
    assert!(matches!(
        parse_value(&v),
        Err(DsseError::BadPayloadType { .. })
    ));
}

#[test]
fn oversized_envelope_is_rejected_before_parsing() {
    let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        Envelope::from_json(&big),
        Err(DsseError::TooLarge { .. })
    ));
}

#[test]
fn errors_name_the_field() {
    let mut v = json_of(&signed());
    v["signatures"][0]["sig"] = json!("@@@@");
    let err = parse_value(&v).unwrap_err().to_string();
    assert!(err.starts_with("signatures[0].sig: "), "{err}");
}
