//! Serving a configuration, in HAProxy's order: compile it into a
//! proxy-core engine and print the engine's warnings; bind every listener
//! (asking the processes named by `-sf`/`-st` to stop once bound); write the
//! pid file; enter the chroot and drop privileges; then run the engine on
//! `nbthread` threads until a signal stops it.
//!
//! Each thread runs its own current-thread runtime and accepts on its own
//! sockets (see [`Engine::bind_sibling`]); the main thread also answers
//! signals and runs the health checks and the `stats socket`s. Work never
//! moves between threads, so a request costs no cross-thread wake-up.
//!
//! Signals, as HAProxy handles them: SIGTERM and SIGINT stop at once,
//! SIGUSR1 stops gracefully (listeners close, sessions in progress finish),
//! SIGHUP is ignored, SIGTTOU pauses the listeners and SIGTTIN resumes them.
//!
//! Replacing a running process (`-sf`/`-st`): listeners are bound with
//! `SO_REUSEPORT`, so the new process binds beside the old ones and only
//! then tells them to stop, and no connection is refused in between. When
//! the bind still finds the address busy (`-dR`, or old processes that did
//! not set `SO_REUSEPORT`), HAProxy's older protocol takes over: the old
//! processes are asked to pause (SIGTTOU) while the new one retries, and to
//! resume (SIGTTIN) if it gives up.

use std::io::Write as _;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use proxy_config::{Config, Span, Spanned};
use proxy_core::engine::{Engine, EngineError, Listeners};
use tokio::signal::unix::{SignalKind, signal};

use crate::daemon;
use crate::flags::{DebugFlag, Flags};
use crate::privileges::Plan;
use crate::report::{Console, Tag, prefix};

/// How long a new process keeps retrying a busy address after asking the
/// old processes to pause, as HAProxy does (100 tries, 10 ms apart).
const REBIND_ATTEMPTS: u32 = 100;
const REBIND_PAUSE: Duration = Duration::from_millis(10);

/// Serves `config` until a signal stops it. `Err` is the alert to print.
pub(crate) fn run(
    mut config: Config,
    flags: &Flags,
    console: &mut Console<'_>,
) -> Result<(), String> {
    apply_command_line(&mut config, flags);
    if flags.master_worker {
        console.push(
            Tag::Warning,
            "master-worker mode (-W, -Ws) is not supported; running as a single process.",
        );
    }
    let engine = Engine::build(&config).map_err(|err| format!("config : {err}"))?;
    // Server state changes go to stderr in the foreground, as HAProxy's do;
    // not with -q, and not in the background, whose stderr is /dev/null.
    engine.set_console_notices(!flags.quiet && !daemon::is_child());
    engine.set_reuse_port(!flags.debug.contains(&DebugFlag::NoReuseport));
    for warning in engine.warnings() {
        console.push(Tag::Warning, &format!("config : {warning}"));
    }
    let plan = Plan::resolve(&config.global)?;
    let runtime = new_runtime()?;
    // Handlers go in before binding: a signal sent as soon as the port
    // answers (by a script, or by the next `-sf`) must not kill the process.
    let signals = {
        let _context = runtime.enter();
        Signals::install()?
    };
    let listeners = bind(&engine, flags)?;
    // The other threads' sockets are bound now too, before privileges go.
    let mut others = Vec::new();
    for _ in 1..engine.nbthread() {
        let sockets = engine
            .bind_sibling(&listeners)
            .map_err(|err| format!("{err}"))?;
        others.push((new_runtime()?, sockets));
    }
    tell_old_processes(&flags.soft_stop, Signal::SIGUSR1);
    tell_old_processes(&flags.hard_stop, Signal::SIGTERM);
    let frontends: Vec<String> = config
        .frontends()
        .filter(|p| !p.binds.is_empty())
        .map(|p| p.name.value.clone())
        .collect();
    let pidfile = flags
        .pidfile
        .as_ref()
        .or(config.global.pidfile.as_ref().map(|p| &p.value));
    if let Some(path) = pidfile {
        std::fs::write(path, format!("{}\n", std::process::id())).map_err(|err| {
            format!(
                "[haproxyd.main()] Cannot create pidfile {} : {err}.",
                path.display()
            )
        })?;
    }
    let null = if daemon::is_child() {
        Some(daemon::open_null()?)
    } else {
        None
    };
    // setuid, setgid and setgroups apply to every thread of the process
    // (the C library relays them), so the workers started above drop too.
    plan.apply()?;
    let pid = std::process::id();
    let workers = Workers::start(&engine, others)?;
    let result = runtime.block_on(serve(
        engine, listeners, signals, null, pid, &frontends, workers,
    ));
    // A hard stop leaves sessions behind: do not wait for them (the other
    // threads end with the process).
    runtime.shutdown_background();
    result
}

/// A runtime for one thread.
fn new_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("[haproxyd.main()] Cannot start the worker threads : {err}."))
}

/// The threads beyond the first, each serving its own listeners.
struct Workers {
    /// Turned true on a soft stop; dropped, it stops them too.
    stop: tokio::sync::watch::Sender<bool>,
    /// One message per thread when it ends: `Err` if it could not serve.
    done: tokio::sync::mpsc::UnboundedReceiver<Result<(), String>>,
    /// How many threads were started.
    count: usize,
}

impl Workers {
    /// Starts one thread per runtime and listener set. The threads serve
    /// until `stop` turns true (or is dropped), then finish their sessions.
    fn start(
        engine: &Engine,
        others: Vec<(tokio::runtime::Runtime, Listeners)>,
    ) -> Result<Workers, String> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (done_tx, done) = tokio::sync::mpsc::unbounded_channel();
        let count = others.len();
        for (runtime, sockets) in others {
            let engine = engine.clone();
            let mut stopped = stopped.clone();
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name("haproxyd-worker".to_owned())
                .spawn(move || {
                    let result = runtime.block_on(engine.serve_accepting(sockets, async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    }));
                    let _ = done_tx.send(result.map_err(|err| format!("{err}")));
                    // The runtime keeps running until the process ends: a
                    // server connection opened here may sit in a shared
                    // idle pool and serve another thread, whose readiness
                    // this runtime's reactor still reports.
                    runtime.block_on(std::future::pending::<()>());
                })
                .map_err(|err| {
                    format!("[haproxyd.main()] Cannot start the worker threads : {err}.")
                })?;
        }
        Ok(Workers { stop, done, count })
    }

    /// Resolves when every thread has ended, or at once with the error of
    /// the first one that could not serve.
    async fn finished(
        done: &mut tokio::sync::mpsc::UnboundedReceiver<Result<(), String>>,
        mut count: usize,
    ) -> Result<(), String> {
        while count > 0 {
            match done.recv().await {
                Some(result) => {
                    count -= 1;
                    result?;
                }
                None => break,
            }
        }
        Ok(())
    }
}

/// `-n` replaces the global `maxconn`; `-N` gives one to the frontends
/// that set none, as HAProxy's command line does.
fn apply_command_line(config: &mut Config, flags: &Flags) {
    let span = || Span {
        file: "command line".into(),
        line: 0,
        column: 0,
    };
    if let Some(n) = flags.maxconn {
        config.global.maxconn = Some(Spanned::new(n, span()));
    }
    if let Some(n) = flags.default_maxconn {
        for proxy in &mut config.proxies {
            if proxy.kind.is_frontend() && proxy.maxconn.is_none() {
                proxy.maxconn = Some(Spanned::new(n, span()));
            }
        }
    }
}

/// Binds every listener. An address still busy although old processes
/// are being replaced (they or this process do not use `SO_REUSEPORT`) is
/// retried after asking them to pause; if it stays busy, they are asked to
/// resume and the error is returned.
fn bind(engine: &Engine, flags: &Flags) -> Result<Listeners, String> {
    let busy = |err: &EngineError| {
        matches!(err, EngineError::Bind { source, .. }
            if source.kind() == std::io::ErrorKind::AddrInUse)
    };
    let old: Vec<u32> = flags
        .soft_stop
        .iter()
        .chain(&flags.hard_stop)
        .copied()
        .collect();
    let mut last = match engine.bind() {
        Ok(listeners) => return Ok(listeners),
        Err(err) if !old.is_empty() && busy(&err) => err,
        Err(err) => return Err(format!("{err}")),
    };
    tell_old_processes(&old, Signal::SIGTTOU);
    for _ in 0..REBIND_ATTEMPTS {
        std::thread::sleep(REBIND_PAUSE);
        match engine.bind() {
            Ok(listeners) => return Ok(listeners),
            Err(err) if busy(&err) => last = err,
            Err(err) => {
                last = err;
                break;
            }
        }
    }
    tell_old_processes(&old, Signal::SIGTTIN);
    Err(format!("{last}"))
}

/// Sends `signal` to each pid. A pid that is gone is not an error, as in
/// HAProxy; 0 and values beyond `pid_t` are skipped since `kill` would read
/// them as process groups.
fn tell_old_processes(pids: &[u32], signal: Signal) {
    for &pid in pids {
        if let Ok(raw) = i32::try_from(pid) {
            if raw > 0 {
                let _ = kill(Pid::from_raw(raw), signal);
            }
        }
    }
}

/// The signals the process answers to.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    soft: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
    pause: tokio::signal::unix::Signal,
    resume: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers; needs a runtime context.
    fn install() -> Result<Signals, String> {
        let handler = |kind: SignalKind| {
            signal(kind).map_err(|err| {
                format!("[haproxyd.main()] Cannot install the signal handlers : {err}.")
            })
        };
        Ok(Signals {
            terminate: handler(SignalKind::terminate())?,
            interrupt: handler(SignalKind::interrupt())?,
            soft: handler(SignalKind::user_defined1())?,
            hangup: handler(SignalKind::hangup())?,
            pause: handler(SignalKind::from_raw(Signal::SIGTTOU as i32))?,
            resume: handler(SignalKind::from_raw(Signal::SIGTTIN as i32))?,
        })
    }
}

/// Runs the engine until a signal stops it; a soft stop ends once every
/// thread's sessions have finished.
async fn serve(
    engine: Engine,
    listeners: Listeners,
    signals: Signals,
    null: Option<std::fs::File>,
    pid: u32,
    frontends: &[String],
    workers: Workers,
) -> Result<(), String> {
    let Signals {
        mut terminate,
        mut interrupt,
        mut soft,
        mut hangup,
        mut pause,
        mut resume,
    } = signals;
    if let Some(null) = null {
        daemon::ready(null)?;
    }
    let handle = engine.handle();
    let Workers {
        stop,
        mut done,
        count,
    } = workers;
    let serving = async {
        let this_thread = async {
            engine
                .serve(listeners, async move {
                    let _ = soft.recv().await;
                    let _ = stop.send(true);
                })
                .await
                .map_err(|err| format!("{err}"))
        };
        tokio::try_join!(this_thread, Workers::finished(&mut done, count)).map(|_| ())
    };
    tokio::pin!(serving);
    loop {
        tokio::select! {
            result = &mut serving => return result,
            _ = terminate.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
            _ = hangup.recv() => {}
            _ = pause.recv() => {
                if handle.pause_listeners() {
                    for name in frontends {
                        warn(pid, &format!("Paused frontend {name}."));
                    }
                }
            }
            _ = resume.recv() => {
                if handle.resume_listeners() {
                    for name in frontends {
                        warn(pid, &format!("Resumed frontend {name}."));
                    }
                }
            }
        }
    }
}

fn warn(pid: u32, text: &str) {
    let _ = writeln!(std::io::stderr(), "{}{text}", prefix(Tag::Warning, pid));
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "global\n    maxconn 100\n\
                          defaults\n    mode http\n    timeout connect 5s\n    \
                          timeout client 30s\n    timeout server 30s\n\
                          frontend a\n    bind :80\n    default_backend app\n\
                          frontend b\n    bind :81\n    maxconn 7\n    default_backend app\n\
                          backend app\n    server a1 127.0.0.1:8001\n";

    fn maxconns(config: &Config) -> (Option<u32>, Vec<Option<u32>>) {
        (
            config.global.maxconn.as_ref().map(|m| m.value),
            config
                .proxies
                .iter()
                .map(|p| p.maxconn.as_ref().map(|m| m.value))
                .collect(),
        )
    }

    #[test]
    fn command_line_maxconn_overrides_the_configuration() {
        let mut config = proxy_config::parse_str("t.cfg", CONFIG, &|_| None)
            .unwrap()
            .config;
        apply_command_line(&mut config, &Flags::default());
        assert_eq!(maxconns(&config), (Some(100), vec![None, Some(7), None]));
        let flags = Flags {
            maxconn: Some(50),
            default_maxconn: Some(20),
            ..Flags::default()
        };
        apply_command_line(&mut config, &flags);
        // The backend takes no maxconn; frontend b keeps its own.
        assert_eq!(maxconns(&config), (Some(50), vec![Some(20), Some(7), None]));
    }
}
