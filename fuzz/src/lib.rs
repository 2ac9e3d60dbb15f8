//! The checks the fuzz targets run; `core/tests/fuzz_seeds.rs` and nmframe-ffi's tests
//! replay the committed seeds through the same code on stable.

#[path = "../checks/core.rs"]
pub mod core;

pub use nmframe_ffi::fuzz_checks::api_calls;
