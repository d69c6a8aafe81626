//! Generated model -> canonical text -> load gives the same model (positions aside).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use proptest::prelude::*;
use proxy_acl::{AclExpr, Condition};
use proxy_config::*;

fn sp<T>(v: T) -> Spanned<T> {
    Spanned::new(v, Span::default())
}

fn text() -> impl Strategy<Value = String> {
    // Everything the lexer treats specially: blanks, quotes, comments, escapes, `$`.
    "[a-zA-Z0-9 #'\"\\\\${}]{1,12}"
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s))),
    ]
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..100_000).prop_map(Duration::from_millis),
        (1u64..10_000).prop_map(Duration::from_micros),
        (1u64..24).prop_map(|h| Duration::from_secs(h * 3600)),
    ]
}

fn timeouts(frontend: bool, backend: bool) -> impl Strategy<Value = Vec<(TimeoutKind, Duration)>> {
    let kinds: Vec<TimeoutKind> = TimeoutKind::ALL
        .iter()
        .map(|(_, k)| *k)
        .filter(|k| {
            if k.is_frontend_side() {
                frontend
            } else {
                backend
            }
        })
        .collect();
    proptest::collection::vec((proptest::sample::select(kinds), duration()), 0..4)
}

fn log() -> impl Strategy<Value = Log> {
    prop_oneof![
        Just(Log::Global),
        (
            ip(),
            1u16..,
            0u8..24,
            proptest::option::of(0u8..8),
            proptest::option::of(64u32..4096)
        )
            .prop_map(|(ip, port, f, level, len)| Log::Target(LogTarget {
                address: LogAddress::Udp(SocketAddr::new(ip, port)),
                len,
                format: None,
                facility: Facility(f),
                level: level.map(Level),
                min_level: None,
            })),
    ]
}

fn server_options() -> impl Strategy<Value = ServerOptions> {
    (
        proptest::option::of(any::<bool>()),
        proptest::option::of(duration()),
        proptest::option::of(0u32..=256),
        proptest::option::of(1u32..10_000),
        proptest::option::of(any::<bool>()),
        proptest::option::of(1u32..10),
    )
        .prop_map(
            |(check, inter, weight, maxconn, backup, rise)| ServerOptions {
                check,
                inter,
                weight,
                maxconn,
                backup,
                rise,
                ..ServerOptions::default()
            },
        )
}

fn balance() -> impl Strategy<Value = Balance> {
    let algorithm = prop_oneof![
        Just(Algorithm::RoundRobin),
        Just(Algorithm::LeastConn),
        Just(Algorithm::Source),
        (proptest::option::of(1u32..100), any::<bool>()).prop_map(|(len, whole)| {
            Algorithm::Uri(UriOptions {
                len,
                depth: None,
                whole,
                path_only: false,
            })
        }),
        "[A-Za-z-]{1,10}".prop_map(|name| Algorithm::Hdr {
            name,
            use_domain_only: false
        }),
        (1u32..10).prop_map(|draws| Algorithm::Random { draws }),
        "[a-z]{1,8}".prop_map(|name| Algorithm::RdpCookie { name }),
    ];
    prop_oneof![
        algorithm.prop_map(Balance::new),
        ("[a-z]{1,8}", any::<bool>()).prop_map(|(name, check_post)| Balance {
            algorithm: Algorithm::UrlParam { name },
            check_post,
        }),
    ]
}

/// Timeouts, `mode http` with `option httplog`, log lines.
type DefaultsSpec = (Vec<(TimeoutKind, Duration)>, bool, Vec<Log>);

#[derive(Debug, Clone)]
struct BackendSpec {
    timeouts: Vec<(TimeoutKind, Duration)>,
    balance: Option<Balance>,
    hash: Option<(HashMethod, Option<HashFunction>, bool)>,
    default_server: ServerOptions,
    servers: Vec<(IpAddr, u16, ServerOptions)>,
    redispatch: Option<Option<i32>>,
}

#[derive(Debug, Clone)]
struct FrontendSpec {
    binds: Vec<(IpAddr, u16, u16, bool)>,
    acls: usize,
    header: Option<(String, String)>,
    realm: Option<String>,
    except: Option<(IpAddr, u8)>,
    timeouts: Vec<(TimeoutKind, Duration)>,
    logs: Vec<Log>,
}

fn backend_spec() -> impl Strategy<Value = BackendSpec> {
    (
        timeouts(false, true),
        proptest::option::of(balance()),
        proptest::option::of((
            proptest::sample::select(vec![HashMethod::MapBased, HashMethod::Consistent]),
            proptest::option::of(proptest::sample::select(vec![
                HashFunction::Sdbm,
                HashFunction::Crc32,
            ])),
            any::<bool>(),
        )),
        server_options(),
        proptest::collection::vec((ip(), 1u16.., server_options()), 0..5),
        proptest::option::of(proptest::option::of(-5i32..5)),
    )
        .prop_map(
            |(timeouts, balance, hash, default_server, servers, redispatch)| BackendSpec {
                timeouts,
                balance,
                hash,
                default_server,
                servers,
                redispatch,
            },
        )
}

fn frontend_spec() -> impl Strategy<Value = FrontendSpec> {
    (
        proptest::collection::vec((ip(), 1u16..60_000, 0u16..3, any::<bool>()), 1..3),
        0usize..3,
        proptest::option::of(("X-[A-Za-z]{1,8}", text())),
        proptest::option::of(text()),
        proptest::option::of((
            any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
            0u8..=32,
        )),
        timeouts(true, false),
        proptest::collection::vec(log(), 0..2),
    )
        .prop_map(
            |(binds, acls, header, realm, except, timeouts, logs)| FrontendSpec {
                binds,
                acls,
                header,
                realm,
                except,
                timeouts,
                logs,
            },
        )
}

fn build(
    global_maxconn: Option<u32>,
    daemon: bool,
    defaults: Option<DefaultsSpec>,
    backends: Vec<BackendSpec>,
    frontends: Vec<FrontendSpec>,
) -> Config {
    let mut c = Config::default();
    c.global.maxconn = global_maxconn.map(sp);
    c.global.daemon = daemon.then(|| sp(()));
    if let Some((timeouts, http, logs)) = defaults {
        let mut d = Proxy::new(ProxyKind::Defaults, sp(String::new()));
        for (k, v) in timeouts {
            d.timeouts.insert(k, sp(v));
        }
        if http {
            d.mode = Some(sp(Mode::Http));
            d.set_option(sp(ProxyOption {
                negated: false,
                kind: OptionKind::HttpLog { clf: false },
            }));
        }
        d.set_option(sp(ProxyOption {
            negated: true,
            kind: OptionKind::AbortOnClose,
        }));
        d.logs = logs.into_iter().map(sp).collect();
        c.defaults.push(d);
    }
    let new_proxy = |c: &Config, kind, name: String| {
        let mut p = Proxy::new(kind, sp(name));
        if let Some(d) = c.defaults.first() {
            p.inherit_from(d);
            p.defaults = Some(0);
        }
        p
    };
    let nb = backends.len();
    for (i, b) in backends.into_iter().enumerate() {
        let mut p = new_proxy(&c, ProxyKind::Backend, format!("be{i}"));
        for (k, v) in b.timeouts {
            p.timeouts.insert(k, sp(v));
        }
        p.balance = b.balance.map(sp);
        p.hash_type = b
            .hash
            .map(|(method, function, avalanche)| sp(HashType::new(method, function, avalanche)));
        p.default_server.merge(&b.default_server);
        for (j, (ip, port, options)) in b.servers.into_iter().enumerate() {
            p.servers.push(sp(Server {
                name: format!("s{j}"),
                address: ServerAddress {
                    host: ServerHost::Ip(ip),
                    port: ServerPort::Fixed(port),
                },
                options,
            }));
        }
        if let Some(interval) = b.redispatch {
            p.set_option(sp(ProxyOption {
                negated: false,
                kind: OptionKind::Redispatch { interval },
            }));
        }
        c.proxies.push(p);
    }
    for (i, f) in frontends.into_iter().enumerate() {
        let mut p = new_proxy(&c, ProxyKind::Frontend, format!("fe{i}"));
        for (ip, port, span, ssl) in f.binds {
            let end = port.saturating_add(span);
            let options = BindOptions {
                ssl,
                name: ssl.then(|| "tls".to_string()),
                ..BindOptions::default()
            };
            p.binds.push(sp(Bind {
                addresses: vec![BindAddress::Inet {
                    ip,
                    ports: port..=end,
                }],
                options,
            }));
        }
        for k in 0..f.acls {
            let words = vec!["path_beg".to_string(), format!("/p{k}")];
            p.acls.push(sp(Acl {
                name: format!("a{k}"),
                expr: AclExpr::parse(&words).unwrap(),
            }));
            if nb > 0 {
                let cond = Condition::parse(&[
                    "unless".to_string(),
                    format!("a{k}"),
                    "||".into(),
                    "!TRUE".into(),
                ])
                .unwrap();
                p.use_backends.push(sp(UseBackend {
                    backend: format!("be{}", k % nb),
                    condition: Some(cond),
                }));
            }
        }
        if nb > 0 {
            p.default_backend = Some(sp(format!("be{}", i % nb)));
        }
        if let Some((name, value)) = f.header {
            p.http_request.push(sp(HttpRule {
                action: HttpAction::SetHeader { name, value },
                condition: None,
            }));
        }
        if let Some(r) = f.realm {
            p.stats = vec![sp(Stats::Enable), sp(Stats::Realm(r))];
        }
        if let Some((addr, prefix)) = f.except {
            let ff = ForwardFor {
                except: Some(IpNet { addr, prefix }),
                header: None,
                if_none: true,
            };
            p.set_option(sp(ProxyOption {
                negated: false,
                kind: OptionKind::ForwardFor(ff),
            }));
        }
        for (k, v) in f.timeouts {
            p.timeouts.insert(k, sp(v));
        }
        if !f.logs.is_empty() {
            p.logs = f.logs.into_iter().map(sp).collect();
        }
        c.proxies.push(p);
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn print_then_load_gives_the_same_model(
        maxconn in proptest::option::of(1u32..100_000),
        daemon in any::<bool>(),
        defaults in proptest::option::of((timeouts(true, true), any::<bool>(), proptest::collection::vec(log(), 0..2))),
        backends in proptest::collection::vec(backend_spec(), 0..4),
        frontends in proptest::collection::vec(frontend_spec(), 0..3),
    ) {
        let config = build(maxconn, daemon, defaults, backends, frontends);
        let text = print(&config);
        let loaded = match parse_str("printed.cfg", &text, &|_| None) {
            Ok(l) => l,
            Err(e) => panic!("printed text refused:\n{e}\n---\n{text}"),
        };
        prop_assert_eq!(&loaded.config, &config, "{}", text);
        // Printing is stable.
        prop_assert_eq!(print(&loaded.config), text);
    }
}
