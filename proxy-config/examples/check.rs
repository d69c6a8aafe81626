//! Loads configuration files and prints the diagnostics, like `haproxy -c`.
//! Used to time the loader on large generated files.

use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    match proxy_config::load(&paths) {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("{w}");
            }
            let servers: usize = l.config.proxies.iter().map(|p| p.servers.len()).sum();
            println!(
                "valid: {} proxies, {servers} servers",
                l.config.proxies.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
