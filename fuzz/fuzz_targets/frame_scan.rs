#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nmframe_fuzz::core::frame_scan(data));
