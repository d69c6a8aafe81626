//! haproxyd: flags, signals and wiring around the proxy-core engine.
//!
//! The binary parses HAProxy's command line, loads the configuration with
//! proxy-config and either reports on it (`-c`) or serves it. It
//! holds no proxy logic of its own.

mod flags;
mod version;

use std::io::Write as _;
use std::process::ExitCode;

use flags::{Flags, Mode};

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
    match &flags.mode {
        Mode::Version => printed(version::version()),
        Mode::BuildOptions => printed(version::build_options()),
        Mode::Check | Mode::Run | Mode::CheckCondition(_) => Outcome {
            stdout: Vec::new(),
            stderr: if flags.is_quiet() {
                Vec::new()
            } else {
                vec![format!(
                    "[ALERT]    ({}) : configuration loading is not wired in yet.",
                    std::process::id()
                )]
            },
            code: 1,
        },
    }
}

/// The lines to print and the exit code.
struct Outcome {
    stdout: Vec<String>,
    stderr: Vec<String>,
    code: u8,
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
