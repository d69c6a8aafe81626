//! Model -> canonical text -> parse gives the same model, for any valid model.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use vrrp_config::{
    AuthType, Authentication, Config, GlobalDefs, Host, InitialState, NoIncludes, Notify, Origin,
    Scope, ScriptUser, SmtpServer, SyncGroup, TrackInterface, TrackScript, VirtualAddress,
    VrrpInstance, VrrpScript, VrrpVersion,
};

fn ident() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,7}"
}

fn command() -> impl Strategy<Value = String> {
    vec("[a-z0-9/_.-]{1,8}", 1..4).prop_map(|w| w.join(" "))
}

fn user() -> impl Strategy<Value = ScriptUser> {
    (ident(), option::of(ident())).prop_map(|(user, group)| ScriptUser { user, group })
}

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n)))
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n)))
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![v4(), v6()]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Global),
        Just(Scope::Site),
        Just(Scope::Link),
        Just(Scope::Host),
        Just(Scope::Nowhere),
    ]
}

fn vip(v6_family: bool) -> impl Strategy<Value = VirtualAddress> {
    let addr = if v6_family {
        v6().boxed()
    } else {
        v4().boxed()
    };
    (
        addr,
        any::<u8>(),
        any::<u32>(),
        option::of(ident()),
        option::of(scope()),
        option::of(ident()),
        any::<bool>(),
    )
        .prop_map(move |(addr, p, brd, dev, scope, label, with_brd)| {
            let max = if addr.is_ipv4() { 33 } else { 129 };
            VirtualAddress {
                addr,
                prefix: p % max,
                broadcast: (with_brd && addr.is_ipv4()).then(|| IpAddr::V4(Ipv4Addr::from(brd))),
                dev,
                scope,
                label,
                origin: Origin::default(),
            }
        })
}

fn any_vip() -> impl Strategy<Value = VirtualAddress> {
    any::<bool>().prop_flat_map(vip)
}

fn notify() -> impl Strategy<Value = Notify> {
    (
        option::of(command()),
        option::of(command()),
        option::of(command()),
        option::of(command()),
        option::of(command()),
    )
        .prop_map(|(master, backup, fault, stop, any)| Notify {
            master,
            backup,
            fault,
            stop,
            any,
        })
}

fn weight() -> impl Strategy<Value = (Option<i32>, bool)> {
    option::of((-253i32..=253, any::<bool>())).prop_map(|w| match w {
        Some((n, r)) => (Some(n), r),
        None => (None, false),
    })
}

fn global() -> impl Strategy<Value = GlobalDefs> {
    (
        vec(
            (ident(), ident()).prop_map(|(a, b)| format!("{a}@{b}")),
            0..3,
        ),
        option::of(ident()),
        option::of((
            prop_oneof![ip().prop_map(Host::Ip), "[a-z]{1,8}".prop_map(Host::Name)],
            1u16..,
        )),
        option::of(1u64..=3600),
        option::of(ident()),
        any::<bool>(),
        option::of(user()),
    )
        .prop_map(
            |(emails, from, smtp, timeout, router_id, sec, su)| GlobalDefs {
                notification_email: emails,
                notification_email_from: from,
                smtp_server: smtp.map(|(host, port)| SmtpServer { host, port }),
                smtp_connect_timeout: timeout.map(Duration::from_secs),
                router_id,
                enable_script_security: sec,
                script_user: su,
            },
        )
}

fn script(name: String) -> impl Strategy<Value = VrrpScript> {
    (
        command(),
        1u64..1000,
        option::of(1u64..1000),
        -253i32..=253,
        any::<bool>(),
        1u32..20,
        1u32..20,
        option::of(user()),
    )
        .prop_map(
            move |(cmd, interval, timeout, weight, reverse, rise, fall, user)| VrrpScript {
                name: name.clone(),
                script: cmd,
                interval: Duration::from_secs(interval),
                timeout: timeout.map(Duration::from_secs),
                weight,
                weight_reverse: reverse,
                rise,
                fall,
                user,
                origin: Origin::default(),
            },
        )
}

/// Instance `index` (its VRID is `index + 1`, so VRIDs never clash), tracking
/// some of `scripts`.
fn instance(index: usize, scripts: Vec<String>) -> impl Strategy<Value = VrrpInstance> {
    let vrid = u8::try_from(index + 1).unwrap_or(1);
    let head = (
        any::<bool>(),
        prop_oneof![Just("eth0"), Just("eth1"), Just("bond0")],
        1u8..=255,
        any::<bool>(),
        any::<bool>(),
        1u64..=255,
        1u64..=4095,
        0u64..=255,
        1u32..=255,
        option::of(1u64..100_000),
    );
    let auth = option::of((any::<bool>(), "[a-zA-Z0-9]{0,8}"));
    let vips = any::<bool>().prop_flat_map(|native| (Just(native), vec(vip(native), 1..4)));
    let tracks = (
        proptest::sample::subsequence(scripts.clone(), 0..=scripts.len()),
        vec(weight(), scripts.len()..=scripts.len()),
        vec((ident(), weight()), 0..3),
    );
    let tail = (
        any::<bool>(),
        option::of(0u64..=1_000_000),
        option::of(ip()),
        vec(ip(), 0..3),
        notify(),
        any::<bool>(),
        any::<bool>(),
        vec(any_vip(), 0..3),
    );
    (head, auth, vips, tracks, tail).prop_map(
        move |(head, auth, (native, vips), (tracked, weights, ifs), tail)| {
            let (master, interface, priority, v3, _, adv_s, adv_cs, delay, repeat, refresh) = head;
            let (nopreempt, preempt_ms, src, peers, notify, smtp_alert, dont_track, excluded) =
                tail;
            let state = if master {
                InitialState::Master
            } else {
                InitialState::Backup
            };
            // keepalived clears preemption settings that cannot apply; a
            // canonical model never carries them.
            let nopreempt = nopreempt && !master;
            let preempt_delay = preempt_ms
                .filter(|_| !master && !nopreempt)
                .map(Duration::from_millis);
            VrrpInstance {
                name: format!("VI_{index}"),
                state,
                interface: interface.to_string(),
                virtual_router_id: vrid,
                priority,
                advert_int: if v3 {
                    Duration::from_millis(adv_cs * 10)
                } else {
                    Duration::from_secs(adv_s)
                },
                garp_master_delay: Duration::from_secs(delay),
                garp_master_repeat: repeat,
                garp_master_refresh: refresh.map(Duration::from_secs),
                authentication: auth.map(|(ah, pass)| Authentication {
                    auth_type: if ah { AuthType::Ah } else { AuthType::Pass },
                    auth_pass: pass,
                }),
                virtual_ipaddress: vips,
                virtual_ipaddress_excluded: excluded,
                track_script: tracked
                    .into_iter()
                    .zip(weights)
                    .map(|(name, (weight, reverse))| TrackScript {
                        name,
                        weight,
                        reverse,
                    })
                    .collect(),
                track_interface: ifs
                    .into_iter()
                    .map(|(name, (weight, reverse))| TrackInterface {
                        name,
                        weight,
                        reverse,
                        origin: Origin::default(),
                    })
                    .collect(),
                nopreempt,
                preempt_delay,
                unicast_src_ip: src,
                unicast_peer: peers,
                notify,
                smtp_alert,
                version: if v3 { VrrpVersion::V3 } else { VrrpVersion::V2 },
                native_ipv6: native,
                dont_track_primary: dont_track,
                origin: Origin::default(),
                interface_origin: Origin::default(),
            }
        },
    )
}

fn config() -> impl Strategy<Value = Config> {
    (0usize..3, 1usize..4).prop_flat_map(|(n_scripts, n_instances)| {
        let names: Vec<String> = (0..n_scripts).map(|i| format!("chk_{i}")).collect();
        let scripts: Vec<_> = names.iter().map(|n| script(n.clone()).boxed()).collect();
        let instances: Vec<_> = (0..n_instances)
            .map(|i| instance(i, names.clone()).boxed())
            .collect();
        let group = (notify(), any::<bool>(), any::<bool>());
        (global(), scripts, instances, group).prop_map(
            move |(global, scripts, instances, (notify, smtp_alert, with_group))| {
                let sync_groups = if with_group && instances.len() >= 2 {
                    vec![SyncGroup {
                        name: "G1".into(),
                        group: instances.iter().take(2).map(|i| i.name.clone()).collect(),
                        notify,
                        smtp_alert,
                        origin: Origin::default(),
                    }]
                } else {
                    Vec::new()
                };
                Config {
                    global,
                    scripts,
                    instances,
                    sync_groups,
                }
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn canonical_text_round_trips(c in config()) {
        let text = c.to_string();
        let loaded = vrrp_config::parse_with_loader("canon.conf", &text, &NoIncludes)
            .map_err(|e| TestCaseError::fail(format!("{e}\n---\n{text}")))?;
        prop_assert!(loaded.passes_config_test(), "{:?}\n---\n{}", loaded.warnings, text);
        prop_assert_eq!(&loaded.config, &c, "\n---\n{}", text);
        // The canonical text of the re-read model is the same text.
        prop_assert_eq!(loaded.config.to_string(), text);
    }
}
