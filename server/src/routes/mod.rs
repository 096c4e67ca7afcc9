//! HTTP handlers, one file per resource (DESIGN §5, docs/api.md).

pub mod bundle;
pub mod checkpoints;
pub mod entries;
pub mod export;
pub mod health;
pub mod keys;
pub mod proofs;
pub mod search;
pub mod submit;
pub mod tiles;
