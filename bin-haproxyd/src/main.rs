//! haproxyd: flags, signals and wiring around the proxy-core engine.
//!
//! The binary parses HAProxy's command line, loads the configuration with
//! proxy-config and either reports on it (`-c`) or hands it to [`run`]. It
//! holds no proxy logic of its own.

mod daemon;
mod flags;
mod inherited;
mod privileges;
mod report;
mod serve;
mod version;

use std::io::Write as _;
use std::process::ExitCode;

use flags::{DebugFlag, Flags, Mode};
use proxy_config::Loaded;
use report::Outcome;

fn main() -> ExitCode {
    let program = std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "haproxyd".to_owned());
    let flags = match flags::parse(std::env::args_os().skip(1)) {
        Ok(flags) => flags,
        Err(err) => {
            // HAProxy prints its version on stdout and the usage on stderr.
            print!("{}", version::version());
            eprintln!("{program}: {err}");
            eprint!("{}", flags::usage(&program));
            return ExitCode::from(1);
        }
    };
    let outcome = dispatch(&flags);
    emit(&outcome);
    ExitCode::from(outcome.code)
}

fn dispatch(flags: &Flags) -> Outcome {
    let options = report::Options {
        pid: std::process::id(),
        executable: std::env::current_exe()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|_| "haproxyd".to_owned()),
        quiet: flags.is_quiet(),
        zero_warning: flags.debug.contains(&DebugFlag::ZeroWarning),
    };
    match &flags.mode {
        Mode::Version => printed(version::version()),
        Mode::BuildOptions => printed(version::build_options()),
        Mode::CheckCondition(_) => report::alert(
            "-cc: evaluating conditions is not supported by this build.",
            &options,
        ),
        Mode::Check | Mode::Run => {
            // Where the process started, for a background copy of it.
            let start_dir = std::env::current_dir().ok();
            if let Some(dir) = &flags.chdir {
                if let Err(err) = std::env::set_current_dir(dir) {
                    return report::alert(
                        &format!("Cannot change to directory '{}' : {err}", dir.display()),
                        &options,
                    );
                }
            }
            let result = inherited::check(proxy_config::load(&flags.config_paths));
            if flags.mode == Mode::Check {
                return report::check(&result, &options);
            }
            match result {
                Ok(loaded) => start(loaded, flags, &options, start_dir),
                Err(errors) => report::load_failure(&errors, &options),
            }
        }
    }
}

/// Starts serving a loaded configuration, in the background when asked to
/// (`daemon` or `-D`, unless `-d` or `-db` keep it in the foreground).
fn start(
    loaded: Loaded,
    flags: &Flags,
    options: &report::Options,
    start_dir: Option<std::path::PathBuf>,
) -> Outcome {
    let foreground = flags
        .debug
        .iter()
        .any(|flag| matches!(flag, DebugFlag::Debug | DebugFlag::NoBackground));
    let background = !foreground && (flags.daemon || loaded.config.global.daemon.is_some());
    if background && !daemon::is_child() {
        let args: Vec<_> = std::env::args_os().skip(1).collect();
        let cwd = start_dir.unwrap_or_else(|| std::path::PathBuf::from("/"));
        return match daemon::spawn(&args, &cwd) {
            Ok(code) => Outcome {
                code,
                ..Outcome::default()
            },
            Err(text) => report::alert(&text, options),
        };
    }
    if daemon::is_child() {
        if let Err(text) = daemon::detach() {
            return report::alert(&text, options);
        }
    }
    // Runtime problems the engine reports through tracing (accept errors)
    // go to stderr; a daemon's stderr is /dev/null, as HAProxy's is.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .try_init();
    let mut stderr = std::io::stderr();
    let mut console = report::Console::new(options, &mut stderr);
    let code = report::startup(loaded, &mut console, |config, console| {
        serve::run(config, flags, console)
    });
    Outcome {
        code,
        ..Outcome::default()
    }
}

fn printed(text: String) -> Outcome {
    Outcome {
        stdout: text.lines().map(str::to_owned).collect(),
        stderr: Vec::new(),
        code: 0,
    }
}

fn emit(outcome: &Outcome) {
    // A closed stdout or stderr is not worth a panic: the exit code still
    // tells the result.
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    for line in &outcome.stderr {
        let _ = writeln!(stderr, "{line}");
    }
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    for line in &outcome.stdout {
        let _ = writeln!(stdout, "{line}");
    }
}
