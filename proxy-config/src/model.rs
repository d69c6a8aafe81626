//! The typed configuration: what a validated haproxy.cfg means.
//!
//! Proxies hold their effective settings: values from the `defaults` section
//! they inherit from are already applied. Every directive keeps the [`Span`] of
//! the line that set it (for an inherited value, the line in `defaults`).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use proxy_acl::{AclExpr, Condition};

use crate::diag::Spanned;
use crate::logformat::LogFormatExpr;

/// A whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// Settings of all `global` sections, merged in order.
    pub global: Global,
    /// `defaults` sections in order (named and anonymous).
    pub defaults: Vec<Proxy>,
    /// Frontends, backends and listens in order of declaration.
    pub proxies: Vec<Proxy>,
    /// `userlist` sections.
    pub userlists: Vec<Userlist>,
    /// `http-errors` sections. What a proxy imports from them with
    /// `errorfiles` is already in its [`Proxy::errorfiles`].
    pub http_errors: Vec<HttpErrors>,
}

impl Config {
    /// Proxies with the frontend capability (frontends and listens).
    pub fn frontends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.kind.is_frontend())
    }
    /// Proxies with the backend capability (backends and listens).
    pub fn backends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.kind.is_backend())
    }
    /// The proxy with the backend capability named `name`.
    pub fn backend(&self, name: &str) -> Option<&Proxy> {
        self.backends().find(|p| p.name.value == name)
    }
    /// The proxy with the frontend capability named `name`.
    pub fn frontend(&self, name: &str) -> Option<&Proxy> {
        self.frontends().find(|p| p.name.value == name)
    }
}

/// One `log` line of the global section, or a proxy's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Log {
    /// `log global`: use the global section's log targets.
    Global,
    /// A log target.
    Target(LogTarget),
}

/// Where and what to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    /// The destination.
    pub address: LogAddress,
    /// `len N`: maximum line length.
    pub len: Option<u32>,
    /// `format NAME`.
    pub format: Option<LogFormat>,
    /// The syslog facility.
    pub facility: Facility,
    /// Maximum level sent (all if `None`).
    pub level: Option<Level>,
    /// Minimum level sent.
    pub min_level: Option<Level>,
}

/// A log destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogAddress {
    /// UDP syslog server (port 514 when not written).
    Udp(SocketAddr),
    /// A unix datagram socket (`/dev/log`).
    Unix(PathBuf),
    /// A file descriptor (`fd@N`, `stdout` is fd 1, `stderr` is fd 2).
    Fd(u32),
    /// A ring buffer (`ring@NAME`).
    Ring(String),
}

/// Syslog line format (`format` argument of `log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `rfc3164` (the default).
    Rfc3164,
    /// `rfc5424`.
    Rfc5424,
    /// `local`: like rfc3164 without the host name.
    Local,
    /// `short`: only the priority.
    Short,
    /// `priority`.
    Priority,
    /// `timed`.
    Timed,
    /// `iso`.
    Iso,
    /// `raw`: the message only.
    Raw,
}

impl LogFormat {
    /// All formats with their keywords.
    pub const ALL: [(&'static str, LogFormat); 8] = [
        ("rfc3164", Self::Rfc3164),
        ("rfc5424", Self::Rfc5424),
        ("local", Self::Local),
        ("short", Self::Short),
        ("priority", Self::Priority),
        ("timed", Self::Timed),
        ("iso", Self::Iso),
        ("raw", Self::Raw),
    ];
    /// The keyword.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("rfc3164", |(n, _)| n)
    }
}

/// Syslog facility, by its code (0 `kern` to 23 `local7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(pub u8);

impl Facility {
    /// Facility names in code order.
    pub const NAMES: [&'static str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
        "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
        "local5", "local6", "local7",
    ];
    /// Parses a facility name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .and_then(|i| u8::try_from(i).ok())
            .map(Self)
    }
    /// The facility's name.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("local0")
    }
}

/// Syslog severity level, by its code (0 `emerg` to 7 `debug`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Level(pub u8);

impl Level {
    /// Level names in code order.
    pub const NAMES: [&'static str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    /// Parses a level name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .and_then(|i| u8::try_from(i).ok())
            .map(Self)
    }
    /// The level's name.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("debug")
    }
}

/// Settings of the `global` sections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Global {
    /// `setenv`, `presetenv`, `unsetenv` and `resetenv` lines (their words,
    /// keyword first), in order; already applied to the `${VAR}` expansions of
    /// the lines that follow them.
    pub environment: Vec<Spanned<Vec<String>>>,
    /// `log` targets.
    pub logs: Vec<Spanned<Log>>,
    /// `chroot DIR`.
    pub chroot: Option<Spanned<PathBuf>>,
    /// `pidfile PATH`.
    pub pidfile: Option<Spanned<PathBuf>>,
    /// `maxconn N`.
    pub maxconn: Option<Spanned<u32>>,
    /// `user NAME`.
    pub user: Option<Spanned<String>>,
    /// `group NAME`.
    pub group: Option<Spanned<String>>,
    /// `uid N`: the user id to run as, without a name lookup. With `user`
    /// too, the first of the two lines wins, as in HAProxy.
    pub uid: Option<Spanned<u32>>,
    /// `gid N`: the group id to run as. With `group` too, the first of the
    /// two lines wins.
    pub gid: Option<Spanned<u32>>,
    /// `daemon`.
    pub daemon: Option<Spanned<()>>,
    /// `nbthread N`.
    pub nbthread: Option<Spanned<u32>>,
    /// `stats socket` lines.
    pub stats_sockets: Vec<Spanned<StatsSocket>>,
    /// `stats timeout`.
    pub stats_timeout: Option<Spanned<Duration>>,
    /// `log-tag TAG`: the syslog tag of every line (`haproxy` by default).
    pub log_tag: Option<Spanned<String>>,
    /// `log-send-hostname [NAME]`: send a host name in syslog headers, NAME
    /// or the system's host name when `None`.
    pub log_send_hostname: Option<Spanned<Option<String>>>,
    /// `h1-case-adjust FROM TO` lines, in order: header `FROM` is sent as
    /// `TO` (the same name up to case) where a proxy's
    /// `option h1-case-adjust-bogus-client|server` asks for it.
    pub h1_case_adjust: Vec<Spanned<(String, String)>>,
    /// `h1-case-adjust-file PATH`: more such rules, one pair per line.
    pub h1_case_adjust_file: Option<Spanned<PathBuf>>,
    /// Known keywords accepted but not implemented (their words, keyword first).
    pub ignored: Vec<Spanned<Vec<String>>>,
}

/// `stats socket ADDRESS [options]` in `global`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocket {
    /// Where the socket listens.
    pub address: BindAddress,
    /// `mode OCTAL`: unix socket permissions.
    pub mode: Option<u32>,
    /// `level user|operator|admin`.
    pub level: Option<StatsLevel>,
    /// Other bind options.
    pub options: BindOptions,
}

/// Privilege level of a stats socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsLevel {
    /// `user`: read-only.
    User,
    /// `operator`.
    Operator,
    /// `admin`.
    Admin,
}

impl StatsLevel {
    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }
}

/// What kind of section a proxy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyKind {
    /// `defaults`: settings inherited by the proxies that follow.
    Defaults,
    /// `frontend`: accepts connections.
    Frontend,
    /// `backend`: connects to servers.
    Backend,
    /// `listen`: both.
    Listen,
}

impl ProxyKind {
    /// Has the frontend capability.
    pub fn is_frontend(self) -> bool {
        matches!(self, Self::Frontend | Self::Listen)
    }
    /// Has the backend capability.
    pub fn is_backend(self) -> bool {
        matches!(self, Self::Backend | Self::Listen)
    }
    /// The section keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Defaults => "defaults",
            Self::Frontend => "frontend",
            Self::Backend => "backend",
            Self::Listen => "listen",
        }
    }
}

/// Proxy mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `tcp` (HAProxy's default).
    #[default]
    Tcp,
    /// `http`.
    Http,
    /// `health` (deprecated).
    Health,
}

impl Mode {
    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Http => "http",
            Self::Health => "health",
        }
    }
}

/// A `timeout` kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutKind {
    /// `timeout client`
    Client,
    /// `timeout client-fin`
    ClientFin,
    /// `timeout server`
    Server,
    /// `timeout server-fin`
    ServerFin,
    /// `timeout connect`
    Connect,
    /// `timeout queue`
    Queue,
    /// `timeout http-request`
    HttpRequest,
    /// `timeout http-keep-alive`
    HttpKeepAlive,
    /// `timeout check`
    Check,
    /// `timeout tunnel`
    Tunnel,
    /// `timeout tarpit`
    Tarpit,
}

impl TimeoutKind {
    /// All kinds with their keywords.
    pub const ALL: [(&'static str, TimeoutKind); 11] = [
        ("client", Self::Client),
        ("client-fin", Self::ClientFin),
        ("server", Self::Server),
        ("server-fin", Self::ServerFin),
        ("connect", Self::Connect),
        ("queue", Self::Queue),
        ("http-request", Self::HttpRequest),
        ("http-keep-alive", Self::HttpKeepAlive),
        ("check", Self::Check),
        ("tunnel", Self::Tunnel),
        ("tarpit", Self::Tarpit),
    ];
    /// The keyword after `timeout`.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("client", |(n, _)| n)
    }
    /// Needs the frontend capability (else backend).
    pub fn is_frontend_side(self) -> bool {
        matches!(
            self,
            Self::Client | Self::ClientFin | Self::HttpRequest | Self::HttpKeepAlive
        )
    }
}

/// A proxy: frontend, backend, listen, or a defaults section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Section kind.
    pub kind: ProxyKind,
    /// Name (empty for an anonymous defaults section); span of the section line.
    pub name: Spanned<String>,
    /// Index in [`Config::defaults`] of the defaults section inherited from.
    pub defaults: Option<usize>,
    /// `mode`.
    pub mode: Option<Spanned<Mode>>,
    /// `log` lines (after `no log`, empty).
    pub logs: Vec<Spanned<Log>>,
    /// `no log` was written: inherited log targets were dropped.
    pub no_log: bool,
    /// `option` / `no option` lines, one per option name, last one wins.
    pub options: Vec<Spanned<ProxyOption>>,
    /// `retries N`.
    pub retries: Option<Spanned<u32>>,
    /// `retry-on KEYWORD...`: when a request is retried (HAProxy's default
    /// is `conn-failure`). Checked keywords, as written.
    pub retry_on: Option<Spanned<Vec<String>>>,
    /// `timeout` lines.
    pub timeouts: BTreeMap<TimeoutKind, Spanned<Duration>>,
    /// `maxconn N`.
    pub maxconn: Option<Spanned<u32>>,
    /// `bind` lines.
    pub binds: Vec<Spanned<Bind>>,
    /// `stats` lines.
    pub stats: Vec<Spanned<Stats>>,
    /// `capture request|response header` lines.
    pub captures: Vec<Spanned<Capture>>,
    /// `acl` lines.
    pub acls: Vec<Spanned<Acl>>,
    /// `use_backend` rules in order.
    pub use_backends: Vec<Spanned<UseBackend>>,
    /// `monitor-uri URI`: requests for it are answered by the proxy (200,
    /// or 503 when a `monitor fail` condition holds) and not logged.
    pub monitor_uri: Option<Spanned<String>>,
    /// `monitor fail if|unless COND` lines: the monitor answers 503 when
    /// any of them holds.
    pub monitor_fail: Vec<Spanned<Condition>>,
    /// `default_backend NAME`.
    pub default_backend: Option<Spanned<String>>,
    /// `balance`.
    pub balance: Option<Spanned<Balance>>,
    /// `hash-type`.
    pub hash_type: Option<Spanned<HashType>>,
    /// `cookie`.
    pub cookie: Option<Spanned<Cookie>>,
    /// `default-server` options (merged over the inherited ones).
    pub default_server: ServerOptions,
    /// `server` lines.
    pub servers: Vec<Spanned<Server>>,
    /// `http-request` rules.
    pub http_request: Vec<Spanned<HttpRule>>,
    /// `http-response` rules.
    pub http_response: Vec<Spanned<HttpRule>>,
    /// `http-check` lines, kept as words after the keyword.
    pub http_checks: Vec<Spanned<Vec<String>>>,
    /// `errorfile CODE PATH`, by status code.
    pub errorfiles: BTreeMap<u16, Spanned<PathBuf>>,
    /// `errorloc`/`errorloc302`/`errorloc303 CODE URL`, by status code: the
    /// redirect's status (302 or 303) and its location. A code is in at
    /// most one of this map and `errorfiles`: the later line wins.
    pub errorlocs: BTreeMap<u16, Spanned<(u16, String)>>,
    /// `log-format`, unless an `option httplog` or `tcplog` came after it.
    pub log_format: Option<Spanned<LogFormatExpr>>,
    /// `log-tag TAG`: the syslog tag of this proxy's lines, over the global
    /// one.
    pub log_tag: Option<Spanned<String>>,
    /// Known keywords accepted but not implemented (their words, keyword first).
    pub ignored: Vec<Spanned<Vec<String>>>,
}

impl Proxy {
    /// An empty proxy of `kind` named `name`.
    pub fn new(kind: ProxyKind, name: Spanned<String>) -> Self {
        Self {
            kind,
            name,
            defaults: None,
            mode: None,
            logs: Vec::new(),
            no_log: false,
            options: Vec::new(),
            retries: None,
            retry_on: None,
            timeouts: BTreeMap::new(),
            maxconn: None,
            binds: Vec::new(),
            stats: Vec::new(),
            captures: Vec::new(),
            acls: Vec::new(),
            use_backends: Vec::new(),
            monitor_uri: None,
            monitor_fail: Vec::new(),
            default_backend: None,
            balance: None,
            hash_type: None,
            cookie: None,
            default_server: ServerOptions::default(),
            servers: Vec::new(),
            http_request: Vec::new(),
            http_response: Vec::new(),
            http_checks: Vec::new(),
            errorfiles: BTreeMap::new(),
            errorlocs: BTreeMap::new(),
            log_format: None,
            log_tag: None,
            ignored: Vec::new(),
        }
    }

    /// Copies what a proxy of this kind inherits from the defaults section `d`,
    /// as the loader does when the section opens, before its own lines apply.
    pub fn inherit_from(&mut self, d: &Proxy) {
        crate::validate::inherit(self, d);
    }

    /// The effective mode (`tcp` when not set).
    pub fn effective_mode(&self) -> Mode {
        self.mode.as_ref().map(|m| m.value).unwrap_or_default()
    }

    /// The timeout of `kind`, if set.
    pub fn timeout(&self, kind: TimeoutKind) -> Option<Duration> {
        self.timeouts.get(&kind).map(|t| t.value)
    }

    /// The last `option NAME` / `no option NAME` line for `name`.
    pub fn option(&self, name: &str) -> Option<&ProxyOption> {
        self.options
            .iter()
            .map(|o| &o.value)
            .find(|o| o.kind.name() == name)
    }

    /// Whether `option NAME` is in effect (set and not negated).
    pub fn option_enabled(&self, name: &str) -> bool {
        self.option(name).is_some_and(|o| !o.negated)
    }

    /// Sets an option, replacing an earlier line for the same option.
    pub fn set_option(&mut self, opt: Spanned<ProxyOption>) {
        let name = opt.value.kind.name();
        match self
            .options
            .iter_mut()
            .find(|o| o.value.kind.name() == name)
        {
            Some(slot) => *slot = opt,
            None => self.options.push(opt),
        }
    }

    /// The options in effect for `server`: `default-server` overlaid with its own.
    pub fn server_options(&self, server: &Server) -> ServerOptions {
        let mut o = self.default_server.clone();
        o.merge(&server.options);
        o
    }
}

/// One `option` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyOption {
    /// Written as `no option ...`.
    pub negated: bool,
    /// Which option, with its arguments.
    pub kind: OptionKind,
}

/// Options with their arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionKind {
    /// `option httplog [clf]`.
    HttpLog {
        /// Common log format.
        clf: bool,
    },
    /// `option tcplog`.
    TcpLog,
    /// `option dontlognull`.
    DontLogNull,
    /// `option http-server-close`.
    HttpServerClose,
    /// `option httpclose`.
    HttpClose,
    /// `option http-keep-alive`.
    HttpKeepAlive,
    /// `option forwardfor [except NET] [header NAME] [if-none]`.
    ForwardFor(ForwardFor),
    /// `option redispatch [INTERVAL]`.
    Redispatch {
        /// Redispatch on every Nth retry (negative: Nth before last).
        interval: Option<i32>,
    },
    /// `option abortonclose`.
    AbortOnClose,
    /// `option logasap`.
    LogAsap,
    /// `option httpchk [METHOD] [URI] [VERSION]`.
    HttpChk {
        /// Method, URI and version as written (0 to 3 words).
        args: Vec<String>,
    },
    /// `option allbackups`.
    AllBackups,
    /// Another known option: accepted, not implemented (warning).
    Other {
        /// The option name.
        name: String,
        /// Its arguments.
        args: Vec<String>,
    },
}

impl OptionKind {
    /// The option's name.
    pub fn name(&self) -> &str {
        match self {
            Self::HttpLog { .. } => "httplog",
            Self::TcpLog => "tcplog",
            Self::DontLogNull => "dontlognull",
            Self::HttpServerClose => "http-server-close",
            Self::HttpClose => "httpclose",
            Self::HttpKeepAlive => "http-keep-alive",
            Self::ForwardFor(_) => "forwardfor",
            Self::Redispatch { .. } => "redispatch",
            Self::AbortOnClose => "abortonclose",
            Self::LogAsap => "logasap",
            Self::HttpChk { .. } => "httpchk",
            Self::AllBackups => "allbackups",
            Self::Other { name, .. } => name,
        }
    }
}

/// Arguments of `option forwardfor`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForwardFor {
    /// `except NET`: sources not given the header.
    pub except: Option<IpNet>,
    /// `header NAME` (default `X-Forwarded-For`).
    pub header: Option<String>,
    /// `if-none`: only when the request has no such header.
    pub if_none: bool,
}

/// An address with a prefix length (`127.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    /// The network address.
    pub addr: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// What a bind address or socket points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddress {
    /// An IP address and a port range (one port: `start == end`).
    Inet {
        /// The address (`0.0.0.0` for `:80` and `*:80`).
        ip: IpAddr,
        /// The ports.
        ports: RangeInclusive<u16>,
    },
    /// A unix stream socket path (`/path` or `unix@path`).
    Unix(PathBuf),
    /// An abstract unix socket (`abns@name`).
    Abstract(String),
    /// An inherited file descriptor (`fd@N`).
    Fd(u32),
}

/// One `bind` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// The addresses (comma-separated in the configuration).
    pub addresses: Vec<BindAddress>,
    /// Options after the addresses.
    pub options: BindOptions,
}

/// Options of a `bind` line (and of `stats socket`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindOptions {
    /// `name NAME`.
    pub name: Option<String>,
    /// `ssl`.
    pub ssl: bool,
    /// `crt PATH` (repeatable).
    pub crt: Vec<PathBuf>,
    /// `alpn LIST`.
    pub alpn: Option<String>,
    /// `accept-proxy`.
    pub accept_proxy: bool,
    /// `transparent`.
    pub transparent: bool,
    /// `v4v6`.
    pub v4v6: bool,
    /// `v6only`.
    pub v6only: bool,
    /// `maxconn N`.
    pub maxconn: Option<u32>,
    /// `interface NAME`.
    pub interface: Option<String>,
    /// Other known options, not implemented: name and argument.
    pub other: Vec<(String, Option<String>)>,
}

/// One `stats` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stats {
    /// `stats enable`.
    Enable,
    /// `stats uri PREFIX`.
    Uri(String),
    /// `stats realm REALM`.
    Realm(String),
    /// `stats auth USER:PASSWORD`.
    Auth {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// `stats admin if|unless COND`.
    Admin(Condition),
    /// `stats hide-version`.
    HideVersion,
    /// `stats refresh DELAY`.
    Refresh(Duration),
    /// `stats show-legends`.
    ShowLegends,
    /// `stats show-node [NAME]`.
    ShowNode(Option<String>),
    /// `stats show-desc [TEXT]`.
    ShowDesc(Option<String>),
    /// `stats scope NAME`.
    Scope(String),
}

/// `capture request|response header NAME len N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// Request (else response).
    pub request: bool,
    /// Header name.
    pub header: String,
    /// Maximum captured length.
    pub len: u32,
}

/// `acl NAME CRITERION ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// The ACL's name.
    pub name: String,
    /// Its expression, as parsed by `proxy_acl`.
    pub expr: AclExpr,
}

/// `use_backend NAME [if|unless COND]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseBackend {
    /// The backend (may contain a log-format expression, then not checked).
    pub backend: String,
    /// The condition, if any.
    pub condition: Option<Condition>,
}

pub use proxy_balance::{Algorithm, HashFunction, HashMethod, HashType, UriOptions};

/// `balance ALGORITHM [arguments]`: the balancer's own [`Algorithm`], plus
/// the one argument the balancer has no use for.
///
/// `rdp-cookie` without a name is read as `rdp-cookie(mstshash)`, and
/// `random` without draws as `random(2)`, HAProxy's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The algorithm and its arguments.
    pub algorithm: Algorithm,
    /// `url_param NAME check_post`: HAProxy also looks for the parameter in
    /// POST bodies.
    pub check_post: bool,
}

impl Balance {
    /// An algorithm without `check_post`.
    pub fn new(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            check_post: false,
        }
    }
}

/// `cookie NAME [rewrite|insert|prefix] [options]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Cookie name.
    pub name: String,
    /// The words after the name (`insert`, `indirect`, `nocache`, `domain D`...).
    pub options: Vec<String>,
}

/// What a server address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerHost {
    /// An IP address.
    Ip(IpAddr),
    /// A host name, resolved at start-up.
    Name(String),
    /// A unix socket.
    Unix(PathBuf),
}

/// The port part of a server address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerPort {
    /// No port: the client's destination port is used.
    Same,
    /// A fixed port.
    Fixed(u16),
    /// `+N` / `-N`: the client's destination port shifted.
    Offset(i32),
}

/// Address of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    /// Host part.
    pub host: ServerHost,
    /// Port part.
    pub port: ServerPort,
}

/// `server NAME ADDRESS [options]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Server name.
    pub name: String,
    /// Address.
    pub address: ServerAddress,
    /// Options written on the line (see [`Proxy::server_options`]).
    pub options: ServerOptions,
}

/// Options of `server` and `default-server`; `None` means not written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerOptions {
    /// `check` / `no-check`.
    pub check: Option<bool>,
    /// `inter`.
    pub inter: Option<Duration>,
    /// `fastinter`.
    pub fastinter: Option<Duration>,
    /// `downinter`.
    pub downinter: Option<Duration>,
    /// `rise`.
    pub rise: Option<u32>,
    /// `fall`.
    pub fall: Option<u32>,
    /// `port` (health checks).
    pub port: Option<u16>,
    /// `addr` (health checks).
    pub addr: Option<IpAddr>,
    /// `weight` (0 to 256).
    pub weight: Option<u32>,
    /// `maxconn`.
    pub maxconn: Option<u32>,
    /// `maxqueue`.
    pub maxqueue: Option<u32>,
    /// `minconn`.
    pub minconn: Option<u32>,
    /// `backup` / `no-backup`.
    pub backup: Option<bool>,
    /// `disabled` (`Some(false)` for `enabled`).
    pub disabled: Option<bool>,
    /// `cookie VALUE`.
    pub cookie: Option<String>,
    /// `send-proxy` / `no-send-proxy`.
    pub send_proxy: Option<bool>,
    /// `send-proxy-v2` / `no-send-proxy-v2`.
    pub send_proxy_v2: Option<bool>,
    /// `ssl` / `no-ssl`.
    pub ssl: Option<bool>,
    /// `verify none|required`.
    pub verify: Option<Verify>,
    /// `sni EXPR`.
    pub sni: Option<String>,
    /// `slowstart`.
    pub slowstart: Option<Duration>,
    /// `on-marked-down ACTION`.
    pub on_marked_down: Option<String>,
    /// Other known options, not implemented: name and argument.
    pub other: Vec<(String, Option<String>)>,
}

impl ServerOptions {
    /// Overlays `over` on `self`: every option written in `over` wins.
    pub fn merge(&mut self, over: &ServerOptions) {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f.clone(); } )* };
        }
        take!(
            check,
            inter,
            fastinter,
            downinter,
            rise,
            fall,
            port,
            addr,
            weight,
            maxconn,
            maxqueue,
            minconn,
            backup,
            disabled,
            cookie,
            send_proxy,
            send_proxy_v2,
            ssl,
            verify,
            sni,
            slowstart,
            on_marked_down
        );
        for (k, v) in &over.other {
            match self.other.iter_mut().find(|(n, _)| n == k) {
                Some(slot) => slot.1 = v.clone(),
                None => self.other.push((k.clone(), v.clone())),
            }
        }
    }
}

/// `verify` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// `none`.
    None,
    /// `required`.
    Required,
}

/// An `http-request` or `http-response` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRule {
    /// The action.
    pub action: HttpAction,
    /// `if` / `unless` condition.
    pub condition: Option<Condition>,
}

/// An HTTP rule action; the common ones typed, the rest kept as words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAction {
    /// `set-header NAME FMT`.
    SetHeader {
        /// Header name.
        name: String,
        /// Log-format value.
        value: String,
    },
    /// `add-header NAME FMT`.
    AddHeader {
        /// Header name.
        name: String,
        /// Log-format value.
        value: String,
    },
    /// `del-header NAME [-m METH]`.
    DelHeader {
        /// Header name.
        name: String,
        /// Match method (`str`, `beg`, `end`, `sub`, `reg`).
        method: Option<String>,
    },
    /// `replace-header NAME REGEX REPLACEMENT`.
    ReplaceHeader {
        /// Header name.
        name: String,
        /// Regular expression.
        regex: String,
        /// Replacement.
        replacement: String,
    },
    /// `set-path FMT`.
    SetPath(String),
    /// `set-query FMT`.
    SetQuery(String),
    /// `redirect ...`: the words after `redirect`.
    Redirect(Vec<String>),
    /// `deny [deny_status N] [...]`.
    Deny {
        /// `deny_status N`.
        status: Option<u16>,
        /// Other words (`content-type`, `string`...).
        args: Vec<String>,
    },
    /// `allow`.
    Allow,
    /// `return ...`: the words after `return`.
    Return(Vec<String>),
    /// `set-var(NAME) EXPR`.
    SetVar {
        /// Variable name with scope (`txn.foo`).
        name: String,
        /// Sample expression words.
        expr: Vec<String>,
    },
    /// `use-service NAME`.
    UseService(String),
    /// Any other action: name and words.
    Other {
        /// Action keyword.
        name: String,
        /// Arguments.
        args: Vec<String>,
    },
}

/// An `http-errors NAME` section: error pages that proxies import with
/// `errorfiles NAME [CODE...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpErrors {
    /// Its name.
    pub name: Spanned<String>,
    /// `errorfile CODE PATH`, by status code.
    pub errorfiles: BTreeMap<u16, Spanned<PathBuf>>,
}

/// A `userlist` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Userlist {
    /// Its name.
    pub name: Spanned<String>,
    /// `group NAME [users U,...]`.
    pub groups: Vec<Spanned<Group>>,
    /// `user NAME password|insecure-password X [groups G,...]`.
    pub users: Vec<Spanned<User>>,
}

/// A userlist group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Members listed with `users`.
    pub users: Vec<String>,
}

/// A userlist user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// User name.
    pub name: String,
    /// The password; `None` when the line gives none (HAProxy accepts such a
    /// user, who can never authenticate).
    pub password: Option<Password>,
    /// Groups listed with `groups`.
    pub groups: Vec<String>,
}

/// A user's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// `password HASH` (crypt(3) format).
    Hashed(String),
    /// `insecure-password TEXT`.
    Insecure(String),
}
