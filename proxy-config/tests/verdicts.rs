//! Verdicts captured from `haproxy -c` (tests/data/verdicts/capture.sh) replayed
//! against the loader, plus the exact diagnostics of the validation rules.

use std::path::PathBuf;

use proxy_config::*;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/verdicts")
        .join(name)
}

/// Configurations where the verdict differs from HAProxy's on purpose, and
/// why. Empty: every verdict agrees. (`bind fd@N` is not used here: whether an
/// inherited descriptor is a socket depends on the process that runs the
/// check, and the binary's corpus covers it.)
const DIVERGENCES: &[(&str, &str)] = &[];

#[test]
fn verdicts_match_haproxy() {
    let table = std::fs::read_to_string(data("verdicts.txt")).unwrap();
    let mut mismatches = Vec::new();
    let mut n = 0;
    for line in table.lines() {
        let (verdict, name) = line.split_once(' ').unwrap();
        let expected = DIVERGENCES
            .iter()
            .find(|(d, _)| *d == name)
            .map_or(verdict, |(_, v)| v);
        let got = match load(&[data(&format!("{name}.cfg"))]) {
            Ok(_) => "ok",
            Err(_) => "err",
        };
        n += 1;
        if got != expected {
            let detail = match load(&[data(&format!("{name}.cfg"))]) {
                Ok(l) => format!(
                    "{:?}",
                    l.warnings
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                ),
                Err(e) => e.to_string(),
            };
            mismatches.push(format!("{name}: haproxy {expected}, we {got}: {detail}"));
        }
    }
    assert!(n >= 50, "only {n} configs");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

const BASE: &str =
    "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

fn errors(text: &str) -> Vec<String> {
    match parse_str("t.cfg", &format!("{BASE}{text}"), &|_| None) {
        Ok(l) => panic!("accepted; warnings: {:?}", l.warnings),
        Err(e) => e.errors().map(ToString::to_string).collect(),
    }
}

fn warnings(text: &str) -> Vec<String> {
    match parse_str("t.cfg", &format!("{BASE}{text}"), &|_| None) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("refused: {e}"),
    }
}

#[test]
fn unknown_keyword_names_position_section_and_suggestion() {
    let e = errors("frontend web\n  bind :80\n  modee http\n");
    assert_eq!(
        e,
        [
            "t.cfg:8:3: in section 'frontend web': unknown keyword 'modee' in 'frontend' section; did you mean 'mode'?"
        ]
    );
    let e = errors("backend b\n  server s 127.0.0.1:80 chek\n");
    assert!(e[0].starts_with("t.cfg:7:25: "), "{e:?}");
    assert!(e[0].ends_with("did you mean 'check'?"), "{e:?}");
}

#[test]
fn all_errors_are_reported_not_only_the_first() {
    let e = errors(
        "frontend a\n  bind :80\n  modee http\n  retries x\n  timeout client 5x\nbackend b\n  balance nope\n",
    );
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(e[1].contains("unexpected character 'x'"), "{e:?}");
    assert!(e[2].contains("unknown algorithm 'nope'"), "{e:?}");
}

#[test]
fn backend_references_are_checked_after_all_sections() {
    // Forward references are fine.
    warnings("frontend a\n  bind :80\n  default_backend b\nbackend b\n");
    let e = errors("frontend a\n  bind :80\n  use_backend nob if TRUE\n  default_backend nob2\n");
    assert!(
        e[0].ends_with("unable to find required use_backend: 'nob'"),
        "{e:?}"
    );
    assert!(
        e[1].ends_with("unable to find required default_backend: 'nob2'"),
        "{e:?}"
    );
    // A frontend is not a backend, even with the same name as the referrer.
    let e = errors("frontend a\n  bind :80\n  default_backend a\n");
    assert_eq!(e.len(), 1);
    // Dynamic names are resolved per request.
    warnings("frontend a\n  bind :80\n  use_backend %[req.hdr(host)]\n");
}

#[test]
fn acls_must_be_declared_before_use() {
    let e = errors("frontend a\n  bind :80\n  use_backend b if foo\n  acl foo path /\nbackend b\n");
    assert_eq!(
        e,
        ["t.cfg:8:20: in section 'frontend a': no such ACL : 'foo'"]
    );
    warnings(
        "frontend a\n  bind :80\n  acl foo path /\n  use_backend b if foo || !LOCALHOST\nbackend b\n",
    );
    let e = errors("frontend a\n  bind :80\n  http-request deny if !bar\n");
    assert!(e[0].ends_with("no such ACL : 'bar'"), "{e:?}");
}

#[test]
fn duplicate_names_follow_capabilities() {
    warnings("frontend a\n  bind :80\n  default_backend a\nbackend a\n");
    let e = errors("backend a\nbackend a\n");
    assert_eq!(
        e,
        [
            "t.cfg:7:1: in section 'backend a': backend 'a' has the same name as backend 'a' declared at t.cfg:6:1"
        ]
    );
    let e = errors("listen a\n  bind :80\nfrontend a\n  bind :81\n");
    assert!(e[0].contains("as proxy 'a'"), "{e:?}");
}

#[test]
fn keywords_in_the_wrong_section() {
    let e = errors("frontend a\n  bind :80\n  server s 127.0.0.1:80\n");
    assert!(
        e[0].contains("'server' not allowed in frontend 'a'"),
        "{e:?}"
    );
    let w = warnings("backend a\n  default_backend b\nbackend b\n");
    assert!(
        w[0].contains("'default_backend' ignored because backend 'a' has no frontend capability"),
        "{w:?}"
    );
    let e = errors("bind :80\n");
    assert!(
        e[0].contains("'bind' not allowed in 'defaults' section"),
        "{e:?}"
    );
    let e = parse_str("t.cfg", "bind :80\nglobal\n  modee x\n", &|_| None).unwrap_err();
    let e: Vec<String> = e.errors().map(ToString::to_string).collect();
    assert_eq!(e[0], "t.cfg:1:1: unknown keyword 'bind' out of section");
    assert!(e[1].contains("'global' section"), "{e:?}");
}

#[test]
fn missing_arguments_and_bad_values() {
    assert!(errors("backend b\n  server s\n")[0].contains("'s' expects an address"));
    assert!(
        errors("frontend a\n  bind :80\n  capture request header Host\n")[0]
            .contains("expects 'len'")
    );
    assert!(errors("backend b\n  timeout server 25d\n")[0].contains("timer overflow"));
    assert!(errors("backend b\n  server s 192.168.1.300:80\n")[0].contains("invalid IP address"));
    assert!(errors("backend b\n  server s 10.0.0.1:99999\n")[0].contains("invalid port"));
    assert!(errors("frontend a\n  bind 127.0.0.1\n")[0].contains("missing port specification"));
    assert!(
        errors("backend b\n  server s 127.0.0.1:80 weight 300\n")[0].contains("between 0 and 256")
    );
    assert!(
        errors("frontend a from nope\n  bind :80\n")[0]
            .contains("defaults section 'nope' not found")
    );
}

#[test]
fn unimplemented_keywords_warn() {
    let w = warnings("frontend a\n  bind :80\n  description m\n  option contstats\n");
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains("warning: in section 'frontend a': 'description' is not implemented yet"),
        "{w:?}"
    );
    let w = warnings("peers p\n  peer a 127.0.0.1:1000\n");
    assert!(
        w[0].contains("'peers' sections are not supported yet"),
        "{w:?}"
    );
}

#[test]
fn environment_expands_in_double_quotes_only() {
    let env = |n: &str| (n == "PORT").then(|| "8443".to_string());
    let l = parse_str(
        "t.cfg",
        "frontend a\n  bind \":${PORT}\"\n  bind \":${NOPE-81}\"\n",
        &env,
    )
    .unwrap();
    let ports: Vec<_> = l.config.proxies[0]
        .binds
        .iter()
        .map(|b| match &b.addresses[0] {
            BindAddress::Inet { ports, .. } => *ports.start(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ports, [8443, 81]);
    assert!(parse_str("t.cfg", "frontend a\n  bind ':${PORT}'\n", &env).is_err());
}

#[test]
fn defaults_from_and_named_inheritance() {
    let text = "defaults base\n  mode http\n  timeout connect 2s\ndefaults\n  mode tcp\nbackend a from base\nbackend b\n";
    let c = parse_str("t.cfg", text, &|_| None).unwrap().config;
    assert_eq!(c.backend("a").unwrap().effective_mode(), Mode::Http);
    assert_eq!(
        c.backend("a").unwrap().timeout(TimeoutKind::Connect),
        Some(std::time::Duration::from_secs(2))
    );
    assert_eq!(c.backend("b").unwrap().effective_mode(), Mode::Tcp);
    assert_eq!(c.backend("b").unwrap().defaults, Some(1));
}

#[test]
fn directory_loads_cfg_files_in_lexical_order() {
    let dir = std::env::temp_dir().join(format!("proxy-config-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("b.cfg"), "backend b\n").unwrap();
    std::fs::write(
        dir.join("a.cfg"),
        "frontend a\n  bind :80\n  default_backend b\n",
    )
    .unwrap();
    std::fs::write(dir.join("c.txt"), "garbage\n").unwrap();
    let l = load(std::slice::from_ref(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    let names: Vec<_> = l
        .unwrap()
        .config
        .proxies
        .iter()
        .map(|p| p.name.value.clone())
        .collect();
    assert_eq!(names, ["a", "b"]);
    let e = load(&[PathBuf::from("/nonexistent/x.cfg")]).unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
}
