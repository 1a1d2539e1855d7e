//! Outputs: formatting of events and alerts for the sinks.

pub mod alert;
pub mod dump;
pub mod file;
pub mod format;
pub mod http;
pub mod program;
pub mod queue;
pub mod sink;
pub mod stdout;
pub mod syslog;
#[cfg(test)]
mod testutil;
