//! saker: a host runtime-security agent.
//!
//! The library holds everything but the command line: the kernel ABI, ring
//! reading, the event schema and parsing, capture files, state, filters and
//! rules, and outputs. `src/main.rs` is the command line.

#![warn(missing_docs)]

pub mod abi;
pub mod capture;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod event;
pub mod filter;
pub mod metrics;
pub mod output;
pub mod ring;
pub mod rules;
pub mod state;
pub mod sys;
pub mod webserver;
