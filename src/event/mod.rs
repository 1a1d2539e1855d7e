//! Events: the schema table, typed views over event bytes and parameter decoding.

pub mod schema;
pub mod table;
