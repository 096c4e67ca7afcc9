//! `glassbox key generate` and `glassbox key id`.

mod common;

use std::fs;

use common::{fails_with, glassbox, ok};

/// An EC P-256 public key: well-formed PEM, wrong algorithm.
const P256_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEvna1dTMsT3Mqlxg9jLgJUWU8k3F
BA7arsfQZ2pW6hLaeN/Q1Hee7OgIrPhZCEDaqP8RX0AVzIdcbm7vojB7hg==
-----END PUBLIC KEY-----
";

fn is_key_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn generated_key_id_matches_key_id_of_both_files() {
    let tmp = tempfile::tempdir().unwrap();
    let printed = ok(glassbox(
        tmp.path(),
        &["key", "generate", "--out", "vendor.pem"],
    ));
    let key_id = printed.trim();
    assert!(is_key_id(key_id), "{printed:?}");
    assert_eq!(printed.lines().count(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(tmp.path().join("vendor.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let from_public = ok(glassbox(tmp.path(), &["key", "id", "vendor.pem.pub"]));
    let from_private = ok(glassbox(tmp.path(), &["key", "id", "vendor.pem"]));
    assert_eq!(from_public.trim(), key_id);
    assert_eq!(from_private.trim(), key_id);
}

#[test]
fn json_output_names_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(glassbox(
        tmp.path(),
        &["key", "generate", "--out", "k.pem", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(is_key_id(v["keyId"].as_str().unwrap()));
    assert_eq!(v["privateKey"], "k.pem");
    assert_eq!(v["publicKey"], "k.pem.pub");
    let id = ok(glassbox(tmp.path(), &["key", "id", "k.pem.pub", "--json"]));
    let w: serde_json::Value = serde_json::from_str(&id).unwrap();
    assert_eq!(w["keyId"], v["keyId"]);
}

#[test]
fn generate_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("k.pem"), b"precious").unwrap();
    fails_with(
        glassbox(tmp.path(), &["key", "generate", "--out", "k.pem"]),
        &["k.pem"],
    );
    assert_eq!(fs::read(tmp.path().join("k.pem")).unwrap(), b"precious");
}

#[test]
fn key_id_of_missing_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    fails_with(
        glassbox(tmp.path(), &["key", "id", "nope.pub"]),
        &["nope.pub", "does not exist"],
    );
}

#[test]
fn key_id_of_corrupt_pem_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("bad.pub"),
        "-----BEGIN PUBLIC KEY-----\n!!!!\n",
    )
    .unwrap();
    fails_with(
        glassbox(tmp.path(), &["key", "id", "bad.pub"]),
        &["bad.pub"],
    );
}

#[test]
fn key_id_of_non_ed25519_key_names_the_key_type() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("ec.pub"), P256_PUBLIC_PEM).unwrap();
    fails_with(
        glassbox(tmp.path(), &["key", "id", "ec.pub"]),
        &["ec.pub", "Ed25519"],
    );
}

/// `-o` and `--output` name the file, as for every other command that writes one;
/// `--out` still does.
#[test]
fn key_generate_takes_the_output_flag_every_command_takes() {
    let tmp = tempfile::tempdir().unwrap();
    for (flag, file) in [("-o", "a.pem"), ("--output", "b.pem"), ("--out", "c.pem")] {
        let printed = ok(glassbox(tmp.path(), &["key", "generate", flag, file]));
        assert!(is_key_id(printed.trim()), "{flag}: {printed:?}");
        assert!(tmp.path().join(format!("{file}.pub")).exists(), "{flag}");
    }
}
