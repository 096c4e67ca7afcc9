//! The trust-policy file: a full valid policy, defaults, and one test per way a
//! policy can be wrong, each checking that the error names file, line and field.

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::policy::{KeySet, KeySetError, TrustPolicy};
use glassbox_keys::note_vkey;
use glassbox_keys::policy::{self, PolicyError, PolicyProblem, Position, TrustPolicyFile};

const ID_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ID_B: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn log_vkey() -> String {
    note_vkey(
        "glassbox.example/log",
        &SigningKey::from_bytes(&[1; 32]).verifying_key(),
    )
}

/// A tlog-cosignature/v1 verifier key (algorithm byte 0x04), built by hand.
fn witness_vkey(name: &str, seed: u8) -> String {
    let mut blob = vec![0x04];
    blob.extend_from_slice(
        SigningKey::from_bytes(&[seed; 32])
            .verifying_key()
            .as_bytes(),
    );
    let mut hashed = format!("{name}\n").into_bytes();
    hashed.extend_from_slice(&blob);
    let hash = &Sha256Digest::of(&hashed).0[..4];
    format!(
        "{name}+{}+{}",
        hex::encode(hash),
        base64::engine::general_purpose::STANDARD.encode(&blob)
    )
}

fn minimal() -> String {
    format!("[log]\nvkey = \"{}\"\n", log_vkey())
}

fn parse(text: &str) -> Result<TrustPolicy, PolicyError> {
    policy::parse(text, "policy.toml")
}

/// Parses `text`, expects an `Invalid` error, and checks where it points.
fn invalid(text: &str, field: &str, line: usize) -> PolicyProblem {
    let err = parse(text).expect_err("policy should be refused");
    let message = err.to_string();
    match err {
        PolicyError::Invalid {
            file,
            position,
            field: got_field,
            problem,
        } => {
            assert_eq!(file, "policy.toml");
            assert_eq!(got_field, field, "{message}");
            assert_eq!(position.map(|p| p.line), Some(line), "{message}");
            assert!(
                message.starts_with(&format!("policy.toml:{line}:")),
                "{message}"
            );
            assert!(message.contains(&format!(" {field}: ")), "{message}");
            problem
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn full_policy_parses_with_every_field() {
    let text = format!(
        r#"# comment
[log]
vkey = "{log}"

[witnesses]
vkeys = ["{w1}", "{w2}"]
quorum = 2

[reviewers]
keys = ["{a}", "{b_upper}"]
min = 2

[builders]
keys = ["*"]
min = 3

[operators]
keys = ["{b}"]
"#,
        log = log_vkey(),
        w1 = witness_vkey("witness.one", 2),
        w2 = witness_vkey("witness.two", 3),
        a = ID_A,
        b = ID_B,
        b_upper = ID_B.to_uppercase(),
    );
    let policy = parse(&text).unwrap();
    assert_eq!(policy.log.vkey, log_vkey());
    assert_eq!(policy.witnesses.vkeys.len(), 2);
    assert_eq!(policy.witnesses.quorum, 2);
    assert_eq!(
        policy.reviewers.keys,
        KeySet::from_entries([ID_A, ID_B]).unwrap()
    );
    assert!(policy.reviewers.keys.contains(ID_B));
    assert_eq!(policy.reviewers.min, 2);
    assert_eq!(policy.builders.keys, KeySet::Any);
    assert_eq!(policy.builders.min, 3);
    assert!(policy.operators.contains(ID_B));
    assert!(!policy.operators.contains(ID_A));
}

#[test]
fn log_table_alone_gets_design_defaults() {
    let policy = parse(&minimal()).unwrap();
    assert_eq!(policy, TrustPolicy::with_log(log_vkey()));
}

#[test]
fn omitted_keys_and_min_inside_present_tables_default() {
    let text = format!(
        "{}[reviewers]\n[builders]\nmin = 1\n[operators]\n",
        minimal()
    );
    let policy = parse(&text).unwrap();
    assert_eq!(policy.reviewers.keys, KeySet::Any);
    assert_eq!(policy.reviewers.min, 1);
    assert_eq!(policy.builders.min, 1);
    assert_eq!(policy.operators, KeySet::Any);
}

#[test]
fn load_reads_file_and_names_it_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.toml");
    std::fs::write(&path, minimal()).unwrap();
    assert_eq!(
        TrustPolicy::load(&path).unwrap(),
        TrustPolicy::with_log(log_vkey())
    );

    std::fs::write(&path, format!("{}[builders]\nmin = 0\n", minimal())).unwrap();
    let message = policy::load(&path).unwrap_err().to_string();
    assert_eq!(
        message,
        format!("{}:4:7: builders.min: must be at least 1", path.display())
    );
}

#[test]
fn missing_policy_file_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = policy::load(&dir.path().join("absent.toml")).unwrap_err();
    assert!(matches!(err, PolicyError::Read { .. }));
    assert!(err.to_string().contains("absent.toml"));
}

#[test]
fn missing_log_table_is_refused() {
    let err = parse("[builders]\nmin = 2\n").unwrap_err();
    assert!(matches!(err.problem(), Some(PolicyProblem::Missing { .. })));
    assert!(
        err.to_string().starts_with("policy.toml: log: missing"),
        "{err}"
    );
}

#[test]
fn empty_file_is_refused_for_missing_log() {
    assert!(matches!(
        parse("").unwrap_err().problem(),
        Some(PolicyProblem::Missing { .. })
    ));
}

#[test]
fn missing_log_vkey_points_at_log_table() {
    let problem = invalid("\n[log]\n", "log.vkey", 2);
    assert!(matches!(problem, PolicyProblem::Missing { .. }));
}

#[test]
fn unknown_top_level_table_is_refused() {
    let text = format!("{}\n[reviewer]\nmin = 1\n", minimal());
    let problem = invalid(&text, "reviewer", 4);
    assert!(matches!(problem, PolicyProblem::UnknownKey { .. }));
}

#[test]
fn unknown_key_inside_table_is_refused() {
    let text = format!("{}[witnesses]\nvkeys = []\nquorom = 0\n", minimal());
    let problem = invalid(&text, "witnesses.quorom", 5);
    assert!(matches!(problem, PolicyProblem::UnknownKey { .. }));
    let message = parse(&text).unwrap_err().to_string();
    assert!(
        message.contains("expected one of: vkeys, quorum"),
        "{message}"
    );
}

#[test]
fn unknown_key_in_log_table_is_refused() {
    let text = format!("{}url = \"https://log.example\"\n", minimal());
    invalid(&text, "log.url", 3);
}

#[test]
fn unknown_key_in_operators_table_is_refused() {
    let text = format!("{}[operators]\nmin = 1\n", minimal());
    invalid(&text, "operators.min", 4);
}

#[test]
fn top_level_key_that_is_not_a_table_is_refused() {
    let text = format!("builders = 2\n{}", minimal());
    let problem = invalid(&text, "builders", 1);
    assert!(matches!(
        problem,
        PolicyProblem::WrongType {
            expected: "a table",
            found: "integer"
        }
    ));
}

#[test]
fn bad_log_vkey_is_refused() {
    for bad in [
        "not a vkey",
        "glassbox.example/log+00000000+AVxRyORaoN9hX95EX4p3ZM8cOnh4Vp1suilXJweB0IDc",
        "name+1234+AAAA",
    ] {
        let problem = invalid(&format!("[log]\nvkey = \"{bad}\"\n"), "log.vkey", 2);
        assert!(
            matches!(problem, PolicyProblem::BadLogVkey { .. }),
            "{bad}: {problem:?}"
        );
    }
}

#[test]
fn log_vkey_with_wrong_hash_is_refused() {
    let good = log_vkey();
    let (name, rest) = good.split_once('+').unwrap();
    let (_, key) = rest.split_once('+').unwrap();
    let text = format!("[log]\nvkey = \"{name}+deadbeef+{key}\"\n");
    let problem = invalid(&text, "log.vkey", 2);
    assert!(matches!(problem, PolicyProblem::BadLogVkey { .. }));
}

#[test]
fn cosignature_key_as_log_vkey_is_refused() {
    let text = format!("[log]\nvkey = \"{}\"\n", witness_vkey("w", 2));
    assert!(matches!(
        invalid(&text, "log.vkey", 2),
        PolicyProblem::BadLogVkey { .. }
    ));
}

#[test]
fn log_vkey_that_is_not_a_string_is_refused() {
    let problem = invalid("[log]\nvkey = 1\n", "log.vkey", 2);
    assert!(matches!(problem, PolicyProblem::WrongType { .. }));
}

#[test]
fn note_key_as_witness_vkey_is_refused() {
    let text = format!(
        "{}[witnesses]\nvkeys = [\n  \"{}\",\n  \"{}\",\n]\n",
        minimal(),
        witness_vkey("w1", 2),
        log_vkey()
    );
    let problem = invalid(&text, "witnesses.vkeys[1]", 6);
    assert!(matches!(problem, PolicyProblem::BadWitnessVkey { .. }));
}

#[test]
fn duplicate_witness_vkey_is_refused() {
    let w = witness_vkey("w1", 2);
    let text = format!("{}[witnesses]\nvkeys = [\"{w}\", \"{w}\"]\n", minimal());
    assert_eq!(
        invalid(&text, "witnesses.vkeys[1]", 4),
        PolicyProblem::DuplicateWitness { name: "w1".into() }
    );
}

#[test]
fn same_witness_key_under_two_names_is_refused() {
    let text = format!(
        "{}[witnesses]\nvkeys = [\"{}\", \"{}\"]\n",
        minimal(),
        witness_vkey("w1", 2),
        witness_vkey("w2", 2)
    );
    assert!(matches!(
        invalid(&text, "witnesses.vkeys[1]", 4),
        PolicyProblem::DuplicateWitness { .. }
    ));
}

#[test]
fn same_witness_name_with_two_keys_is_refused() {
    let text = format!(
        "{}[witnesses]\nvkeys = [\"{}\", \"{}\"]\n",
        minimal(),
        witness_vkey("w1", 2),
        witness_vkey("w1", 3)
    );
    assert!(matches!(
        invalid(&text, "witnesses.vkeys[1]", 4),
        PolicyProblem::DuplicateWitness { .. }
    ));
}

#[test]
fn quorum_above_witness_count_is_refused() {
    let text = format!(
        "{}[witnesses]\nvkeys = [\"{}\"]\nquorum = 2\n",
        minimal(),
        witness_vkey("w1", 2)
    );
    assert_eq!(
        invalid(&text, "witnesses.quorum", 5),
        PolicyProblem::QuorumTooLarge {
            quorum: 2,
            witnesses: 1
        }
    );
}

#[test]
fn quorum_without_witnesses_is_refused() {
    let text = format!("{}[witnesses]\nquorum = 1\n", minimal());
    assert!(matches!(
        invalid(&text, "witnesses.quorum", 4),
        PolicyProblem::QuorumTooLarge { .. }
    ));
}

#[test]
fn negative_quorum_is_refused() {
    let text = format!("{}[witnesses]\nquorum = -1\n", minimal());
    assert!(matches!(
        invalid(&text, "witnesses.quorum", 4),
        PolicyProblem::OutOfRange { .. }
    ));
}

#[test]
fn wildcard_mixed_with_key_ids_is_refused() {
    let text = format!("{}[reviewers]\nkeys = [\"{ID_A}\", \"*\"]\n", minimal());
    assert_eq!(
        invalid(&text, "reviewers.keys[1]", 4),
        PolicyProblem::KeyList(KeySetError::WildcardMixed { index: 1 })
    );
}

#[test]
fn bad_hex_key_id_is_refused() {
    let bad = format!("{}z", &ID_A[..63]);
    let text = format!("{}[builders]\nkeys = [\"{ID_B}\", \"{bad}\"]\n", minimal());
    assert!(matches!(
        invalid(&text, "builders.keys[1]", 4),
        PolicyProblem::KeyList(KeySetError::BadKeyId { index: 1, .. })
    ));
}

#[test]
fn short_key_id_is_refused() {
    let text = format!("{}[operators]\nkeys = [\"{}\"]\n", minimal(), &ID_A[..16]);
    assert!(matches!(
        invalid(&text, "operators.keys[0]", 4),
        PolicyProblem::KeyList(KeySetError::BadKeyId { .. })
    ));
}

#[test]
fn duplicate_key_id_differing_in_case_is_refused() {
    let text = format!(
        "{}[reviewers]\nkeys = [\"{ID_B}\", \"{}\"]\n",
        minimal(),
        ID_B.to_uppercase()
    );
    assert!(matches!(
        invalid(&text, "reviewers.keys[1]", 4),
        PolicyProblem::KeyList(KeySetError::Duplicate { .. })
    ));
}

#[test]
fn empty_key_list_is_refused() {
    let text = format!("{}[reviewers]\nkeys = []\n", minimal());
    assert_eq!(
        invalid(&text, "reviewers.keys", 4),
        PolicyProblem::KeyList(KeySetError::Empty)
    );
}

#[test]
fn key_list_that_is_a_string_is_refused() {
    let text = format!("{}[reviewers]\nkeys = \"*\"\n", minimal());
    assert!(matches!(
        invalid(&text, "reviewers.keys", 4),
        PolicyProblem::WrongType {
            expected: "an array",
            ..
        }
    ));
}

#[test]
fn non_string_key_id_is_refused() {
    let text = format!("{}[builders]\nkeys = [1]\n", minimal());
    invalid(&text, "builders.keys[0]", 4);
}

#[test]
fn reviewers_min_zero_is_refused() {
    let text = format!("{}[reviewers]\nmin = 0\n", minimal());
    assert_eq!(
        invalid(&text, "reviewers.min", 4),
        PolicyProblem::MinTooSmall
    );
}

#[test]
fn builders_min_zero_is_refused() {
    let text = format!("{}\n[builders]\nkeys = [\"*\"]\nmin = 0\n", minimal());
    let err = parse(&text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy.toml:6:7: builders.min: must be at least 1"
    );
}

#[test]
fn min_as_string_is_refused() {
    let text = format!("{}[builders]\nmin = \"2\"\n", minimal());
    assert!(matches!(
        invalid(&text, "builders.min", 4),
        PolicyProblem::WrongType {
            expected: "an integer",
            found: "string"
        }
    ));
}

#[test]
fn min_above_listed_keys_is_refused() {
    let text = format!("{}[reviewers]\nkeys = [\"{ID_A}\"]\nmin = 2\n", minimal());
    assert_eq!(
        invalid(&text, "reviewers.min", 5),
        PolicyProblem::MinAboveListed { min: 2, listed: 1 }
    );
}

#[test]
fn default_builders_min_above_single_listed_key_points_at_keys() {
    let text = format!("{}[builders]\nkeys = [\"{ID_A}\"]\n", minimal());
    assert_eq!(
        invalid(&text, "builders.min", 4),
        PolicyProblem::MinAboveListed { min: 2, listed: 1 }
    );
}

#[test]
fn toml_syntax_error_names_line() {
    let err = parse("[log]\nvkey = \n").unwrap_err();
    match &err {
        PolicyError::Syntax { file, position, .. } => {
            assert_eq!(file, "policy.toml");
            assert_eq!(position.map(|p| p.line), Some(2));
        }
        other => panic!("expected Syntax, got {other:?}"),
    }
    assert!(err.to_string().starts_with("policy.toml:2:"), "{err}");
}

#[test]
fn duplicate_table_is_a_syntax_error() {
    let text = format!("{0}{0}", minimal());
    assert!(matches!(
        parse(&text).unwrap_err(),
        PolicyError::Syntax { .. }
    ));
}

#[test]
fn first_error_in_file_order_is_reported() {
    // Keys are stored sorted; the report must still follow the file.
    let text = format!("zzz = 1\n{}aaa = 2\n", minimal());
    invalid(&text, "zzz", 1);
}

#[test]
fn column_counts_characters_not_bytes() {
    let text = format!(
        "[log] # é\nvkey = \"{}\"\n[builders] # é\nmin = 0\n",
        log_vkey()
    );
    let err = parse(&text).unwrap_err();
    assert!(matches!(
        err,
        PolicyError::Invalid {
            position: Some(Position { line: 4, column: 7 }),
            ..
        }
    ));
}

#[test]
fn documented_example_policy_parses() {
    let doc = include_str!("../../docs/formats/keys-and-policy.md");
    let start = doc.find("```toml\n").expect("a toml block in the doc") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("end of the toml block");
    let policy = parse(&doc[start..end]).unwrap();
    assert_eq!(policy.witnesses.vkeys.len(), 2);
    assert_eq!(policy.witnesses.quorum, 1);
    assert_eq!(policy.reviewers.keys.listed_len(), Some(2));
    assert_eq!(policy.builders.min, 2);
    assert_eq!(policy.operators, KeySet::Any);
}

#[test]
fn log_vkey_with_uppercase_hash_is_stored_canonically() {
    let good = log_vkey();
    let mut parts = good.splitn(3, '+');
    let (name, hash, key) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let text = format!("[log]\nvkey = \"{name}+{}+{key}\"\n", hash.to_uppercase());
    assert_eq!(parse(&text).unwrap().log.vkey, good);
}

#[test]
fn independent_builders_default_to_one_once_two_builders_are_required() {
    let policy = parse(&minimal()).unwrap();
    assert_eq!(policy.builders.independent, 1);
    let one = parse(&format!("{}[builders]\nmin = 1\n", minimal())).unwrap();
    assert_eq!(one.builders.independent, 0);
    let explicit = parse(&format!(
        "{}[builders]\nmin = 3\nindependent = 2\n",
        minimal()
    ))
    .unwrap();
    assert_eq!(explicit.builders.independent, 2);
}

#[test]
fn more_independent_builders_than_min_is_refused() {
    let text = format!("{}[builders]\nmin = 2\nindependent = 3\n", minimal());
    assert!(matches!(
        invalid(&text, "builders.independent", 5),
        PolicyProblem::IndependentAboveMin {
            independent: 3,
            min: 2
        }
    ));
}

#[test]
fn review_paths_are_read_and_must_stay_inside_the_tree() {
    let policy = parse(&format!(
        "{}[reviewers]\npaths = [\"src/crypto\", \"Cargo.lock\"]\n",
        minimal()
    ))
    .unwrap();
    assert_eq!(policy.reviewers.paths, ["src/crypto", "Cargo.lock"]);
    assert!(parse(&minimal()).unwrap().reviewers.paths.is_empty());
    for (path, reason) in [
        ("/etc", "absolute"),
        ("src/../..", "contains .."),
        ("", "empty"),
    ] {
        let text = format!("{}[reviewers]\npaths = [\"{path}\"]\n", minimal());
        assert!(
            matches!(invalid(&text, "reviewers.paths[0]", 4), PolicyProblem::BadPath { reason: r, .. } if r == reason),
            "{path}"
        );
    }
    let twice = format!("{}[reviewers]\npaths = [\"src\", \"src\"]\n", minimal());
    assert!(matches!(
        invalid(&twice, "reviewers.paths[1]", 4),
        PolicyProblem::BadPath { .. }
    ));
}

#[test]
fn independent_is_unknown_for_reviewers_and_paths_for_builders() {
    invalid(
        &format!("{}[reviewers]\nindependent = 1\n", minimal()),
        "reviewers.independent",
        4,
    );
    invalid(
        &format!("{}[builders]\npaths = []\n", minimal()),
        "builders.paths",
        4,
    );
}

#[test]
fn max_age_is_a_whole_number_of_seconds_minutes_hours_or_days() {
    assert_eq!(parse(&minimal()).unwrap().log.max_age, None);
    for (text, secs) in [("90s", 90), ("15m", 900), ("36h", 129_600), ("7d", 604_800)] {
        let policy = parse(&format!("{}max_age = \"{text}\"\n", minimal())).unwrap();
        assert_eq!(policy.log.max_age, Some(secs), "{text}");
    }
}

#[test]
fn a_max_age_that_is_not_a_duration_is_refused() {
    for bad in [
        "0d",
        "7",
        "d",
        "7w",
        "-1d",
        "1.5d",
        " 7d",
        "99999999999999999999d",
    ] {
        let text = format!("{}max_age = \"{bad}\"\n", minimal());
        let problem = invalid(&text, "log.max_age", 3);
        assert!(
            matches!(&problem, PolicyProblem::BadDuration { value } if value == bad),
            "{bad}: {problem:?}"
        );
    }
    let text = format!("{}max_age = 7\n", minimal());
    assert!(matches!(
        invalid(&text, "log.max_age", 3),
        PolicyProblem::WrongType { .. }
    ));
}
