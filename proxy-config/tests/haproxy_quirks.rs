//! HAProxy 2.6's own rules that a line-by-line reading would miss, each pinned
//! with the exact diagnostic the loader gives. The verdicts come from the real
//! `haproxy -c` (see bin-haproxyd/tests/corpus for the captured ones).

use std::time::Duration;

use proxy_config::*;

const TIMEOUTS: &str =
    "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

fn load(text: &str) -> Result<Loaded, Errors> {
    parse_str("t.cfg", text, &|_| None)
}

fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("accepted; warnings: {:?}", l.warnings),
        Err(e) => e.errors().map(ToString::to_string).collect(),
    }
}

fn warnings(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("refused: {e}"),
    }
}

fn backend(extra: &str) -> String {
    format!("{TIMEOUTS}backend b\n{extra}\n")
}

#[test]
fn a_last_line_without_lf_is_refused() {
    let e = errors(&format!("{TIMEOUTS}backend b\n#EOF"));
    assert_eq!(
        e,
        ["t.cfg:7:5: Missing LF on last line, file might have been truncated at position 5"]
    );
    // An empty file has no last line.
    assert!(load("").is_ok());
}

#[test]
fn some_options_cannot_be_negated() {
    let e = errors(&format!(
        "{TIMEOUTS}frontend f\n  bind :80\n  no option httplog\n  no option forwardfor\n"
    ));
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("t.cfg:8:13: ")
            && e[0].ends_with("negation/default is not supported for option 'httplog'"),
        "{e:?}"
    );
    assert!(
        warnings(&format!(
            "{TIMEOUTS}frontend f\n  bind :80\n  no option dontlognull\n  no option httpclose\n"
        ))
        .is_empty()
    );
    let e = errors(&format!(
        "{TIMEOUTS}frontend f\n  bind :80\n  option forceclose\n"
    ));
    assert!(e[0].contains("removed option"), "{e:?}");
}

#[test]
fn atol_numbers_are_accepted_with_the_value_used() {
    let l = load(&backend("  retries three\n  server s 127.0.0.1:80 maxconn")).unwrap();
    let b = l.config.backend("b").unwrap();
    assert_eq!(b.retries.as_deref(), Some(&0));
    assert_eq!(b.servers[0].options.maxconn, Some(0));
    let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("t.cfg:7:11: warning: "), "{w:?}");
    assert!(
        w[0].contains("'three'") && w[0].ends_with("the value used is 0"),
        "{w:?}"
    );
    assert!(w[1].starts_with("t.cfg:8:25: warning: "), "{w:?}");
    assert!(w[1].contains("missing"), "{w:?}");

    let l = load(&backend(
        "  server s 127.0.0.1:80 weight 5x maxqueue x rise 3y",
    ))
    .unwrap();
    let o = &l.config.backend("b").unwrap().servers[0].options;
    assert_eq!((o.weight, o.maxqueue, o.rise), (Some(5), Some(0), Some(3)));
    assert_eq!(l.warnings.len(), 3, "{:?}", l.warnings);

    // Plain numbers say nothing.
    assert!(warnings(&backend("  retries 3\n  server s 127.0.0.1:80 maxconn 10")).is_empty());
}

#[test]
fn atol_numbers_keep_haproxys_range_checks() {
    let e = errors(&backend("  server s 127.0.0.1:80 weight -1"));
    assert!(e[0].contains("between 0 and 256 (-1)"), "{e:?}");
    let e = errors(&backend("  server s 127.0.0.1:80 rise x"));
    assert!(e[0].contains("'rise' has to be > 0"), "{e:?}");
    let e = errors(&backend("  server s 127.0.0.1:80 fall"));
    assert!(e[0].contains("'fall' expects"), "{e:?}");
    let e = errors(&backend("  retries"));
    assert!(e[0].contains("'retries' expects"), "{e:?}");
}

#[test]
fn characters_after_a_time_unit_are_ignored_with_a_warning() {
    let l = load(&backend("  timeout queue 5sec\n  timeout check 2min")).unwrap();
    let b = l.config.backend("b").unwrap();
    assert_eq!(b.timeout(TimeoutKind::Queue), Some(Duration::from_secs(5)));
    assert_eq!(
        b.timeout(TimeoutKind::Check),
        Some(Duration::from_secs(120))
    );
    let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("t.cfg:7:17: warning: "), "{w:?}");
    assert!(w[0].contains("from 'e' on in '5sec'"), "{w:?}");
    assert!(w[0].ends_with("the value used is 5s"), "{w:?}");
    assert!(w[1].ends_with("the value used is 120s"), "{w:?}");
    for bad in ["5u", "5S", "5."] {
        let e = errors(&backend(&format!("  timeout queue {bad}")));
        assert!(e[0].contains("unexpected character"), "{e:?}");
    }
    assert_eq!(parse_duration("5sec"), Ok(Duration::from_secs(5)));
}

#[test]
fn userlist_passwords_may_be_missing() {
    let text = format!(
        "userlist L\n  user a password\n  user b insecure-password\n  user c\n  user c insecure-password x\n  group g users\n{TIMEOUTS}"
    );
    let l = load(&text).unwrap();
    let u = &l.config.userlists[0];
    let pw: Vec<_> = u.users.iter().map(|u| u.password.clone()).collect();
    assert_eq!(
        pw,
        [
            Some(Password::Hashed(String::new())),
            Some(Password::Insecure(String::new())),
            None
        ]
    );
    let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(w[0].starts_with("t.cfg:2:10: warning: "), "{w:?}");
    assert!(w[0].contains("no password matches"), "{w:?}");
    assert!(w[1].contains("the empty password"), "{w:?}");
    assert!(w[2].contains("can never authenticate"), "{w:?}");
    assert!(w[3].contains("ignoring duplicated user 'c'"), "{w:?}");
}

#[test]
fn setenv_and_friends_feed_later_expansions() {
    let env = |n: &str| match n {
        "KEEP" => Some("1001".to_string()),
        "GONE" => Some("1002".to_string()),
        _ => None,
    };
    let text = format!(
        "global\n  setenv P 90\n  presetenv P 91\n  presetenv Q 92\n  unsetenv GONE\n{TIMEOUTS}\
         frontend f\n  bind \":${{P}}\"\n  bind \":${{Q}}\"\n  bind \":${{GONE-93}}\"\n  bind \":${{KEEP}}\"\n\
         global\n  resetenv Q\nfrontend g\n  bind \":${{KEEP-94}}\"\n  bind \":${{Q}}\"\n"
    );
    let l = parse_str("t.cfg", &text, &env).unwrap();
    let ports = |name: &str| -> Vec<u16> {
        l.config
            .frontend(name)
            .unwrap()
            .binds
            .iter()
            .map(|b| match &b.addresses[0] {
                BindAddress::Inet { ports, .. } => *ports.start(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(ports("f"), [90, 92, 93, 1001]);
    assert_eq!(ports("g"), [94, 92]);
    assert_eq!(l.config.global.environment.len(), 5);
    let e = errors("global\n  setenv P\n  unsetenv\n");
    assert_eq!(e.len(), 2, "{e:?}");
}

#[test]
fn setenv_reaches_the_files_that_follow() {
    let dir = std::env::temp_dir().join(format!("proxy-config-setenv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.cfg"), "global\n  setenv HAPD_TEST_PORT 8181\n").unwrap();
    std::fs::write(
        dir.join("b.cfg"),
        format!("{TIMEOUTS}frontend f\n  bind \"127.0.0.1:${{HAPD_TEST_PORT}}\"\n"),
    )
    .unwrap();
    let l = proxy_config::load(std::slice::from_ref(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    let l = l.unwrap();
    match &l.config.frontend("f").unwrap().binds[0].addresses[0] {
        BindAddress::Inet { ports, .. } => assert_eq!(*ports.start(), 8181),
        other => panic!("{other:?}"),
    }
}

#[test]
fn checks_need_a_port() {
    let e = errors(&backend("  server s 127.0.0.1 check"));
    assert_eq!(
        e,
        [
            "t.cfg:7:3: in section 'backend b': backend 'b': server 's' has neither service port nor check port"
        ]
    );
    let e = errors(&backend("  default-server check\n  server s 127.0.0.1:0"));
    assert_eq!(e.len(), 1, "{e:?}");
    for ok in [
        "  server s 127.0.0.1 check port 81",
        "  server s 127.0.0.1",
        "  server s 127.0.0.1 check no-check",
        "  server s unix@/tmp/s.sock check",
        "  server s 127.0.0.1:80 check",
    ] {
        assert!(load(&backend(ok)).is_ok(), "{ok}");
    }
}

#[test]
fn missing_timeouts_warn_like_haproxy() {
    let w = warnings(
        "defaults\n  mode http\nfrontend f\n  bind :80\n  default_backend b\nbackend b\n  server s 127.0.0.1:80\nbackend empty\n",
    );
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with(
            "t.cfg:3:1: warning: in section 'frontend f': missing timeouts for frontend 'f'."
        ),
        "{w:?}"
    );
    assert!(w[1].contains("missing timeouts for backend 'b'"), "{w:?}");
    // TCP backends may use a tunnel timeout instead of a server one.
    assert!(
        warnings(
            "defaults\n  mode tcp\n  timeout connect 1s\n  timeout tunnel 1s\nbackend b\n  server s 127.0.0.1:80\n"
        )
        .is_empty()
    );
    let w = warnings("defaults\n  mode http\nlisten l\n  bind :80\n  timeout client 0\n");
    assert!(w[0].contains("missing timeouts for proxy 'l'"), "{w:?}");
}

#[test]
fn a_log_format_without_log_target_warns() {
    let fe = "frontend f\n  bind :80\n  option httplog\n";
    let w = warnings(&format!("{TIMEOUTS}{fe}"));
    assert_eq!(
        w,
        [
            "t.cfg:6:1: warning: in section 'frontend f': log format ignored for frontend 'f' since it has no log address."
        ]
    );
    let w = warnings(&format!("{TIMEOUTS}{fe}  log global\n"));
    assert_eq!(w.len(), 1, "log global without a global log: {w:?}");
    assert!(
        warnings(&format!(
            "global\n  log 127.0.0.1 local0\n{TIMEOUTS}{fe}  log global\n"
        ))
        .is_empty()
    );
    assert!(warnings(&format!("{TIMEOUTS}  log 127.0.0.1 local0\n{fe}")).is_empty());
}

#[test]
fn server_names_resolve_through_the_given_resolver() {
    let text = backend("  server s app.internal:80");
    let known = |h: &str| h == "app.internal";
    assert!(resolve_server_names(load(&text), &known).is_ok());
    let e = resolve_server_names(load(&text), &|_| false).unwrap_err();
    let e: Vec<String> = e.errors().map(ToString::to_string).collect();
    assert!(
        e[0].ends_with("'server b/s' : could not resolve address 'app.internal'"),
        "{e:?}"
    );
}

#[test]
fn userlist_members_must_exist_in_either_order() {
    let ok = format!(
        "userlist L\n  group g users a\n  user a insecure-password x groups h\n  group h\n{TIMEOUTS}"
    );
    assert!(load(&ok).is_ok());
    let bad = format!(
        "userlist L\n  group g users a,ghost\n  user a insecure-password x groups nog\n{TIMEOUTS}"
    );
    assert_eq!(
        errors(&bad),
        [
            "t.cfg:2:3: in section 'userlist L': userlist 'L': no such user 'ghost' specified in group 'g'",
            "t.cfg:3:3: in section 'userlist L': userlist 'L': no such group 'nog' specified in user 'a'"
        ]
    );
}

#[test]
fn hash_type_consistent_alone_means_avalanche() {
    let h = |line: &str| {
        let l = load(&backend(line)).unwrap();
        l.config
            .backend("b")
            .unwrap()
            .hash_type
            .as_deref()
            .copied()
            .unwrap()
    };
    let alone = h("  hash-type consistent");
    assert_eq!(
        (alone.method, alone.function, alone.avalanche),
        (HashMethod::Consistent, HashFunction::Sdbm, true)
    );
    assert!(!h("  hash-type consistent sdbm").avalanche);
    assert!(h("  hash-type map-based djb2 avalanche").avalanche);
    assert!(!h("  hash-type map-based").avalanche);
    let printed = print(&load(&backend("  hash-type consistent")).unwrap().config);
    assert!(
        printed.contains("hash-type consistent sdbm avalanche"),
        "{printed}"
    );
}

#[test]
fn uid_and_gid_are_numbers_and_the_first_of_user_or_uid_wins() {
    let l = load(&format!("global\n  uid 1000\n  gid -1\n{TIMEOUTS}")).unwrap();
    let ids = |g: &Global| {
        (
            g.uid.as_ref().map(|u| u.value),
            g.gid.as_ref().map(|u| u.value),
        )
    };
    // A negative id wraps as C's uid_t / gid_t.
    assert_eq!(ids(&l.config.global), (Some(1000), Some(u32::MAX)));
    // Not a number: HAProxy warns and sets nothing.
    let w = warnings(&format!("global\n  uid abc\n{TIMEOUTS}"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("t.cfg:2:7: ") && w[0].contains("not a number"));
    // A second user or uid line is ignored with a warning.
    let text = format!("global\n  user root\n  uid 5\n  gid 6\n  group root\n{TIMEOUTS}");
    let l = load(&text).unwrap();
    assert_eq!(ids(&l.config.global), (None, Some(6)));
    assert_eq!(
        l.config.global.user.map(|u| u.value).as_deref(),
        Some("root")
    );
    let w = warnings(&text);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("user/uid already specified"));
    assert!(w[1].contains("group/gid already specified"));
}

#[test]
fn retry_on_keywords_are_checked_and_inherited() {
    let text =
        format!("{TIMEOUTS}  retry-on conn-failure 503\nbackend a\nbackend b\n  retry-on none\n");
    let l = load(&text).unwrap();
    let words = |name: &str| {
        l.config
            .backend(name)
            .and_then(|p| p.retry_on.as_ref())
            .map(|r| r.value.join(" "))
    };
    assert_eq!(words("a").as_deref(), Some("conn-failure 503"));
    assert_eq!(words("b").as_deref(), Some("none"));
    for (line, message) in [
        ("retry-on 429", "unknown keyword '429'"),
        ("retry-on none 503", "'none' keyword only usable alone"),
        ("retry-on", "needs at least one keyword"),
    ] {
        let e = errors(&backend(&format!("  {line}")));
        assert!(e.iter().any(|e| e.contains(message)), "{line}: {e:?}");
    }
    let e = errors(&format!(
        "{TIMEOUTS}frontend f\n  bind :80\n  retry-on conn-failure\n"
    ));
    assert!(
        e[0].contains("only available in backend or listen section"),
        "{e:?}"
    );
}
