//! Dynamic servers: `add server B/S ADDR[:PORT] [options]` and `del server
//! B/S`, with HAProxy 2.6's rules and answers.
//!
//! A server can be added only to a backend whose algorithm supports it
//! (not `static-rr` nor map-based hashing). It starts in maintenance, as in
//! HAProxy, and takes traffic once `set server B/S state ready` (or
//! `enable server`) says so. Options: `weight`, `maxconn`, `maxqueue`,
//! `backup`, `disabled`, and health checks with `check`, `inter`, `rise`,
//! `fall` and `port` (see [`super::check`]: they start disabled, `enable
//! health` turns them on); `cookie` is refused as HAProxy refuses it, and
//! TLS, the PROXY protocol and the other check options are refused as not
//! supported for added servers. A server can be deleted once in
//! maintenance with no stream on it or waiting for it; its check task ends.
//!
//! A new server takes the lowest id no server of the backend holds, as in
//! HAProxy: the id of a deleted server is given again ([`ServerIds`]).
//!
//! The address must be an IP address. HAProxy 2.6 also registers a host
//! name, but never resolves it without `resolvers` (the server is listed
//! with no address and every connection to it fails), so a name is refused
//! here rather than accepted into a server that cannot work.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use proxy_balance::{ServerId, ServerSpec, ServerState};
use proxy_config::ServerPort;

use super::check::{BackendChecks, DynamicCheckOptions};
use super::model::{Counters, Runtime, Server, lock};
use super::servers::{AdminState, ServerRt};
use super::slots::Slots;

/// HAProxy's answer when the address is missing.
const EXPECTS: &str = "'server' expects <name> and <addr>[:<port>] as arguments.\n";

/// Server keywords HAProxy knows that added servers here do not support.
const UNSUPPORTED: &[&str] = &[
    "ssl",
    "send-proxy",
    "send-proxy-v2",
    "agent-check",
    "track",
    "slowstart",
    "fastinter",
    "downinter",
    "addr",
    "verify",
    "sni",
    "alpn",
    "proto",
    "resolvers",
    "init-addr",
    "source",
    "observe",
    "on-error",
    "redir",
    "id",
];

/// A backend's server ids and where each server is in its list. Configured
/// servers hold 1 to N; `add server` takes the lowest free id and `del
/// server` frees one. Lookups are a hash under a shared lock; changes
/// happen under the backend's balancer lock, so that picking an id and
/// taking it cannot race.
#[derive(Debug, Default)]
pub(crate) struct ServerIds(RwLock<HashMap<ServerId, usize>>);

impl ServerIds {
    /// The ids of the configured servers.
    pub(crate) fn new(ids: HashMap<ServerId, usize>) -> ServerIds {
        ServerIds(RwLock::new(ids))
    }

    /// The index of the server holding `id`.
    pub(crate) fn get(&self, id: ServerId) -> Option<usize> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .copied()
    }

    /// The lowest id no server holds.
    fn lowest_free(&self) -> Option<ServerId> {
        let ids = self.0.read().unwrap_or_else(PoisonError::into_inner);
        (1..=u32::MAX)
            .map(ServerId)
            .find(|id| !ids.contains_key(id))
    }

    fn insert(&self, id: ServerId, index: usize) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, index);
    }

    fn remove(&self, id: ServerId) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }
}

/// `ADDR[:PORT]`: an IPv4 address, or an IPv6 one in brackets; the port
/// is a number, `+N`/`-N` (offset from the client's destination port) or
/// absent (the client's destination port).
fn address(arg: &str) -> Result<(IpAddr, ServerPort), String> {
    let (host, port) = if let Some(rest) = arg.strip_prefix('[') {
        let (h, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("invalid address: '{arg}'\n\n"))?;
        (h, tail.strip_prefix(':'))
    } else {
        match arg.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (arg, None),
        }
    };
    let ip: IpAddr = host.parse().map_err(|_| {
        format!("could not resolve address '{host}': haproxyd takes IP addresses only here\n\n")
    })?;
    let port = match port {
        None | Some("") => ServerPort::Same,
        Some(p) => {
            let (sign, digits) = match p.as_bytes().first() {
                Some(b'+') => (1, p.get(1..).unwrap_or_default()),
                Some(b'-') => (-1, p.get(1..).unwrap_or_default()),
                _ => (0, p),
            };
            if let Some(c) = digits.chars().find(|c| !c.is_ascii_digit()) {
                return Err(format!(
                    "invalid character '{c}' in port number '{p}' in '{arg}'\n\n"
                ));
            }
            let n: i32 = digits
                .parse()
                .ok()
                .filter(|n| *n <= 65_535)
                .ok_or_else(|| format!("invalid port '{p}' in '{arg}'\n\n"))?;
            match sign {
                0 => ServerPort::Fixed(u16::try_from(n).unwrap_or(0)),
                s => ServerPort::Offset(s * n),
            }
        }
    };
    Ok((ip, port))
}

/// What the options of `add server` set.
#[derive(Debug, Default)]
struct Options {
    weight: Option<u32>,
    maxconn: u32,
    maxqueue: u32,
    backup: bool,
    check: DynamicCheckOptions,
}

fn number(kw: &str, v: Option<&String>) -> Result<Option<u32>, String> {
    match v {
        None => Ok(None),
        Some(v) => v
            .parse::<u32>()
            .map(Some)
            .map_err(|_| format!("'{kw}' expects an integer argument, got '{v}'.\n")),
    }
}

fn options(name: &str, args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut i = 0;
    while let Some(kw) = args.get(i) {
        let value = args.get(i + 1);
        let mut takes_value = true;
        match kw.as_str() {
            "weight" => {
                if let Some(w) = number(kw, value)? {
                    if w > 256 {
                        return Err(format!(
                            "weight of server {name} is not within 0 and 256 ({w})..\n"
                        ));
                    }
                    o.weight = Some(w);
                }
            }
            "maxconn" => o.maxconn = number(kw, value)?.unwrap_or(0),
            "maxqueue" => o.maxqueue = number(kw, value)?.unwrap_or(0),
            "backup" => {
                o.backup = true;
                takes_value = false;
            }
            // Added servers start in maintenance whatever is said.
            "disabled" | "enabled" => takes_value = false,
            "cookie" => return Err("'cookie' option is not accepted for dynamic server\n".into()),
            k if DynamicCheckOptions::knows(k) => {
                i += o.check.read(name, k, value)?;
                continue;
            }
            k if UNSUPPORTED.contains(&k) => {
                return Err(format!(
                    "'{k}' is not supported by haproxyd for servers added at run time.\n"
                ));
            }
            k => return Err(format!("unknown keyword '{k}'.\n")),
        }
        i += if takes_value { 2 } else { 1 };
    }
    Ok(o)
}

/// `add server BACKEND/NAME ARGS`: the answer, in HAProxy's words.
pub(crate) fn add_server(rt: &Arc<Runtime>, backend: &str, name: &str, args: &[String]) -> String {
    let Some(be) = rt.backends.iter().find(|b| b.name == backend) else {
        return "No such backend.".into();
    };
    if !lock(&be.balancer).supports_dynamic_servers() {
        return "Backend must use a dynamic load balancing to support dynamic servers.".into();
    }
    let Some(addr) = args.first() else {
        return EXPECTS.into();
    };
    let (ip, port) = match address(addr) {
        Ok(a) => a,
        Err(msg) => return msg,
    };
    let o = match options(name, args.get(1..).unwrap_or_default()) {
        Ok(o) => o,
        Err(msg) => return msg,
    };
    let check = match be.checks.conf(backend, name, ip, port, &o.check) {
        Ok(c) => c,
        Err(msg) => return msg,
    };
    let weight = o.weight.unwrap_or(1);
    // The balancer's lock serialises additions and deletions, so the free
    // id stays free until the server takes it.
    let mut bal = lock(&be.balancer);
    if be.servers.live().any(|(_, s)| s.name == name) {
        return "Already exists a server with the same name in backend.\n".into();
    }
    let Some(id) = be.ids.lowest_free() else {
        return "Too many servers in this backend.\n".into();
    };
    let mut spec = ServerSpec::new(id.0)
        .weight(weight)
        .maxconn(o.maxconn)
        .state(ServerState::Maint);
    if o.backup {
        spec = spec.backup();
    }
    if let Err(e) = bal.add_server(spec) {
        return format!("{e}.\n");
    }
    let server = Server {
        name: name.to_string(),
        ip,
        port,
        slots: Slots::new(o.maxconn),
        queued: AtomicU32::new(0),
        counters: Arc::new(Counters::default()),
        idle: Mutex::new(Vec::new()),
        id,
        backup: o.backup,
        initial_weight: weight,
        maxqueue: o.maxqueue,
        slowstart: None,
        rt: ServerRt::new_dynamic(weight, check.as_ref())
            .with_check_port(o.check.port.unwrap_or(0)),
        check,
        cookie: None,
    };
    let checked = server.check.is_some();
    let Ok(index) = be.servers.push(server) else {
        let _ = bal.remove_server(id);
        return "Too many servers in this backend.\n".into();
    };
    be.ids.insert(id, index);
    drop(bal);
    if checked {
        BackendChecks::start(be, index);
    }
    "New server registered.\n".into()
}

/// `del server BACKEND/NAME`: the answer, in HAProxy's words.
pub(crate) fn del_server(rt: &Arc<Runtime>, backend: &str, name: &str) -> String {
    let Some(be) = rt.backends.iter().find(|b| b.name == backend) else {
        return "No such backend.".into();
    };
    let Some((index, s)) = be.servers.live().find(|(_, s)| s.name == name) else {
        return "No such server.".into();
    };
    let mut bal = lock(&be.balancer);
    if s.rt.admin() != AdminState::Maint {
        return "Only servers in maintenance mode can be deleted.".into();
    }
    let busy = s.counters.current() > 0 || s.queued.load(Ordering::Relaxed) > 0;
    if busy || bal.remove_server(s.id).is_err() {
        return "Server still has connections attached to it, cannot remove it.".into();
    }
    s.rt.mark_deleted();
    be.ids.remove(s.id);
    lock(&s.idle).clear();
    drop(bal);
    be.checks.stop(index);
    "Server deleted.".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(text: &str) -> Arc<Runtime> {
        let config = proxy_config::parse_str("t.cfg", text, &|_| None)
            .unwrap()
            .config;
        Arc::new(Runtime::build(&config).unwrap())
    }

    /// A checked server added at run time gets a check task once the
    /// engine serves, and `del server` ends it.
    #[tokio::test]
    async fn checked_servers_get_a_task_that_del_server_ends() {
        let rt = runtime("backend b\n    balance roundrobin\n    server s1 127.0.0.1:1\n");
        let be = Arc::clone(&rt.backends[0]);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let add = |name: &str, args: &str| {
            let words: Vec<String> = args.split_whitespace().map(String::from).collect();
            add_server(&rt, "b", name, &words)
        };
        assert_eq!(
            add("early", "127.0.0.1:1 check"),
            "New server registered.\n"
        );
        // Not serving yet: the task starts with the others.
        assert!(!be.checks.running(1));
        super::super::check::spawn_all(&rt, &stopped);
        assert!(be.checks.running(1));
        assert_eq!(
            add("plain", "127.0.0.1:1 inter 1s"),
            "New server registered.\n"
        );
        assert!(!be.checks.running(2), "no check, no task");
        assert_eq!(
            add("late", "127.0.0.1:1 check inter 100"),
            "New server registered.\n"
        );
        assert!(be.checks.running(3));
        assert_eq!(del_server(&rt, "b", "late"), "Server deleted.");
        assert!(!be.checks.running(3), "del server ends the task");
        assert!(be.checks.running(1));
        let _ = stop.send(true);
    }

    /// As in HAProxy, an added server takes the lowest free id, a deleted
    /// server's included, and lookups by id find it.
    #[test]
    fn added_servers_take_the_lowest_free_id() {
        let rt = runtime("backend b\n    balance roundrobin\n    server s1 127.0.0.1:1\n");
        let be = &rt.backends[0];
        let add = |name: &str| add_server(&rt, "b", name, &["127.0.0.1:1".to_string()]);
        let id_of = |name: &str| {
            be.servers
                .live()
                .find(|(_, s)| s.name == name)
                .map(|(_, s)| s.id.0)
        };
        for n in ["a", "b", "c"] {
            assert_eq!(add(n), "New server registered.\n");
        }
        assert_eq!([id_of("a"), id_of("c")], [Some(2), Some(4)]);
        assert_eq!(del_server(&rt, "b", "b"), "Server deleted.");
        assert_eq!(del_server(&rt, "b", "a"), "Server deleted.");
        assert!(be.server(ServerId(2)).is_none() && be.server(ServerId(3)).is_none());
        assert_eq!(add("d"), "New server registered.\n");
        assert_eq!(add("e"), "New server registered.\n");
        assert_eq!(add("f"), "New server registered.\n");
        assert_eq!(
            [id_of("d"), id_of("e"), id_of("f")],
            [Some(2), Some(3), Some(5)]
        );
        let (index, s) = be.server(ServerId(3)).unwrap();
        assert_eq!((s.name.as_str(), index), ("e", 5));
        assert_eq!(be.server(ServerId(1)).map(|(i, _)| i), Some(0));
    }

    #[test]
    fn addresses_and_ports() {
        let a = |s: &str| address(s);
        assert_eq!(
            a("127.0.0.1:8080"),
            Ok(("127.0.0.1".parse().unwrap(), ServerPort::Fixed(8080)))
        );
        assert_eq!(
            a("127.0.0.1"),
            Ok(("127.0.0.1".parse().unwrap(), ServerPort::Same))
        );
        assert_eq!(
            a("[::1]:80"),
            Ok(("::1".parse().unwrap(), ServerPort::Fixed(80)))
        );
        assert_eq!(
            a("127.0.0.1:+1"),
            Ok(("127.0.0.1".parse().unwrap(), ServerPort::Offset(1)))
        );
        // Captured from HAProxy 2.6.12.
        assert_eq!(
            a("127.0.0.1:abc"),
            Err("invalid character 'a' in port number 'abc' in '127.0.0.1:abc'\n\n".into())
        );
    }

    #[test]
    fn options_as_haproxy_reads_them() {
        let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let o = options("s", &words("weight 0 maxconn 5 maxqueue 3 backup")).unwrap();
        assert_eq!(
            (o.weight, o.maxconn, o.maxqueue, o.backup),
            (Some(0), 5, 3, true)
        );
        assert_eq!(
            options("w7", &words("weight 300")).unwrap_err(),
            "weight of server w7 is not within 0 and 256 (300)..\n"
        );
        assert_eq!(
            options("s", &words("bogus")).unwrap_err(),
            "unknown keyword 'bogus'.\n"
        );
        assert_eq!(
            options("s", &words("cookie abc")).unwrap_err(),
            "'cookie' option is not accepted for dynamic server\n"
        );
        let o = options("s", &words("check inter 2s rise 1 fall 4 port 70000")).unwrap();
        assert_eq!(
            o.check,
            DynamicCheckOptions {
                check: true,
                port: Some(4464),
                inter: Some(std::time::Duration::from_secs(2)),
                rise: Some(1),
                fall: Some(4),
            }
        );
        assert!(options("s", &words("fastinter 1s")).is_err());
    }
}
