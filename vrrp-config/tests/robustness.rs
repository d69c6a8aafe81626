//! Any text gives a value or an error, never a panic (the fuzz target's
//! property, exercised here on every test run).

use proptest::prelude::*;
use vrrp_config::{InterfaceState, NoIncludes, config_test, parse_with_loader};

/// Words, numbers, addresses and every character the grammar treats specially.
const NOISE: &str = r##"([a-z_]{1,12}|[0-9./:]{1,10}|[{}"#!\n \t]|\r\n){0,80}"##;

const SEED: &str = include_str!("data/keepalived-mutual-manager.conf");

fn check(text: &str) {
    let result = parse_with_loader("p.conf", text, &NoIncludes);
    if let Ok(l) = &result {
        let _ = l.config.to_string();
        let _ = l.config.check_interfaces(|n| n == "eth1");
    }
    let _ = config_test(result, |_| InterfaceState::Usable);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn keepalived_shaped_noise(text in NOISE) {
        check(&text);
    }

    #[test]
    fn edited_seed(edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..3, "[{}\"#!\na-z0-9 ./]{0,4}"), 1..6)) {
        let mut text = SEED.to_string();
        for (at, kind, piece) in edits {
            let mut pos = at.index(text.len() + 1);
            while !text.is_char_boundary(pos) {
                pos -= 1;
            }
            match kind {
                0 => text.insert_str(pos, &piece),
                1 => {
                    let mut end = (pos + piece.len()).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(pos..end, "");
                }
                _ => {
                    let mut end = (pos + piece.len()).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(pos..end, &piece);
                }
            }
        }
        check(&text);
    }
}
