//! End-to-end harness: the real `glassbox-server`, `glassbox` and `glassbox-witness`
//! binaries, over loopback only, with every file in a temporary directory.
//!
//! - [`bins`] builds the binaries once per test process (with the same cargo, target
//!   directory and profile as the test itself) and says where they are;
//! - [`server`] starts a server on `127.0.0.1:0`, learns its address and log vkey
//!   from its startup lines, waits for `/healthz` with a deadline, kills it on drop;
//! - [`cli`] runs `glassbox` and captures exit status, stdout and stderr;
//! - [`repo`] makes git repositories with fixed identities and dates, holding a
//!   project whose build is byte-identical on every run;
//! - [`proxy`] stands in front of a real server and withholds or replaces answers;
//! - [`story`] plays the scenario of docs/design.md §1/§6 up to the customer's question: an
//!   operator, a reviewer, a vendor and an independent rebuilder;
//! - [`witness`] starts a witness the way [`server`] starts a log;
//! - [`release`] plays a release of several files attested in one envelope.

pub mod bins;
pub mod cli;
pub mod crash;
pub mod http;
pub mod load;
pub mod proxy;
pub mod release;
pub mod repo;
pub mod server;
pub mod story;
pub mod witness;
