//! The reference deployment file loads, and every directive lands in the model
//! with its real meaning.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use proxy_acl::{AclRef, Polarity};
use proxy_config::*;

fn seed() -> Loaded {
    let text = include_str!("data/seed-haproxy.cfg");
    match parse_str("seed-haproxy.cfg", text, &|_| None) {
        Ok(l) => l,
        Err(e) => panic!("seed config refused:\n{e}"),
    }
}

#[test]
fn seed_loads_without_warnings() {
    let l = seed();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(l.config.proxies.len(), 4);
    assert_eq!(l.config.defaults.len(), 1);
}

#[test]
fn global_section() {
    let g = seed().config.global;
    assert_eq!(g.logs.len(), 1);
    let Log::Target(t) = &g.logs[0].value else {
        panic!("log global in global")
    };
    assert_eq!(t.address, LogAddress::Udp("127.0.0.1:514".parse().unwrap()));
    assert_eq!(t.facility.name(), "local2");
    assert_eq!(t.level, Some(Level(7)));
    assert_eq!(g.logs[0].span.line, 2);
    assert_eq!(g.logs[0].span.column, 5);
    assert_eq!(
        g.chroot.as_deref(),
        Some(&PathBuf::from("/var/lib/haproxy"))
    );
    assert_eq!(
        g.pidfile.as_deref(),
        Some(&PathBuf::from("/var/run/haproxy.pid"))
    );
    assert_eq!(g.maxconn.as_deref(), Some(&4000));
    assert_eq!(g.user.as_deref().map(String::as_str), Some("haproxy"));
    assert_eq!(g.group.as_deref().map(String::as_str), Some("haproxy"));
    assert!(g.daemon.is_some());
    assert_eq!(g.stats_sockets.len(), 1);
    assert_eq!(
        g.stats_sockets[0].address,
        BindAddress::Unix(PathBuf::from("/var/lib/haproxy/stats"))
    );
}

#[test]
fn defaults_are_inherited() {
    let c = seed().config;
    let d = &c.defaults[0];
    assert_eq!(d.effective_mode(), Mode::Http);
    assert_eq!(d.logs.len(), 1);
    assert_eq!(d.logs[0].value, Log::Global);
    assert_eq!(d.retries.as_deref(), Some(&3));
    assert_eq!(d.maxconn.as_deref(), Some(&3000));
    let t = |k| d.timeout(k);
    assert_eq!(t(TimeoutKind::HttpRequest), Some(Duration::from_secs(10)));
    assert_eq!(t(TimeoutKind::Queue), Some(Duration::from_secs(60)));
    assert_eq!(t(TimeoutKind::Connect), Some(Duration::from_secs(10)));
    assert_eq!(t(TimeoutKind::Client), Some(Duration::from_secs(60)));
    assert_eq!(t(TimeoutKind::Server), Some(Duration::from_secs(60)));
    assert_eq!(t(TimeoutKind::HttpKeepAlive), Some(Duration::from_secs(10)));
    assert_eq!(t(TimeoutKind::Check), Some(Duration::from_secs(10)));
    for o in [
        "httplog",
        "dontlognull",
        "http-server-close",
        "forwardfor",
        "redispatch",
        "abortonclose",
    ] {
        assert!(d.option_enabled(o), "{o}");
    }
    let Some(ProxyOption {
        kind: OptionKind::ForwardFor(f),
        negated: false,
    }) = d.option("forwardfor")
    else {
        panic!("forwardfor")
    };
    assert_eq!(
        f.except,
        Some(IpNet {
            addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
            prefix: 8
        })
    );

    // Backends get the backend-side timeouts and options, frontends the others.
    let web = c.frontend("web").unwrap();
    assert_eq!(
        web.timeout(TimeoutKind::Client),
        Some(Duration::from_secs(60))
    );
    assert_eq!(web.timeout(TimeoutKind::Server), None);
    assert!(web.option_enabled("httplog"));
    assert!(web.option_enabled("httpclose"));
    assert!(web.option_enabled("logasap"));
    assert_eq!(web.maxconn.as_deref(), Some(&3000));
    let st = c.backend("static_servers").unwrap();
    assert_eq!(
        st.timeout(TimeoutKind::Server),
        Some(Duration::from_secs(60))
    );
    assert_eq!(st.timeout(TimeoutKind::Client), None);
    assert_eq!(st.retries.as_deref(), Some(&3));
    assert!(!st.option_enabled("httplog"));
    assert_eq!(st.defaults, Some(0));
}

#[test]
fn stats_listener() {
    let c = seed().config;
    let s = c.proxies.iter().find(|p| p.name.value == "stats").unwrap();
    assert_eq!(s.kind, ProxyKind::Listen);
    assert_eq!(s.binds.len(), 1);
    assert_eq!(
        s.binds[0].addresses,
        [BindAddress::Inet {
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ports: 8080..=8080
        }]
    );
    let st: Vec<&Stats> = s.stats.iter().map(|x| &x.value).collect();
    assert_eq!(st[0], &Stats::Enable);
    assert_eq!(st[1], &Stats::HideVersion);
    assert_eq!(st[2], &Stats::Uri("/haproxy?stats".into()));
    assert_eq!(st[3], &Stats::Realm("no entrance".into()));
    assert_eq!(
        st[4],
        &Stats::Auth {
            user: "admin".into(),
            password: "admin".into()
        }
    );
    let Stats::Admin(cond) = st[5] else {
        panic!("stats admin")
    };
    assert_eq!(cond.polarity, Polarity::If);
    assert_eq!(cond.acl_names().collect::<Vec<_>>(), ["TRUE"]);
}

#[test]
fn frontend_web() {
    let c = seed().config;
    let web = c.frontend("web").unwrap();
    assert_eq!(web.kind, ProxyKind::Frontend);
    assert_eq!(
        web.binds[0].addresses,
        [BindAddress::Inet {
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ports: 80..=80
        }]
    );
    let caps: Vec<(&str, u32)> = web
        .captures
        .iter()
        .map(|c| (c.header.as_str(), c.len))
        .collect();
    assert_eq!(
        caps,
        [("Host", 20), ("X-Forwarded-For", 15), ("Referer", 60)]
    );
    assert!(web.captures.iter().all(|c| c.request));
    assert_eq!(web.acls.len(), 2);
    assert_eq!(web.acls[0].name, "url_static");
    assert_eq!(
        web.acls[0].expr.words(),
        ["path_beg", "-i", "/static", "/image", "/js"]
    );
    assert_eq!(web.acls[1].expr.words()[0], "path_end");
    assert_eq!(web.use_backends.len(), 1);
    let ub = &web.use_backends[0];
    assert_eq!(ub.backend, "static_servers");
    let cond = ub.condition.as_ref().unwrap();
    assert_eq!(cond.polarity, Polarity::If);
    assert_eq!(
        cond.alternatives[0][0].acl,
        AclRef::Named("url_static".into())
    );
    assert_eq!(
        web.default_backend.as_deref().map(String::as_str),
        Some("dynamic_servers")
    );
    assert_eq!(
        web.logs.iter().filter(|l| l.value == Log::Global).count(),
        2
    );
}

#[test]
fn backends_and_servers() {
    let c = seed().config;
    let st = c.backend("static_servers").unwrap();
    assert_eq!(st.balance, None);
    assert_eq!(st.servers.len(), 1);
    let s = &st.servers[0];
    assert_eq!(s.name, "web1");
    assert_eq!(
        s.address,
        ServerAddress {
            host: ServerHost::Ip("192.168.10.3".parse().unwrap()),
            port: ServerPort::Fixed(80)
        }
    );
    assert_eq!(s.options.check, Some(true));
    assert_eq!(s.options.maxconn, Some(5000));
    assert_eq!(s.span.line, 62);
    assert_eq!(s.span.column, 6);

    let dy = c.backend("dynamic_servers").unwrap();
    assert_eq!(
        dy.balance.as_deref(),
        Some(&Balance::new(Algorithm::Source))
    );
    let h = dy.hash_type.as_deref().unwrap();
    assert_eq!(h.method, HashMethod::Consistent);
    assert_eq!(h.function, HashFunction::Sdbm);
    // `hash-type consistent` alone implies avalanche in HAProxy 2.6.
    assert!(h.avalanche);
    let s = &dy.servers[0];
    assert_eq!(s.name, "web2");
    assert_eq!(s.options.maxconn, Some(500));
    let addr = SocketAddr::from(([192, 168, 10, 4], 80));
    assert_eq!(s.address.host, ServerHost::Ip(addr.ip()));
    assert!(dy.option_enabled("redispatch") && dy.option_enabled("abortonclose"));
}
