//! Writes a generated haproxy.cfg on stdout: `gen-haproxy-config SERVERS BACKENDS`
//! (default 300000 servers in 3000 backends). Used by config-load-vs-haproxy.sh.

use std::io::Write as _;
use std::process::ExitCode;

use benches::{ConfigShape, haproxy_config};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shape = match args.as_slice() {
        [] => ConfigShape::LARGE,
        [servers, backends] => match (servers.parse(), backends.parse()) {
            (Ok(servers), Ok(backends)) => ConfigShape { servers, backends },
            _ => return usage(),
        },
        _ => return usage(),
    };
    let text = haproxy_config(shape);
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen-haproxy-config: {err}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: gen-haproxy-config [SERVERS BACKENDS]");
    ExitCode::FAILURE
}
