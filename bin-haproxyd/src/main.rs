//! haproxyd: flags, signals and wiring around the proxy-core engine.
//!
//! The binary parses HAProxy's command line, loads the configuration with
//! proxy-config and either reports on it (`-c`) or hands it to [`run`]. It
//! holds no proxy logic of its own.

mod flags;
mod inherited;
mod report;
mod version;

use std::io::Write as _;
use std::process::ExitCode;

use flags::{DebugFlag, Flags, Mode};
use proxy_config::Config;
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
                Ok(loaded) => report::startup(loaded, &options, |config| run(config, flags)),
                Err(errors) => report::load_failure(&errors, &options),
            }
        }
    }
}

/// Serves a validated configuration until told to stop.
///
/// This is the seam where the proxy-core engine is started; this build has
/// no engine wired in yet, so it refuses to serve rather than pretend to.
fn run(config: Config, flags: &Flags) -> Result<(), String> {
    let _ = (config, flags);
    Err(
        "serving is not available in this build of haproxyd; use -c to check a configuration."
            .to_owned(),
    )
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
