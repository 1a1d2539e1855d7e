//! Events: the schema table, typed views over event bytes and parameter decoding.

pub mod params;
#[rustfmt::skip]
pub mod print_table;
pub mod render;
pub mod schema;
#[rustfmt::skip]
pub mod table;
pub mod view;
