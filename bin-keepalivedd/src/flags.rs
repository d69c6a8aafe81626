//! Command-line flags, parsed the way keepalived's getopt_long does: short
//! options may be bundled (`-tlD`) and take their value attached (`-fFILE`)
//! or as the next word; long options take `--opt=VALUE` or `--opt VALUE`,
//! except `--config-test`, whose log file may only be attached.

use std::path::PathBuf;

/// keepalived's default configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Run the daemon.
    Run,
    /// `-t`: check the configuration; `Some(file)` writes the report there.
    ConfigTest(Option<PathBuf>),
    /// `-v`.
    Version,
    /// `-h`.
    Help,
}

/// Parsed flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    /// What to do.
    pub mode: Mode,
    /// `-f`: the configuration file.
    pub config: PathBuf,
    /// `-l`: log to the console.
    pub log_console: bool,
    /// `-D`: detailed log messages.
    pub log_detail: bool,
    /// `-n`: stay in the foreground.
    pub dont_fork: bool,
    /// `-P`: VRRP subsystem only (the only one there is).
    pub vrrp_only: bool,
    /// `-p`: the main pid file.
    pub pid_file: Option<PathBuf>,
    /// `-r`: the VRRP process pid file.
    pub vrrp_pid_file: Option<PathBuf>,
    /// `-g`: also log to this file.
    pub log_file: Option<PathBuf>,
}

impl Default for Flags {
    fn default() -> Self {
        Self {
            mode: Mode::Run,
            config: PathBuf::from(DEFAULT_CONFIG),
            log_console: false,
            log_detail: false,
            dont_fork: false,
            vrrp_only: false,
            pid_file: None,
            vrrp_pid_file: None,
            log_file: None,
        }
    }
}

/// Usage text for `-h`.
pub const USAGE: &str = "\
Usage: keepalivedd [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file
                                default '/etc/keepalived/keepalived.conf'
  -P, --vrrp                   Only run with VRRP subsystem
  -l, --log-console            Log messages to local console
  -D, --log-detail             Detailed log messages
  -n, --dont-fork              Don't fork the daemon process
  -p, --pid=FILE               Use specified pidfile for parent process
  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process
  -g, --log-file=FILE          Also log to FILE
  -t, --config-test[=LOG_FILE] Check the configuration for obvious errors, output to
                                stderr by default
  -v, --version                Display the version number
  -h, --help                   Display this help message
";

#[derive(Clone, Copy)]
enum Opt {
    File,
    ConfigTest,
    LogConsole,
    LogDetail,
    DontFork,
    Vrrp,
    Pid,
    VrrpPid,
    LogFile,
    Version,
    Help,
}

impl Opt {
    fn short(c: char) -> Option<Opt> {
        Some(match c {
            'f' => Opt::File,
            't' => Opt::ConfigTest,
            'l' => Opt::LogConsole,
            'D' => Opt::LogDetail,
            'n' => Opt::DontFork,
            'P' => Opt::Vrrp,
            'p' => Opt::Pid,
            'r' => Opt::VrrpPid,
            'g' => Opt::LogFile,
            'v' => Opt::Version,
            'h' => Opt::Help,
            _ => return None,
        })
    }

    fn long(s: &str) -> Option<Opt> {
        Some(match s {
            "use-file" => Opt::File,
            "config-test" => Opt::ConfigTest,
            "log-console" => Opt::LogConsole,
            "log-detail" => Opt::LogDetail,
            "dont-fork" => Opt::DontFork,
            "vrrp" => Opt::Vrrp,
            "pid" => Opt::Pid,
            "vrrp_pid" => Opt::VrrpPid,
            "log-file" => Opt::LogFile,
            "version" => Opt::Version,
            "help" => Opt::Help,
            _ => return None,
        })
    }

    fn takes_value(self) -> bool {
        matches!(self, Opt::File | Opt::Pid | Opt::VrrpPid | Opt::LogFile)
    }
}

/// Parses the arguments after the program name.
pub fn parse<I, S>(args: I) -> Result<Flags, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    let mut flags = Flags::default();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let opt = Opt::long(name).ok_or_else(|| format!("unrecognized option '--{name}'"))?;
            let value = if opt.takes_value() {
                match attached {
                    Some(v) => Some(v),
                    None => Some(
                        it.next()
                            .ok_or_else(|| format!("option '--{name}' requires an argument"))?,
                    ),
                }
            } else if matches!(opt, Opt::ConfigTest) {
                attached
            } else if attached.is_some() {
                return Err(format!("option '--{name}' doesn't allow an argument"));
            } else {
                None
            };
            apply(&mut flags, opt, value);
        } else if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in shorts.char_indices() {
                let opt = Opt::short(c).ok_or_else(|| format!("invalid option -- '{c}'"))?;
                let rest = shorts.get(i + c.len_utf8()..).unwrap_or("");
                if opt.takes_value() || matches!(opt, Opt::ConfigTest) {
                    let value = if !rest.is_empty() {
                        Some(rest.to_string())
                    } else if opt.takes_value() {
                        Some(
                            it.next()
                                .ok_or_else(|| format!("option requires an argument -- '{c}'"))?,
                        )
                    } else {
                        None
                    };
                    apply(&mut flags, opt, value);
                    break;
                }
                apply(&mut flags, opt, None);
            }
        } else {
            return Err(format!("unexpected argument '{arg}'"));
        }
    }
    Ok(flags)
}

fn apply(flags: &mut Flags, opt: Opt, value: Option<String>) {
    let path = value.map(PathBuf::from);
    match opt {
        Opt::File => {
            if let Some(p) = path {
                flags.config = p;
            }
        }
        // -h and -v win over -t, as in keepalived, whatever the order.
        Opt::ConfigTest => {
            if flags.mode == Mode::Run {
                flags.mode = Mode::ConfigTest(path);
            }
        }
        Opt::Help => flags.mode = Mode::Help,
        Opt::Version => {
            if flags.mode != Mode::Help {
                flags.mode = Mode::Version;
            }
        }
        Opt::LogConsole => flags.log_console = true,
        Opt::LogDetail => flags.log_detail = true,
        Opt::DontFork => flags.dont_fork = true,
        Opt::Vrrp => flags.vrrp_only = true,
        Opt::Pid => flags.pid_file = path,
        Opt::VrrpPid => flags.vrrp_pid_file = path,
        Opt::LogFile => flags.log_file = path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(args: &[&str]) -> Flags {
        parse(args.iter().copied()).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn defaults() {
        let f = ok(&[]);
        assert_eq!(f.mode, Mode::Run);
        assert_eq!(f.config, PathBuf::from(DEFAULT_CONFIG));
    }

    #[test]
    fn config_test_forms() {
        let f = ok(&["-t", "-f", "/x.conf"]);
        assert_eq!(f.mode, Mode::ConfigTest(None));
        assert_eq!(f.config, PathBuf::from("/x.conf"));
        assert_eq!(ok(&["-f/x.conf", "-t"]).config, PathBuf::from("/x.conf"));
        assert_eq!(ok(&["--use-file=/y.conf"]).config, PathBuf::from("/y.conf"));
        assert_eq!(
            ok(&["--use-file", "/z.conf"]).config,
            PathBuf::from("/z.conf")
        );
        assert_eq!(
            ok(&["--config-test=/tmp/log"]).mode,
            Mode::ConfigTest(Some(PathBuf::from("/tmp/log")))
        );
        assert_eq!(
            ok(&["-t/tmp/log"]).mode,
            Mode::ConfigTest(Some(PathBuf::from("/tmp/log")))
        );
        // An optional value is never taken from the next word.
        let f = ok(&["--config-test", "-f", "a.conf"]);
        assert_eq!(f.mode, Mode::ConfigTest(None));
        assert_eq!(f.config, PathBuf::from("a.conf"));
    }

    #[test]
    fn bundled_short_options() {
        let f = ok(&["-lDnP", "-tf"]);
        assert!(f.log_console && f.log_detail && f.dont_fork && f.vrrp_only);
        // `-tf` is -t with log file "f", exactly as getopt reads "t::".
        assert_eq!(f.mode, Mode::ConfigTest(Some(PathBuf::from("f"))));
        let f = ok(&["-lDf", "k.conf", "-t"]);
        assert_eq!(f.config, PathBuf::from("k.conf"));
        assert_eq!(f.mode, Mode::ConfigTest(None));
    }

    #[test]
    fn pid_and_log_files() {
        let f = ok(&["-p", "/run/a.pid", "--vrrp_pid=/run/b.pid", "-g/var/log/k"]);
        assert_eq!(f.pid_file, Some(PathBuf::from("/run/a.pid")));
        assert_eq!(f.vrrp_pid_file, Some(PathBuf::from("/run/b.pid")));
        assert_eq!(f.log_file, Some(PathBuf::from("/var/log/k")));
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(ok(&["-t", "-h"]).mode, Mode::Help);
        assert_eq!(ok(&["-v", "-t"]).mode, Mode::Version);
        assert_eq!(ok(&["-h", "-v"]).mode, Mode::Help);
    }

    #[test]
    fn errors() {
        assert!(parse(["-x"]).is_err());
        assert!(parse(["--nope"]).is_err());
        assert!(parse(["-f"]).is_err());
        assert!(parse(["--use-file"]).is_err());
        assert!(parse(["--help=yes"]).is_err());
        assert!(parse(["stray"]).is_err());
    }
}
