//! The checks the fuzz targets run live in `nmframe-test-support`, where `cargo test`
//! also replays the committed seeds through them on stable.

pub use nmframe_test_support::fuzz::chunked;
pub use nmframe_test_support::fuzz::core;
pub use nmframe_test_support::fuzz::ffi::api_calls;
