//! Keyword tables: which keywords exist, where they are allowed and whether
//! they are implemented. The validation pass and the manual both read these.

/// Allowed in `defaults`.
pub(crate) const DEF: u8 = 1;
/// Allowed in proxies with the frontend capability.
pub(crate) const FE: u8 = 2;
/// Allowed in proxies with the backend capability.
pub(crate) const BE: u8 = 4;
/// Allowed in named `defaults` only (ignored there, with a warning).
pub(crate) const NAMED_DEF: u8 = 8;
/// Outside its capability the keyword is an error, not a warning.
pub(crate) const STRICT: u8 = 16;

/// How a keyword is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Parsed into the model.
    Supported,
    /// Recognized and kept as words, with a warning.
    Ignored,
    /// Refused with an error (removed from HAProxy or never planned).
    Rejected,
}

use Status::{Ignored, Rejected, Supported};

/// A keyword of the `global` section.
pub(crate) const GLOBAL: &[(&str, Status)] = &[
    ("log", Supported),
    ("chroot", Supported),
    ("pidfile", Supported),
    ("maxconn", Supported),
    ("user", Supported),
    ("group", Supported),
    ("daemon", Supported),
    ("nbthread", Supported),
    ("stats", Supported),
    ("uid", Supported),
    ("gid", Supported),
    ("ca-base", Ignored),
    ("crt-base", Ignored),
    ("ssl-default-bind-ciphers", Ignored),
    ("ssl-default-bind-ciphersuites", Ignored),
    ("ssl-default-bind-options", Ignored),
    ("ssl-default-server-ciphers", Ignored),
    ("ssl-default-server-ciphersuites", Ignored),
    ("ssl-default-server-options", Ignored),
    ("ssl-dh-param-file", Ignored),
    ("ssl-server-verify", Ignored),
    ("spread-checks", Ignored),
    ("hard-stop-after", Ignored),
    ("node", Ignored),
    ("description", Ignored),
    ("localpeer", Ignored),
    ("master-worker", Ignored),
    ("quiet", Ignored),
    ("setenv", Supported),
    ("presetenv", Supported),
    ("unsetenv", Supported),
    ("resetenv", Supported),
    ("lua-load", Ignored),
    ("log-send-hostname", Supported),
    ("log-tag", Supported),
    ("server-state-file", Ignored),
    ("server-state-base", Ignored),
    ("maxsslconn", Ignored),
    ("ulimit-n", Ignored),
    ("cpu-map", Ignored),
    ("busy-polling", Ignored),
    ("insecure-fork-wanted", Ignored),
    ("expose-experimental-directives", Ignored),
    ("h1-case-adjust", Supported),
    ("h1-case-adjust-file", Supported),
    ("tune.bufsize", Ignored),
    ("tune.maxrewrite", Ignored),
    ("tune.ssl.default-dh-param", Ignored),
    ("tune.ssl.cachesize", Ignored),
    ("tune.http.maxhdr", Ignored),
    ("nbproc", Rejected),
];

/// A keyword of a proxy section: name, where it is allowed, status.
pub(crate) const PROXY: &[(&str, u8, Status)] = &[
    ("mode", DEF | FE | BE, Supported),
    ("log", DEF | FE | BE, Supported),
    ("option", DEF | FE | BE, Supported),
    ("retries", DEF | BE, Supported),
    ("retry-on", DEF | BE, Supported),
    ("timeout", DEF | FE | BE, Supported),
    ("maxconn", DEF | FE, Supported),
    ("bind", FE, Supported),
    ("stats", DEF | FE | BE, Supported),
    ("capture", FE, Supported),
    ("acl", FE | BE | NAMED_DEF, Supported),
    ("use_backend", FE, Supported),
    ("default_backend", DEF | FE, Supported),
    ("balance", DEF | BE, Supported),
    ("hash-type", DEF | BE, Supported),
    ("cookie", DEF | BE, Supported),
    ("default-server", DEF | BE | STRICT, Supported),
    ("server", BE | STRICT, Supported),
    ("http-request", FE | BE | NAMED_DEF, Supported),
    ("http-response", FE | BE | NAMED_DEF, Supported),
    ("http-check", DEF | BE, Supported),
    ("errorfile", DEF | FE | BE, Supported),
    ("description", FE | BE, Ignored),
    ("fullconn", DEF | BE, Ignored),
    ("monitor-uri", DEF | FE, Supported),
    ("monitor", FE, Supported),
    ("tcp-request", FE | BE | NAMED_DEF, Ignored),
    ("tcp-response", BE | NAMED_DEF, Ignored),
    ("http-after-response", FE | BE | NAMED_DEF, Ignored),
    ("http-reuse", DEF | BE, Ignored),
    ("compression", DEF | FE | BE, Ignored),
    ("rate-limit", DEF | FE, Ignored),
    ("redirect", FE | BE, Ignored),
    ("unique-id-format", DEF | FE, Ignored),
    ("unique-id-header", DEF | FE, Ignored),
    ("log-format", DEF | FE, Supported),
    ("log-format-sd", DEF | FE, Ignored),
    ("log-tag", DEF | FE | BE, Supported),
    ("errorloc", DEF | FE | BE, Supported),
    ("errorloc302", DEF | FE | BE, Supported),
    ("errorloc303", DEF | FE | BE, Supported),
    ("errorfiles", DEF | FE | BE, Supported),
    ("http-error", DEF | FE | BE, Ignored),
    ("source", DEF | BE, Ignored),
    ("stick-table", FE | BE, Ignored),
    ("stick", BE, Ignored),
    ("force-persist", FE | BE, Ignored),
    ("ignore-persist", FE | BE, Ignored),
    ("persist", DEF | BE, Ignored),
    ("dispatch", BE, Ignored),
    ("filter", FE | BE, Ignored),
    ("id", FE | BE, Ignored),
    ("disabled", DEF | FE | BE, Ignored),
    ("enabled", DEF | FE | BE, Ignored),
    ("backlog", DEF | FE, Ignored),
    ("grace", DEF | FE | BE, Ignored),
    ("server-template", BE | STRICT, Ignored),
    ("use-server", BE, Ignored),
    ("tcp-check", DEF | BE, Ignored),
    ("external-check", DEF | BE, Ignored),
    ("email-alert", DEF | FE | BE, Ignored),
    ("declare", FE | BE, Ignored),
    ("dynamic-cookie-key", DEF | BE, Ignored),
    ("max-keep-alive-queue", DEF | BE, Ignored),
    ("reqadd", FE | BE, Rejected),
    ("reqrep", FE | BE, Rejected),
    ("rspadd", FE | BE, Rejected),
    ("block", FE | BE, Rejected),
];

/// Options: name, where allowed, status.
pub(crate) const OPTIONS: &[(&str, u8, Status)] = &[
    ("httplog", DEF | FE, Supported),
    ("tcplog", DEF | FE | BE, Supported),
    ("httpslog", DEF | FE, Ignored),
    ("dontlognull", DEF | FE, Supported),
    ("http-server-close", DEF | FE | BE, Supported),
    ("httpclose", DEF | FE | BE, Supported),
    ("http-keep-alive", DEF | FE | BE, Supported),
    ("forwardfor", DEF | FE | BE, Supported),
    ("redispatch", DEF | BE, Supported),
    ("abortonclose", DEF | BE, Supported),
    ("logasap", DEF | FE, Supported),
    ("httpchk", DEF | BE, Supported),
    ("allbackups", DEF | BE, Supported),
    ("h1-case-adjust-bogus-client", DEF | FE, Supported),
    ("h1-case-adjust-bogus-server", DEF | BE, Supported),
    ("accept-invalid-http-request", DEF | FE, Ignored),
    ("accept-invalid-http-response", DEF | BE, Ignored),
    ("checkcache", DEF | BE, Ignored),
    ("clitcpka", DEF | FE, Ignored),
    ("contstats", DEF | FE, Ignored),
    ("dontlog-normal", DEF | FE, Ignored),
    ("http-buffer-request", DEF | FE | BE, Ignored),
    ("http-ignore-probes", DEF | FE, Ignored),
    ("http-no-delay", DEF | FE | BE, Ignored),
    ("http-pretend-keepalive", DEF | FE | BE, Ignored),
    ("http-use-proxy-header", DEF | FE, Ignored),
    ("http_proxy", DEF | FE | BE, Rejected),
    ("forceclose", DEF | FE | BE, Rejected),
    ("independent-streams", DEF | FE | BE, Ignored),
    ("ldap-check", DEF | BE, Ignored),
    ("external-check", DEF | BE, Ignored),
    ("log-health-checks", DEF | BE, Ignored),
    ("log-separate-errors", DEF | FE, Ignored),
    ("mysql-check", DEF | BE, Ignored),
    ("nolinger", DEF | FE | BE, Ignored),
    ("originalto", DEF | FE | BE, Ignored),
    ("persist", DEF | BE, Ignored),
    ("pgsql-check", DEF | BE, Ignored),
    ("prefer-last-server", DEF | BE, Ignored),
    ("redis-check", DEF | BE, Ignored),
    ("smtpchk", DEF | BE, Ignored),
    ("socket-stats", DEF | FE, Ignored),
    ("splice-auto", DEF | FE | BE, Ignored),
    ("splice-request", DEF | FE | BE, Ignored),
    ("splice-response", DEF | FE | BE, Ignored),
    ("srvtcpka", DEF | BE, Ignored),
    ("ssl-hello-chk", DEF | BE, Ignored),
    ("tcp-check", DEF | BE, Ignored),
    ("tcp-smart-accept", DEF | FE, Ignored),
    ("tcp-smart-connect", DEF | BE, Ignored),
    ("tcpka", DEF | FE | BE, Ignored),
    ("transparent", DEF | BE, Ignored),
    ("idle-close-on-response", DEF | FE, Ignored),
    ("disable-h2-upgrade", DEF | FE, Ignored),
];

/// Options HAProxy refuses after `no` (or `default`).
pub(crate) const NOT_NEGATABLE: &[&str] = &[
    "httplog",
    "tcplog",
    "httpslog",
    "forwardfor",
    "originalto",
    "tcpka",
    "httpchk",
    "ssl-hello-chk",
    "tcp-check",
    "mysql-check",
    "external-check",
    "ldap-check",
    "pgsql-check",
    "redis-check",
    "smtpchk",
];

/// Bind options: name and number of arguments (0 or 1).
pub(crate) const BIND_OPTIONS: &[(&str, u8)] = &[
    ("name", 1),
    ("ssl", 0),
    ("crt", 1),
    ("alpn", 1),
    ("accept-proxy", 0),
    ("transparent", 0),
    ("v4v6", 0),
    ("v6only", 0),
    ("maxconn", 1),
    ("interface", 1),
    ("mode", 1),
    ("level", 1),
    ("accept-netscaler-cip", 1),
    ("allow-0rtt", 0),
    ("backlog", 1),
    ("ca-file", 1),
    ("ciphers", 1),
    ("ciphersuites", 1),
    ("crl-file", 1),
    ("crt-list", 1),
    ("curves", 1),
    ("defer-accept", 0),
    ("ecdhe", 1),
    ("expose-fd", 1),
    ("generate-certificates", 0),
    ("gid", 1),
    ("group", 1),
    ("id", 1),
    ("mss", 1),
    ("namespace", 1),
    ("nice", 1),
    ("no-ca-names", 0),
    ("no-sslv3", 0),
    ("no-tls-tickets", 0),
    ("no-tlsv10", 0),
    ("no-tlsv11", 0),
    ("no-tlsv12", 0),
    ("no-tlsv13", 0),
    ("npn", 1),
    ("prefer-client-ciphers", 0),
    ("process", 1),
    ("proto", 1),
    ("severity-output", 1),
    ("shards", 1),
    ("ssl-max-ver", 1),
    ("ssl-min-ver", 1),
    ("strict-sni", 0),
    ("tcp-ut", 1),
    ("tfo", 0),
    ("thread", 1),
    ("tls-ticket-keys", 1),
    ("uid", 1),
    ("user", 1),
    ("verify", 1),
];

/// Server options: name and number of arguments (0 or 1).
pub(crate) const SERVER_OPTIONS: &[(&str, u8)] = &[
    ("check", 0),
    ("no-check", 0),
    ("inter", 1),
    ("fastinter", 1),
    ("downinter", 1),
    ("rise", 1),
    ("fall", 1),
    ("port", 1),
    ("addr", 1),
    ("weight", 1),
    ("maxconn", 1),
    ("maxqueue", 1),
    ("minconn", 1),
    ("backup", 0),
    ("no-backup", 0),
    ("disabled", 0),
    ("enabled", 0),
    ("cookie", 1),
    ("send-proxy", 0),
    ("no-send-proxy", 0),
    ("send-proxy-v2", 0),
    ("no-send-proxy-v2", 0),
    ("ssl", 0),
    ("no-ssl", 0),
    ("verify", 1),
    ("sni", 1),
    ("slowstart", 1),
    ("on-marked-down", 1),
    ("agent-check", 0),
    ("no-agent-check", 0),
    ("agent-inter", 1),
    ("agent-addr", 1),
    ("agent-port", 1),
    ("agent-send", 1),
    ("allow-0rtt", 0),
    ("alpn", 1),
    ("ca-file", 1),
    ("check-send-proxy", 0),
    ("check-alpn", 1),
    ("check-proto", 1),
    ("check-ssl", 0),
    ("check-sni", 1),
    ("ciphers", 1),
    ("ciphersuites", 1),
    ("crl-file", 1),
    ("crt", 1),
    ("error-limit", 1),
    ("id", 1),
    ("init-addr", 1),
    ("log-proto", 1),
    ("max-reuse", 1),
    ("namespace", 1),
    ("no-tls-tickets", 0),
    ("no-verifyhost", 0),
    ("no-sslv3", 0),
    ("no-tlsv10", 0),
    ("no-tlsv11", 0),
    ("npn", 1),
    ("observe", 1),
    ("on-error", 1),
    ("on-marked-up", 1),
    ("pool-low-conn", 1),
    ("pool-max-conn", 1),
    ("pool-purge-delay", 1),
    ("proto", 1),
    ("redir", 1),
    ("resolve-opts", 1),
    ("resolve-prefer", 1),
    ("resolve-net", 1),
    ("resolvers", 1),
    ("send-proxy-v2-ssl", 0),
    ("send-proxy-v2-ssl-cn", 0),
    ("proxy-v2-options", 1),
    ("source", 1),
    ("ssl-max-ver", 1),
    ("ssl-min-ver", 1),
    ("ssl-reuse", 0),
    ("socks4", 1),
    ("tcp-ut", 1),
    ("tfo", 0),
    ("track", 1),
    ("verifyhost", 1),
    ("ws", 1),
];

/// Section keywords that open a section.
pub(crate) const SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "resolvers",
    "peers",
    "cache",
    "program",
    "http-errors",
    "ring",
    "mailers",
    "fcgi-app",
];

/// Levenshtein distance, for "did you mean".
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(c0) = cur.first_mut() {
            *c0 = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// The nearest of `candidates` to `word`, if it is close enough to be a typo.
pub(crate) fn nearest<'k>(
    word: &str,
    candidates: impl Iterator<Item = &'k str>,
) -> Option<&'k str> {
    let limit = (word.chars().count() / 3).max(1) + 1;
    candidates
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("modee", "mode"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            nearest("defualt_backend", PROXY.iter().map(|k| k.0)),
            Some("default_backend")
        );
        assert_eq!(nearest("zzzzzzzz", PROXY.iter().map(|k| k.0)), None);
    }
}

#[cfg(test)]
mod manual_tests {
    use super::*;

    /// Rows `| `name` | ... | status |` of the manual, in order.
    fn rows() -> Vec<(String, String)> {
        include_str!("manual.rs")
            .lines()
            .filter_map(|l| {
                let l = l.strip_prefix("//! | `")?;
                let (name, rest) = l.split_once('`')?;
                let status = rest.trim_end_matches(" |").rsplit("| ").next()?.trim();
                Some((name.to_string(), status.to_string()))
            })
            .collect()
    }

    fn word(s: Status) -> &'static str {
        match s {
            Status::Supported => "supported",
            Status::Ignored => "ignored",
            Status::Rejected => "rejected",
        }
    }

    #[test]
    fn manual_matches_the_parser_tables() {
        let rows = rows();
        let mut expected: Vec<(String, String)> = GLOBAL
            .iter()
            .map(|(k, s)| (k.to_string(), word(*s).to_string()))
            .collect();
        expected.push(("tune.*".into(), "ignored".into()));
        expected.extend(
            PROXY
                .iter()
                .map(|(k, _, s)| (k.to_string(), word(*s).to_string())),
        );
        expected.extend(
            OPTIONS
                .iter()
                .map(|(k, _, s)| (k.to_string(), word(*s).to_string())),
        );
        assert_eq!(rows, expected);
    }
}
