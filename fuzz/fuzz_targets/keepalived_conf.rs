//! Fuzzes the keepalived.conf loader: any input must give a value or an
//! error, never a panic; what loads renders as canonical text that loads
//! again and renders the same (the renderer's round-trip promise).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let result = vrrp_config::parse_with_loader("fuzz.conf", &text, &vrrp_config::NoIncludes);
    if let Ok(loaded) = &result {
        let rendered = loaded.config.to_string();
        let again =
            vrrp_config::parse_with_loader("rendered.conf", &rendered, &vrrp_config::NoIncludes);
        match again {
            Ok(again) => assert_eq!(again.config.to_string(), rendered),
            Err(e) => panic!("rendered text does not load: {e:?}\n{rendered}"),
        }
        let _ = loaded.config.check_interfaces(|name| name == "eth0");
    }
    let _ = vrrp_config::config_test(result, |_| vrrp_config::InterfaceState::Usable);
});
