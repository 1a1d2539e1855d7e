//! Outputs: formatting of events and alerts for the sinks.

pub mod alert;
pub mod dump;
pub mod format;
