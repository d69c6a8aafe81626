//! The runtime API served on `stats socket`s: binding the sockets (before
//! privileges are dropped, like the traffic listeners), one task per CLI
//! connection, and the execution of parsed [`crate::cli::Command`]s against
//! the live engine, with HAProxy 2.6's answers.
//!
//! Streams (client connections and CLI connections alike) are listed and
//! ended through the registry of [`super::streams`]; servers are added and
//! deleted by [`super::dynamic`].

use std::net::{SocketAddr, TcpListener as StdListener};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener as StdUnixListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proxy_config::{BindAddress, Config, StatsLevel};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::watch;

use super::Engine;
use super::check::CheckCode;
use super::error::EngineError;
use super::model::Runtime;
use super::servers::AdminState as ServerAdmin;
use super::stats_view::{self, AdminError};
use super::streams::Origin;
use crate::cli::{self, AdminState, Command, Format, Level};
use crate::stats;

/// How long a CLI connection may stay silent (HAProxy's `stats timeout`
/// default).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a `stats socket` listens.
#[derive(Debug, Clone)]
pub(crate) enum CliAddr {
    /// A unix stream socket.
    Unix(PathBuf),
    /// `ipv4@` / `ipv6@` TCP.
    Tcp(SocketAddr),
}

/// One `stats socket` line.
#[derive(Debug, Clone)]
pub(crate) struct CliSpec {
    addr: CliAddr,
    mode: Option<u32>,
    level: Level,
    at: String,
}

/// The `stats socket` lines of `config` (`level` defaults to admin for
/// unix sockets' owner in HAProxy 2.6, so do we; user elsewhere is not
/// HAProxy's default either: it is `admin` too since 2.0).
pub(crate) fn specs(config: &Config) -> Vec<CliSpec> {
    let mut out = Vec::new();
    for s in &config.global.stats_sockets {
        let level = match s.value.level {
            Some(StatsLevel::User) => Level::User,
            Some(StatsLevel::Operator) => Level::Operator,
            Some(StatsLevel::Admin) | None => Level::Admin,
        };
        let addr = match &s.value.address {
            BindAddress::Unix(p) => CliAddr::Unix(p.clone()),
            BindAddress::Inet { ip, ports } => CliAddr::Tcp(SocketAddr::new(*ip, *ports.start())),
            _ => continue,
        };
        out.push(CliSpec {
            addr,
            mode: s.value.mode,
            level,
            at: s.span.to_string(),
        });
    }
    out
}

/// A bound CLI socket.
#[derive(Debug)]
pub(crate) enum CliSocket {
    /// Unix stream socket.
    Unix(StdUnixListener),
    /// TCP socket.
    Tcp(StdListener),
}

/// A bound CLI socket and the level it grants.
#[derive(Debug)]
pub(crate) struct CliListener {
    socket: CliSocket,
    level: Level,
}

/// Binds every `stats socket`.
pub(crate) fn bind(rt: &Runtime) -> Result<Vec<CliListener>, EngineError> {
    let mut out = Vec::new();
    for s in &rt.stats.sockets {
        let err = |source: std::io::Error| EngineError::Cli {
            at: s.at.clone(),
            source,
        };
        let socket = match &s.addr {
            CliAddr::Unix(path) => {
                // As HAProxy does: bind under a temporary name, set the mode,
                // then rename over the final path, so the socket is never
                // reachable there with the default permissions, and a socket
                // left by a previous run is replaced at once.
                use std::os::unix::fs::FileTypeExt;
                if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_socket()) {
                    return Err(err(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "the path exists and is not a socket",
                    )));
                }
                let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
                tmp_name.push(format!(".{}.tmp", std::process::id()));
                let tmp = path.with_file_name(tmp_name);
                let _ = std::fs::remove_file(&tmp);
                let l = StdUnixListener::bind(&tmp).map_err(err)?;
                let placed = s
                    .mode
                    .map_or(Ok(()), |mode| {
                        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
                    })
                    .and_then(|()| std::fs::rename(&tmp, path));
                if let Err(e) = placed {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(err(e));
                }
                l.set_nonblocking(true).map_err(err)?;
                CliSocket::Unix(l)
            }
            CliAddr::Tcp(a) => {
                let l = StdListener::bind(a).map_err(err)?;
                l.set_nonblocking(true).map_err(err)?;
                CliSocket::Tcp(l)
            }
        };
        out.push(CliListener {
            socket,
            level: s.level,
        });
    }
    Ok(out)
}

/// Serves the CLI sockets until `stop` turns true.
pub(crate) fn spawn(rt: &Arc<Runtime>, listeners: Vec<CliListener>, stop: &watch::Receiver<bool>) {
    for (rank, l) in listeners.into_iter().enumerate() {
        let rank = rank + 1;
        let rt = Arc::clone(rt);
        let mut stop = stop.clone();
        let level = l.level;
        match l.socket {
            CliSocket::Unix(s) => {
                let Ok(listener) = tokio::net::UnixListener::from_std(s) else {
                    continue;
                };
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = stop.wait_for(|s| *s) => return,
                            a = listener.accept() => if let Ok((sock, _)) = a {
                                let origin = Origin::Cli { socket: rank, src: None };
                                let fd = sock.as_raw_fd();
                                tokio::spawn(session(Arc::clone(&rt), (origin, fd), sock, level));
                            },
                        }
                    }
                });
            }
            CliSocket::Tcp(s) => {
                let Ok(listener) = tokio::net::TcpListener::from_std(s) else {
                    continue;
                };
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = stop.wait_for(|s| *s) => return,
                            a = listener.accept() => if let Ok((sock, peer)) = a {
                                let origin = Origin::Cli { socket: rank, src: Some(peer) };
                                let fd = sock.as_raw_fd();
                                tokio::spawn(session(Arc::clone(&rt), (origin, fd), sock, level));
                            },
                        }
                    }
                });
            }
        }
    }
}

/// One CLI connection, registered as a stream (`show sess` lists it and
/// `shutdown session` ends it as HAProxy's).
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    rt: Arc<Runtime>,
    (origin, fd): (Origin, i32),
    sock: S,
    level: Level,
) {
    let registry = Arc::clone(&rt);
    let stream = registry.streams.register(origin, Some(fd));
    stream
        .run(&registry.streams, serve_cli(rt, sock, level))
        .await;
}

/// Lines in, answers out. Without `prompt`, the connection closes after
/// the first line, as HAProxy's does.
async fn serve_cli<S: AsyncRead + AsyncWrite + Unpin>(rt: Arc<Runtime>, sock: S, level: Level) {
    let (rd, mut wr) = tokio::io::split(sock);
    let mut rd = BufReader::new(rd);
    let mut state = CliState {
        level,
        prompt: false,
        quit: false,
    };
    let mut line = String::new();
    loop {
        line.clear();
        let read = tokio::time::timeout(DEFAULT_TIMEOUT, rd.read_line(&mut line)).await;
        match read {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
        let mut out = execute_line(&rt, &line, &mut state);
        if state.prompt && !state.quit {
            out.push_str("> ");
        }
        if wr.write_all(out.as_bytes()).await.is_err() {
            return;
        }
        let _ = wr.flush().await;
        if state.quit || !state.prompt {
            let _ = wr.shutdown().await;
            return;
        }
    }
}

/// A CLI session's state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CliState {
    /// Current level.
    pub(crate) level: Level,
    /// Interactive mode.
    pub(crate) prompt: bool,
    /// `quit` was asked.
    pub(crate) quit: bool,
}

/// Runs every command of one line; each answer ends with an empty line.
pub(crate) fn execute_line(rt: &Arc<Runtime>, line: &str, st: &mut CliState) -> String {
    let mut out = String::new();
    for words in cli::split_line(line) {
        let answer = match cli::parse(&words, st.level) {
            Err(msg) => msg,
            Ok(cmd) if cli::required_level(&cmd) > st.level => cli::PERMISSION_DENIED.into(),
            Ok(Command::Prompt) => {
                st.prompt = !st.prompt;
                // Entering prompt mode answers nothing but the prompt.
                out.push('\n');
                continue;
            }
            Ok(Command::Quit) => {
                st.quit = true;
                return out;
            }
            Ok(cmd) => execute(rt, &cmd, st),
        };
        out.push_str(&answer);
        out.push('\n');
    }
    out
}

fn admin(r: Result<(), AdminError>) -> String {
    match r {
        Ok(()) => String::new(),
        Err(e) => format!("{}\n", e.message()),
    }
}

/// HAProxy 2.6's number for a check status in `show servers state` (its
/// `HCHK_STATUS_*` order); 1, "initialising", before the first check.
fn check_status_number(code: CheckCode) -> u8 {
    match code {
        CheckCode::SockErr => 5,
        CheckCode::L4Ok => 6,
        CheckCode::L4Timeout => 7,
        CheckCode::L4Con => 8,
        CheckCode::L7Timeout => 12,
        CheckCode::L7Response => 13,
        CheckCode::L7Ok => 15,
        CheckCode::L7Status => 17,
    }
}

/// `show servers state` rows; the check columns give the last check's
/// status and result (2 failed, 3 passed; 1 and 0 before any check).
fn servers_state(rt: &Arc<Runtime>, only: Option<&str>) -> String {
    let mut out = String::from(
        "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n",
    );
    for sref in rt_handle(rt).servers() {
        if only.is_some_and(|o| o != sref.backend()) {
            continue;
        }
        let iid = rt.stats.proxy_id(sref.backend()).unwrap_or(0);
        let st = sref.status();
        // HAProxy's numbers: operational 0 stopped / 2 running; admin
        // bits 1 forced maintenance, 4 `disabled` in the configuration
        // (kept once enabled), 8 forced drain.
        let op = if st.admin == ServerAdmin::Maint || !st.up {
            0
        } else {
            2
        };
        let adm = match st.admin {
            ServerAdmin::Maint => 1,
            ServerAdmin::Drain => 8,
            _ => 0,
        } | if st.config_maint { 4 } else { 0 };
        let addr = sref.addr();
        let (chk_status, chk_result) = st.last_check.as_ref().map_or((1, 0), |c| {
            (
                check_status_number(c.code),
                if c.code.passed() { 3 } else { 2 },
            )
        });
        // HAProxy's `port` keyword sets the agent's port too.
        let port = st.check_port;
        // HAProxy's CHK_ST_* bits: 2 configured, 4 enabled, 8 paused (a
        // server `disabled` without checks is paused too).
        let chk_state = if st.check_configured { 2 } else { 0 }
            | if st.check_enabled { 4 } else { 0 }
            | if st.check_paused { 8 } else { 0 };
        out.push_str(&format!(
            "{iid} {} {} {} {} {op} {adm} {} {} {} {chk_status} {chk_result} {} {chk_state} 0 0 0 - {} - 0 {port} - - {port}\n",
            sref.backend(),
            sref.id(),
            sref.name(),
            addr.ip(),
            st.weight,
            st.initial_weight,
            st.since_change.as_secs(),
            st.check_health,
            addr.port(),
        ));
    }
    out
}

/// `show errors [PROXY] [request|response]`: PROXY is a name or a
/// numeric id, `-1` for all.
fn show_errors(rt: &Arc<Runtime>, args: &[String]) -> String {
    let mut only = None;
    let mut requests = true;
    for a in args {
        match a.as_str() {
            "request" => requests = true,
            "response" => requests = false,
            "-1" => {}
            p => only = Some(p),
        }
    }
    let proxies: Vec<(String, u32)> = rt
        .frontends
        .iter()
        .filter_map(|f| Some((f.name.clone(), rt.stats.proxy_id(&f.name)?)))
        .filter(|(name, iid)| only.is_none_or(|p| p == name || p == iid.to_string()))
        .collect();
    if let Some(p) = only {
        let known = rt.stats.proxy_id(p).is_some()
            || p.parse::<u32>()
                .is_ok_and(|n| rt.stats.proxy_name(n).is_some());
        if !known {
            return "No such proxy.\n".into();
        }
    }
    rt.errors.show(&proxies, requests)
}

/// `show sess [ID|all]`: the list, every stream in detail, or one.
fn show_sess(rt: &Arc<Runtime>, arg: Option<&str>) -> String {
    let ids = |name: &str| rt.stats.proxy_id(name);
    match arg {
        Some("all") => rt.streams.show_all(&ids),
        // Like HAProxy, an argument that reads as no id lists them all.
        Some(a) if cli::pointer_value(a) != 0 => match rt.streams.find(cli::pointer_value(a)) {
            Some(s) => {
                let mut out = String::new();
                s.write_detail(&mut out, &ids);
                out
            }
            None => "Session not found.\n".into(),
        },
        _ => rt.streams.show(),
    }
}

fn rt_handle(rt: &Arc<Runtime>) -> super::servers::EngineHandle {
    super::servers::EngineHandle::new(Arc::clone(rt))
}

/// Runs one command at `st.level` (already checked).
fn execute(rt: &Arc<Runtime>, cmd: &Command, st: &mut CliState) -> String {
    match cmd {
        Command::Help(words) => cli::help(st.level, words),
        Command::Prompt | Command::Quit => String::new(),
        Command::Lower(l) => {
            st.level = st.level.min(*l);
            String::new()
        }
        Command::ShowCliLevel => format!("{}\n", st.level.name()),
        Command::ShowActivity => rt.activity.render(std::time::SystemTime::now()),
        Command::ShowInfo(f) => {
            let s = stats_view::snapshot(rt);
            match f {
                Format::Plain => stats::render_info(&s.info),
                Format::Typed => stats::render_info_typed(&s.info),
                Format::Json => stats::render_info_json(&s.info),
            }
        }
        Command::ShowStat {
            format,
            proxy,
            types,
            server,
            up,
            no_maint,
        } => {
            let s = stats_view::snapshot(rt);
            let pid: i64 = match proxy.parse::<i64>() {
                Ok(n) => n,
                Err(_) => match s.rows.iter().find(|r| r.pxname() == proxy) {
                    Some(r) => i64::from(r.proxy_id),
                    None => return "No such proxy.\n".into(),
                },
            };
            let rows: Vec<&stats::Row> = s
                .filtered(pid, *types, *server)
                .filter(|r| {
                    let st = r.text(stats::col::STATUS);
                    r.obj != stats::ObjType::Server
                        || !(*no_maint && st.starts_with("MAINT")
                            || *up
                                && !(st.starts_with("UP")
                                    || st == "no check"
                                    || st.starts_with("DRAIN")))
                })
                .collect();
            match format {
                Format::Plain => stats::render_csv(rows),
                Format::Typed => stats::render_stat_typed(rows),
                Format::Json => stats::render_stat_json(rows),
            }
        }
        Command::ShowServersState(b) => {
            if let Some(b) = b {
                if !rt.backends.iter().any(|x| &x.name == b) {
                    return "Can't find backend.\n".into();
                }
            }
            servers_state(rt, b.as_deref())
        }
        Command::ShowBackend => {
            let mut out = String::from("# name\n");
            for b in &rt.backends {
                out.push_str(&b.name);
                out.push('\n');
            }
            out
        }
        Command::ShowSess(arg) => show_sess(rt, arg.as_deref()),
        Command::ShutdownSession(arg) => {
            let id = arg.as_deref().map_or(0, cli::pointer_value);
            if id == 0 {
                return "Session pointer expected (use 'show sess').\n".into();
            }
            match rt.streams.find(id) {
                Some(s) => {
                    s.shutdown();
                    String::new()
                }
                None => "No such session (use 'show sess').\n".into(),
            }
        }
        Command::ShowErrors(args) => show_errors(rt, args),
        Command::DisableServer(b, s) => admin(stats_view::set_state(rt, b, s, ServerAdmin::Maint)),
        Command::EnableServer(b, s) => admin(stats_view::set_state(rt, b, s, ServerAdmin::Ready)),
        Command::SetState(b, s, a) => {
            let state = match a {
                AdminState::Ready => ServerAdmin::Ready,
                AdminState::Drain => ServerAdmin::Drain,
                AdminState::Maint => ServerAdmin::Maint,
            };
            admin(stats_view::set_state(rt, b, s, state))
        }
        Command::SetWeight(b, s, w) => admin(stats_view::set_weight(rt, b, s, w)),
        Command::GetWeight(b, s) => match stats_view::weights(rt, b, s) {
            Ok((w, i)) => format!("{w} (initial {i})\n"),
            Err(e) => format!("{}\n", e.message()),
        },
        Command::SetMaxconnServer(b, s, v) => match stats_view::server_ref(rt, b, s) {
            Err(e) => format!("{}\n", e.message()),
            Ok(sref) => match cli::maxconn_value(v) {
                Err(msg) => msg,
                Ok(n) => {
                    sref.set_maxconn(n);
                    String::new()
                }
            },
        },
        Command::SetMaxconnFrontend(f, v) => {
            let Some(fe) = rt.frontends.iter().find(|x| &x.name == f) else {
                return "No such frontend.\n".into();
            };
            let Ok(v) = v.parse::<u32>() else {
                return "Integer value expected.\n".into();
            };
            stats_view::set_frontend_maxconn(rt, fe, v)
        }
        Command::Health(b, s, on) => admin(stats_view::set_checks(rt, b, s, *on)),
        Command::ShutdownSessions(b, s) => match stats_view::server_ref(rt, b, s) {
            Err(e) => format!("{}\n", e.message()),
            Ok(sref) => {
                sref.shutdown_sessions(&rt.streams);
                String::new()
            }
        },
        Command::AddServer(b, s, args) => super::dynamic::add_server(rt, b, s, args),
        Command::DelServer(b, s) => super::dynamic::del_server(rt, b, s),
    }
}

impl Engine {
    /// Runs one runtime API line (commands separated by `;`) at `level`, as
    /// a non-interactive `stats socket` connection would, and returns the
    /// answer. `prompt` and `quit` have no effect here.
    pub fn cli_execute(&self, line: &str, level: Level) -> String {
        let mut st = CliState {
            level,
            prompt: false,
            quit: false,
        };
        execute_line(&self.rt, line, &mut st)
    }
}
