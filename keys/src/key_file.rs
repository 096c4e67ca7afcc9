//! Participant key files on disk: generation, loading and the permission rules.
//!
//! A private key is a PKCS#8 PEM file readable only by its owner; its public half
//! sits next to it as `<file>.pub` (SubjectPublicKeyInfo PEM). Key files are never
//! overwritten: losing a key that was registered in the log cannot be undone, so
//! replacing one must be a deliberate act outside this tool.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use glassbox_core::digest::key_id_hex;

use crate::error::KeyError;
use crate::error::KeyFormatError;
use crate::key_pem::{decode_pem, private_key_pem, public_key_pem, DecodedKey};

/// Key files are tiny; anything larger is not a key and is not read into memory.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// A freshly generated key and where it was written.
#[derive(Debug)]
#[non_exhaustive]
pub struct GeneratedKey {
    pub signing_key: SigningKey,
    /// Lowercase hex SHA-256 of the public key (docs/design.md §2).
    pub key_id: String,
    pub private_path: PathBuf,
    pub public_path: PathBuf,
}

/// The path of the public key file that accompanies the private key at `private`:
/// the same name with `.pub` appended (`op.pem` → `op.pem.pub`).
pub fn public_key_path(private: &Path) -> PathBuf {
    let mut name = OsString::from(private.as_os_str());
    name.push(".pub");
    PathBuf::from(name)
}

/// Generates an Ed25519 key from 32 bytes of operating-system randomness and writes
/// it to `out` (PKCS#8 PEM, mode 0600) and `<out>.pub` (public key PEM).
///
/// Neither file may exist beforehand. The private file is created with `create_new`
/// and its final mode in one step, so the key is never briefly readable by others and
/// a concurrent writer cannot be clobbered. If the `.pub` file cannot be written the
/// new private key file is removed again, so a retry starts clean.
pub fn generate_key_file(out: &Path) -> Result<GeneratedKey, KeyError> {
    let public_path = public_key_path(out);
    for path in [out, public_path.as_path()] {
        if path.symlink_metadata().is_ok() {
            return Err(KeyError::Exists {
                path: path.to_path_buf(),
            });
        }
    }

    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::Randomness {
        reason: e.to_string(),
    })?;
    let signing_key = SigningKey::from_bytes(&seed);
    seed.fill(0);

    let private_pem = private_key_pem(&signing_key);
    write_new_file(out, private_pem.as_bytes(), 0o600)?;
    if let Err(err) = write_new_file(
        &public_path,
        public_key_pem(&signing_key.verifying_key()).as_bytes(),
        0o644,
    ) {
        // Best effort: the private key was just created by us and never shown to anyone.
        let _ = std::fs::remove_file(out);
        return Err(err);
    }

    Ok(GeneratedKey {
        key_id: key_id_hex(&signing_key.verifying_key()),
        signing_key,
        private_path: out.to_path_buf(),
        public_path,
    })
}

/// Loads a private key from a PKCS#8 PEM file.
///
/// Refuses a file that group or others may read (unix), the way OpenSSH does: such a
/// key must be assumed copied, and silently using it would hide the problem.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let (file, data) = read_key_file(path)?;
    match decode_pem(&data).map_err(|problem| malformed(path, problem))? {
        DecodedKey::Private(key) => {
            check_private_permissions(path, &file)?;
            Ok(key)
        }
        DecodedKey::Public(_) => Err(malformed(
            path,
            KeyFormatError::WrongKind {
                found: "a public key".to_string(),
                expected: "a private key",
            },
        )),
    }
}

/// Loads a public key from a `.pub` PEM file, or derives it from a private key PEM
/// (which must then pass the same permission check as [`load_signing_key`]).
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let (file, data) = read_key_file(path)?;
    match decode_pem(&data).map_err(|problem| malformed(path, problem))? {
        DecodedKey::Public(key) => Ok(key),
        DecodedKey::Private(key) => {
            check_private_permissions(path, &file)?;
            Ok(key.verifying_key())
        }
    }
}

fn malformed(path: &Path, problem: KeyFormatError) -> KeyError {
    KeyError::Malformed {
        path: path.to_path_buf(),
        problem,
    }
}

/// Opens and reads a key file, keeping the handle so that permissions are checked
/// on the very file that was read (no race with a rename in between).
fn read_key_file(path: &Path) -> Result<(File, Vec<u8>), KeyError> {
    let unreadable = |source| KeyError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => KeyError::Missing {
            path: path.to_path_buf(),
        },
        _ => unreadable(source),
    })?;
    let mut data = Vec::new();
    (&file)
        .take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(unreadable)?;
    if data.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(malformed(
            path,
            KeyFormatError::NotPem {
                reason: format!("larger than {MAX_KEY_FILE_BYTES} bytes, so not a key file"),
            },
        ));
    }
    Ok((file, data))
}

#[cfg(unix)]
fn check_private_permissions(path: &Path, file: &File) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|source| KeyError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Windows has no mode bits; access is governed by ACLs, which this tool leaves to
/// the operating system's defaults for the user's profile.
#[cfg(not(unix))]
fn check_private_permissions(_path: &Path, _file: &File) -> Result<(), KeyError> {
    Ok(())
}

fn write_new_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    // A key that is acknowledged must survive a crash (it may be registered next):
    // its bytes, and the directory entry that names it (fsync(2): syncing a file
    // does not sync the directory holding it).
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| sync_parent_dir(path));
    if let Err(source) = written {
        // Do not leave a truncated key behind that a later run would refuse to replace.
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(KeyError::Write {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

/// Flush the directory holding `path`, so that a file created there survives a
/// crash under its name.
#[cfg(unix)]
pub(crate) fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Windows cannot open a directory as a file; NTFS journals the directory entry
/// with the file's metadata.
#[cfg(not(unix))]
pub(crate) fn sync_parent_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_of_a_bare_file_name_is_the_working_directory() {
        // `glassbox key generate --out key.pem` names no directory: "." is synced.
        sync_parent_dir(Path::new("key.pem")).unwrap();
    }

    #[test]
    fn the_directory_of_a_new_key_is_synced_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        sync_parent_dir(&dir.path().join("key.pem")).unwrap();
        #[cfg(unix)]
        assert!(sync_parent_dir(&dir.path().join("gone").join("key.pem")).is_err());
    }
}
