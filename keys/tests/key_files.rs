//! Key files: generation, round trips, permissions, and every way loading can fail.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::Signer;
use glassbox_keys::{
    generate_key_file, key_id_hex, load_signing_key, load_verifying_key, parse_verifying_key,
    public_key_path, public_key_pem, KeyError, KeyFormatError,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Git does not keep mode 0600, so private fixtures are copied and chmod'ed first.
fn private_fixture(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    let path = dir.path().join(name);
    fs::copy(fixture(name), &path).unwrap();
    set_mode(&path, 0o600);
    path
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

fn malformed_problem(err: KeyError) -> KeyFormatError {
    match err {
        KeyError::Malformed { problem, .. } => problem,
        other => panic!("expected a malformed-key error, got {other:?}"),
    }
}

#[test]
fn generated_key_round_trips_through_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("alice.pem");
    let generated = generate_key_file(&out).unwrap();

    assert_eq!(generated.private_path, out);
    assert_eq!(generated.public_path, dir.path().join("alice.pem.pub"));
    let loaded = load_signing_key(&out).unwrap();
    assert_eq!(loaded.to_bytes(), generated.signing_key.to_bytes());
    let public = load_verifying_key(&generated.public_path).unwrap();
    assert_eq!(public, generated.signing_key.verifying_key());
    assert_eq!(load_verifying_key(&out).unwrap(), public);
    assert_eq!(generated.key_id, key_id_hex(&public));
    assert_eq!(generated.key_id.len(), 64);

    let signature = loaded.sign(b"glassbox");
    public.verify_strict(b"glassbox", &signature).unwrap();
}

#[test]
fn generated_files_are_pkcs8_v1_and_spki_pem() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.pem");
    let generated = generate_key_file(&out).unwrap();
    let private = fs::read_to_string(&out).unwrap();
    let public = fs::read_to_string(&generated.public_path).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(private.ends_with("-----END PRIVATE KEY-----\n"));
    // PKCS#8 v1 of Ed25519 is 48 bytes of DER = one 64-character base64 line, the
    // same size OpenSSL writes.
    assert_eq!(
        private.len(),
        fs::read(fixture("openssl-ed25519.pem")).unwrap().len()
    );
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert_eq!(
        public,
        public_key_pem(&generated.signing_key.verifying_key())
    );
}

#[test]
fn two_generated_keys_differ() {
    let dir = tempfile::tempdir().unwrap();
    let a = generate_key_file(&dir.path().join("a.pem")).unwrap();
    let b = generate_key_file(&dir.path().join("b.pem")).unwrap();
    assert_ne!(a.key_id, b.key_id);
}

#[cfg(unix)]
#[test]
fn generated_private_key_has_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.pem");
    generate_key_file(&out).unwrap();
    let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn generate_refuses_to_overwrite_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.pem");
    fs::write(&out, "precious").unwrap();
    let err = generate_key_file(&out).unwrap_err();
    assert!(
        matches!(&err, KeyError::Exists { path } if path == &out),
        "{err:?}"
    );
    assert!(err.to_string().contains(&out.display().to_string()));
    assert_eq!(fs::read_to_string(&out).unwrap(), "precious");
    assert!(!public_key_path(&out).exists());
}

#[test]
fn generate_refuses_to_overwrite_public_key_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.pem");
    let public = public_key_path(&out);
    fs::write(&public, "precious").unwrap();
    let err = generate_key_file(&out).unwrap_err();
    assert!(
        matches!(&err, KeyError::Exists { path } if path == &public),
        "{err:?}"
    );
    assert!(!out.exists());
    assert_eq!(fs::read_to_string(&public).unwrap(), "precious");
}

#[test]
fn generate_into_missing_directory_is_a_write_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/k.pem");
    let err = generate_key_file(&out).unwrap_err();
    assert!(matches!(err, KeyError::Write { .. }), "{err:?}");
}

#[test]
fn openssl_generated_ed25519_key_loads() {
    let dir = tempfile::tempdir().unwrap();
    let private = private_fixture(&dir, "openssl-ed25519.pem");
    let key = load_signing_key(&private).unwrap();
    let public = load_verifying_key(&fixture("openssl-ed25519.pem.pub")).unwrap();
    assert_eq!(key.verifying_key(), public);
    // And what Glassbox writes for the public half is byte-identical to OpenSSL's.
    assert_eq!(
        public_key_pem(&public),
        fs::read_to_string(fixture("openssl-ed25519.pem.pub")).unwrap()
    );
}

#[test]
fn missing_key_file_is_reported_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.pem");
    let err = load_signing_key(&path).unwrap_err();
    assert!(
        matches!(&err, KeyError::Missing { path: p } if p == &path),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope.pem"));
    assert!(matches!(
        load_verifying_key(&path).unwrap_err(),
        KeyError::Missing { .. }
    ));
}

#[test]
fn directory_instead_of_key_file_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_signing_key(dir.path()).unwrap_err();
    assert!(matches!(err, KeyError::Unreadable { .. }), "{err:?}");
}

#[cfg(unix)]
#[test]
fn group_readable_private_key_is_refused_with_chmod_advice() {
    let dir = tempfile::tempdir().unwrap();
    let path = private_fixture(&dir, "openssl-ed25519.pem");
    for mode in [0o640, 0o604, 0o644, 0o660] {
        set_mode(&path, mode);
        let err = load_signing_key(&path).unwrap_err();
        assert!(
            matches!(&err, KeyError::InsecurePermissions { mode: m, .. } if *m == mode),
            "{mode:o}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("chmod 600 {}", path.display())),
            "{message}"
        );
        // Deriving the public key reads the private key too, so the same rule applies.
        assert!(matches!(
            load_verifying_key(&path).unwrap_err(),
            KeyError::InsecurePermissions { .. }
        ));
    }
    set_mode(&path, 0o400);
    load_signing_key(&path).unwrap();
}

#[test]
fn world_readable_public_key_file_is_fine() {
    // `.pub` files are public; only private keys are permission-checked.
    let key = load_verifying_key(&fixture("openssl-ed25519.pem.pub")).unwrap();
    assert_eq!(key.as_bytes().len(), 32);
}

#[test]
fn non_pem_file_is_reported_as_not_pem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.pem");
    fs::write(&path, "this is not a key\n").unwrap();
    set_mode(&path, 0o600);
    let err = load_signing_key(&path).unwrap_err();
    assert!(err.to_string().contains("k.pem"), "{err}");
    assert!(matches!(
        malformed_problem(err),
        KeyFormatError::NotPem { .. }
    ));
}

#[test]
fn corrupt_base64_in_pem_is_reported_as_not_pem() {
    let dir = tempfile::tempdir().unwrap();
    let path = private_fixture(&dir, "corrupt-base64.pem");
    let problem = malformed_problem(load_signing_key(&path).unwrap_err());
    assert!(
        matches!(problem, KeyFormatError::NotPem { .. }),
        "{problem:?}"
    );
}

#[test]
fn truncated_pem_is_reported_as_not_pem() {
    let dir = tempfile::tempdir().unwrap();
    let path = private_fixture(&dir, "truncated.pem");
    let problem = malformed_problem(load_signing_key(&path).unwrap_err());
    assert!(
        matches!(problem, KeyFormatError::NotPem { .. }),
        "{problem:?}"
    );
}

#[test]
fn rsa_private_key_is_refused_as_wrong_key_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = private_fixture(&dir, "rsa-pkcs8.pem");
    let err = load_signing_key(&path).unwrap_err();
    assert!(err.to_string().contains("RSA"), "{err}");
    assert_eq!(
        malformed_problem(err),
        KeyFormatError::WrongKeyType {
            found: "RSA".into()
        }
    );
}

#[test]
fn rsa_public_key_is_refused_as_wrong_key_type() {
    let problem = malformed_problem(load_verifying_key(&fixture("rsa-public.pem")).unwrap_err());
    assert_eq!(
        problem,
        KeyFormatError::WrongKeyType {
            found: "RSA".into()
        }
    );
}

#[test]
fn ec_private_keys_in_both_encodings_are_refused_as_wrong_key_type() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["ec-p256-pkcs8.pem", "ec-p256-traditional.pem"] {
        let path = private_fixture(&dir, name);
        let problem = malformed_problem(load_signing_key(&path).unwrap_err());
        assert_eq!(
            problem,
            KeyFormatError::WrongKeyType { found: "EC".into() },
            "{name}"
        );
    }
}

#[test]
fn x25519_key_is_refused_as_wrong_key_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = private_fixture(&dir, "x25519-pkcs8.pem");
    let problem = malformed_problem(load_signing_key(&path).unwrap_err());
    assert_eq!(
        problem,
        KeyFormatError::WrongKeyType {
            found: "X25519".into()
        }
    );
}

#[test]
fn encrypted_private_key_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let path = private_fixture(&dir, "ed25519-encrypted.pem");
    let err = load_signing_key(&path).unwrap_err();
    assert!(err.to_string().contains("openssl pkey"), "{err}");
    assert_eq!(malformed_problem(err), KeyFormatError::Encrypted);
}

#[test]
fn public_key_file_given_as_private_key_is_refused() {
    let err = load_signing_key(&fixture("openssl-ed25519.pem.pub")).unwrap_err();
    assert!(matches!(
        malformed_problem(err),
        KeyFormatError::WrongKind { .. }
    ));
}

#[test]
fn parse_verifying_key_accepts_pem_and_raw_base64() {
    let pem = fs::read_to_string(fixture("openssl-ed25519.pem.pub")).unwrap();
    let from_pem = parse_verifying_key(&pem).unwrap();
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        from_pem.as_bytes(),
    );
    assert_eq!(parse_verifying_key(&b64).unwrap(), from_pem);
    assert_eq!(
        parse_verifying_key(&format!("  {b64}\n")).unwrap(),
        from_pem
    );
}

#[test]
fn parse_verifying_key_refuses_wrong_length_and_private_pem() {
    for text in ["", "AAAA", "not base64 at all", &"A".repeat(44)] {
        let err = parse_verifying_key(text).unwrap_err();
        assert!(
            matches!(err, KeyError::MalformedText { .. }),
            "{text:?}: {err:?}"
        );
    }
    let private = fs::read_to_string(fixture("openssl-ed25519.pem")).unwrap();
    assert!(matches!(
        parse_verifying_key(&private).unwrap_err(),
        KeyError::MalformedText {
            problem: KeyFormatError::WrongKind { .. }
        }
    ));
    let rsa = fs::read_to_string(fixture("rsa-public.pem")).unwrap();
    assert!(matches!(
        parse_verifying_key(&rsa).unwrap_err(),
        KeyError::MalformedText {
            problem: KeyFormatError::WrongKeyType { .. }
        }
    ));
}

#[test]
fn public_key_path_appends_pub() {
    assert_eq!(
        public_key_path(Path::new("keys/op.pem")),
        PathBuf::from("keys/op.pem.pub")
    );
    assert_eq!(public_key_path(Path::new("op")), PathBuf::from("op.pub"));
}
