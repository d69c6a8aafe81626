//! Fuzzes the haproxy.cfg loader: any input must give a value or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(loaded) = proxy_config::parse_str("fuzz.cfg", &text, &|_| None) {
        // What loads must print and load again.
        let printed = proxy_config::print(&loaded.config);
        let _ = proxy_config::parse_str("printed.cfg", &printed, &|_| None);
    }
});
