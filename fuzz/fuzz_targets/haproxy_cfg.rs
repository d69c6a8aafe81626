//! Fuzzes the haproxy.cfg loader: any input must give a value or an error,
//! never a panic; what loads prints as canonical text that loads again and
//! prints the same (the printer's round-trip promise).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(loaded) = proxy_config::parse_str("fuzz.cfg", &text, &|_| None) {
        let printed = proxy_config::print(&loaded.config);
        let again = match proxy_config::parse_str("printed.cfg", &printed, &|_| None) {
            Ok(again) => again,
            Err(e) => panic!("printed text does not load: {e:?}\n{printed}"),
        };
        assert_eq!(proxy_config::print(&again.config), printed);
    }
});
