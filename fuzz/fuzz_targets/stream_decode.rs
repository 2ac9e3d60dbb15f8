#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nmframe_fuzz::core::stream_decode(data));
