//! The `glassbox` client as a library: [`client`] is a blocking client for the log's
//! HTTP API (docs/api.md) with bounded reads and timeouts. The `glassbox` binary is
//! built on it, and so are the end-to-end tests; its answers are data to verify with
//! `glassbox_core`, never trusted as they come.

pub mod client;
