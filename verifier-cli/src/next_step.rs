//! The one line `glassbox` prints for an error: every cause once, then what to do.
//!
//! The causes are joined by [`glassbox_core::error_line::causes`], each once.
//!
//! The next step is chosen by the first cause of a known kind: a policy, key or
//! state file, a server, a repository. Messages that already say what to do (a key
//! file readable by others, a missing sandbox) get nothing more.

use glassbox_cli::client::ClientError;
use glassbox_keys::policy::PolicyError;
use glassbox_keys::{KeyError, KeyFormatError};

use crate::git::GitError;
use crate::hash::HashError;
use crate::state::StateError;

/// `err`'s causes joined by `: `, each once and on one line, then `; ` and the next
/// step when one is known.
pub fn message(err: &anyhow::Error) -> String {
    let mut line = glassbox_core::error_line::causes(err.as_ref());
    if let Some(next) = next_step(err) {
        line.push_str("; ");
        line.push_str(next);
    }
    line
}

fn next_step(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<PolicyError>() {
            return Some(match e {
                PolicyError::Read { .. } => {
                    "give --policy the path of your trust policy file \
                     (docs/formats/keys-and-policy.md shows one)"
                }
                _ => {
                    "correct the policy where the message points; \
                     docs/formats/keys-and-policy.md describes every field"
                }
            });
        }
        if let Some(e) = cause.downcast_ref::<KeyError>() {
            return match e {
                KeyError::Missing { .. } | KeyError::Unreadable { .. } => Some(
                    "check the key file's path, or make a key pair with \
                     `glassbox key generate --out FILE`",
                ),
                KeyError::Malformed {
                    problem: KeyFormatError::Encrypted,
                    ..
                } => None,
                KeyError::Malformed { .. } | KeyError::MalformedText { .. } => Some(
                    "give the file `glassbox key generate --out FILE` wrote: FILE (the \
                     private key) to sign with --key, FILE.pub where a public key is asked for",
                ),
                _ => None,
            };
        }
        if let Some(e) = cause.downcast_ref::<ClientError>() {
            return match e {
                ClientError::Connect { .. } => {
                    Some("start the log server, or correct the --server URL")
                }
                ClientError::Timeout { .. } => {
                    Some("retry, or allow more time with --timeout SECS")
                }
                ClientError::BadUrl { .. } => {
                    Some("give --server as http://HOST:PORT or https://HOST")
                }
                ClientError::Status { status, .. } if *status >= 500 => Some(
                    "retry later; if it persists, tell the log's operator (the server logs the detail)",
                ),
                ClientError::Status { code, .. } if code == "unknown_key" => Some(
                    "sign with a registered key, or have the log's operator register this one \
                     (`glassbox attest key --register KEY.pub …`, submitted first); \
                     `glassbox key id KEY` prints its key ID to compare with the log's /keys page",
                ),
                ClientError::Status { code, .. } if code == "key_revoked" => Some(
                    "this key is revoked: sign with a registered key that is not \
                     (the log's /keys page lists them)",
                ),
                ClientError::Status { code, .. } if code == "role_not_allowed" => Some(
                    "sign with a key registered for the role this statement needs \
                     (docs/api.md lists which roles may sign which kinds)",
                ),
                _ => None,
            };
        }
        if let Some(e) = cause.downcast_ref::<GitError>() {
            return match e {
                GitError::Revision { .. } => Some(
                    "give --rev a commit ID, tag or branch of that repository \
                     (`git log --oneline` and `git tag` there list them)",
                ),
                GitError::Open { .. } => Some(
                    "give --repo the path of a git repository (a working tree or a bare repository)",
                ),
                _ => None,
            };
        }
        if cause.downcast_ref::<HashError>().is_some() {
            return Some("check the path, and that you may read the file");
        }
        if let Some(StateError::Io { .. }) = cause.downcast_ref::<StateError>() {
            return Some("give --state a directory you may write to, or fix that one's permissions");
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A type from elsewhere whose message repeats its cause.
    #[derive(Debug)]
    struct Repeats(std::io::Error);
    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot open x: {}", self.0)
        }
    }
    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_the_message_already_names_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = anyhow::Error::new(Repeats(io)).context("loading");
        assert_eq!(message(&err), "loading: cannot open x: gone");
    }

    #[test]
    fn a_missing_policy_names_the_cause_once_and_the_flag_to_fix() {
        let err = anyhow::Error::new(
            glassbox_keys::policy::load(std::path::Path::new("/nonexistent/nope.toml"))
                .unwrap_err(),
        );
        let text = message(&err);
        assert_eq!(
            text.matches("No such file or directory").count(),
            1,
            "{text}"
        );
        assert!(text.contains("; give --policy"), "{text}");
    }
}
