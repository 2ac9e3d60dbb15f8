//! The checks the fuzz targets run, each with its oracle: [`core`] for the Rust API,
//! [`chunked`] for the chunked receiver (against a model), [`ffi`] for the C ABI. `cargo test` replays the committed seeds through the same
//! functions on stable.

pub mod chunked;
pub mod core;
pub mod ffi;
