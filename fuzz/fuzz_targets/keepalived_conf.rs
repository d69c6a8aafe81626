//! Fuzzes the keepalived.conf loader: any input must give a value or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let result = vrrp_config::parse_with_loader("fuzz.conf", &text, &vrrp_config::NoIncludes);
    if let Ok(loaded) = &result {
        // Rendering and the interface check walk the whole model.
        let _ = loaded.config.to_string();
        let _ = loaded.config.check_interfaces(|name| name == "eth0");
    }
    let _ = vrrp_config::config_test(result, |_| vrrp_config::InterfaceState::Usable);
});
