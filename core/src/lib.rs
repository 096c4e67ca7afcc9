//! Pure logic of the Glassbox source-code transparency log.
//!
//! This crate performs no I/O: it opens no files and no sockets, reads no clock and
//! starts no threads. Every function works on byte slices and values handed to it, so
//! the whole of it — Merkle proofs, tiles, signed notes, DSSE envelopes, attestation
//! statements, dirHash and the verification engine — can be exercised by tests on
//! in-memory data. Storage, networking and time live in `glassbox-server` and
//! `glassbox-cli`.

// Every public item is documented; the rest of the workspace's lints come from the
// root Cargo.toml's [workspace.lints], which a crate inherits whole.
#![warn(missing_docs)]

pub mod api;
pub mod bundle;
pub mod checkpoint;
pub mod cosignature;
pub mod csv;
pub mod digest;
pub mod dirhash;
pub mod dsse;
pub mod error_line;
pub mod export;
pub mod index;
pub mod jcs;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod registry;
pub mod repository;
pub mod statement;
pub mod tile;
pub mod tlog_proof;
pub mod verify;
