//! HAProxy's command line, parsed into [`Flags`].
//!
//! Every flag `haproxy -h` lists is recognised, so that a unit file or script
//! written for HAProxy starts haproxyd unchanged. Unlike HAProxy, which reads
//! only the first letter of most flags (`-cq` is `-c`) and `atol`s numbers
//! (`-N abc` is `-N 0`), a flag here must be spelled exactly and a number must
//! be a number: anything else is a [`UsageError`], which the caller answers with
//! the usage text and exit code 1, as HAProxy does for an unknown flag.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// What the process was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Load and serve the configuration (no `-c`, `-v`, `-vv` or `-cc`).
    Run,
    /// `-c`: check the configuration files and exit.
    Check,
    /// `-cc EXPR`: evaluate a condition as in `.if` and exit.
    CheckCondition(String),
    /// `-v`: print the version.
    Version,
    /// `-vv`: print the version and the build features.
    BuildOptions,
}

/// One of the `-d…` debugging switches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DebugFlag {
    /// `-d`: debug mode, stay in the foreground and trace events.
    Debug,
    /// `-db`: stay in the foreground only.
    NoBackground,
    /// `-de`: do not use epoll.
    NoEpoll,
    /// `-dp`: do not use poll.
    NoPoll,
    /// `-dS`: do not use splice.
    NoSplice,
    /// `-dG`: do not use getaddrinfo.
    NoGetaddrinfo,
    /// `-dR`: do not use SO_REUSEPORT.
    NoReuseport,
    /// `-dL`: dump the loaded object files after the checks.
    DumpLibs,
    /// `-dr`: ignore server address resolution failures.
    IgnoreResolveFailures,
    /// `-dV`: do not verify server certificates.
    NoSslVerify,
    /// `-dW`: fail if any warning is emitted.
    ZeroWarning,
    /// `-dD`: diagnostic mode, warn about suspicious statements.
    Diagnostic,
    /// `-dM[...]`: memory debugging options, kept verbatim.
    Memory(String),
    /// `-dK{class,...}`: dump registered keywords, kept verbatim.
    DumpKeywords(String),
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flags {
    /// What to do.
    pub(crate) mode: Mode,
    /// `-f` arguments and files after `--`, in command-line order.
    pub(crate) config_paths: Vec<PathBuf>,
    /// `-q`: print nothing.
    pub(crate) quiet: bool,
    /// `-V`: verbose, cancels quiet.
    pub(crate) verbose: bool,
    /// `-D`: go to the background.
    pub(crate) daemon: bool,
    /// `-W` or `-Ws`: master-worker mode.
    pub(crate) master_worker: bool,
    /// `-Ws`: notify systemd once ready.
    pub(crate) systemd_notify: bool,
    /// `-S bind[,options]`: master CLI listeners.
    pub(crate) master_cli: Vec<String>,
    /// `-p FILE`: where to write the process ids.
    pub(crate) pidfile: Option<PathBuf>,
    /// `-sf PID...`: old processes to finish gracefully.
    pub(crate) soft_stop: Vec<u32>,
    /// `-st PID...`: old processes to terminate.
    pub(crate) hard_stop: Vec<u32>,
    /// `-L NAME`: local peer name.
    pub(crate) local_peer: Option<String>,
    /// `-n N`: global maximum number of connections.
    pub(crate) maxconn: Option<u32>,
    /// `-N N`: default per-proxy maximum number of connections.
    pub(crate) default_maxconn: Option<u32>,
    /// `-m MB`: memory limit.
    pub(crate) memory_limit_mb: Option<u32>,
    /// `-C DIR`: directory to change to before loading files.
    pub(crate) chdir: Option<PathBuf>,
    /// `-x SOCKET`: where to fetch listening sockets from.
    pub(crate) sockets_from: Option<PathBuf>,
    /// `-d…` switches, in command-line order.
    pub(crate) debug: Vec<DebugFlag>,
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            mode: Mode::Run,
            config_paths: Vec::new(),
            quiet: false,
            verbose: false,
            daemon: false,
            master_worker: false,
            systemd_notify: false,
            master_cli: Vec::new(),
            pidfile: None,
            soft_stop: Vec::new(),
            hard_stop: Vec::new(),
            local_peer: None,
            maxconn: None,
            default_maxconn: None,
            memory_limit_mb: None,
            chdir: None,
            sockets_from: None,
            debug: Vec::new(),
        }
    }
}

impl Flags {
    /// Whether messages should be printed: `-q` silences them unless `-V`
    /// came too.
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet && !self.verbose
    }
}

/// Why the command line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UsageError {
    /// A flag nobody knows.
    UnknownFlag(String),
    /// A flag that takes a value came last.
    MissingValue(&'static str),
    /// A flag's value is not what it should be.
    BadValue {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
    },
    /// A word that is not a flag, outside `--`.
    Unexpected(String),
    /// An argument that is not valid UTF-8 where text is needed.
    NotUnicode(OsString),
    /// `-c` or a run without any `-f`.
    NoConfig,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::UnknownFlag(flag) => write!(f, "unknown option '{flag}'"),
            UsageError::MissingValue(flag) => write!(f, "option '{flag}' expects an argument"),
            UsageError::BadValue { flag, value } => {
                write!(f, "option '{flag}' expects a number, got '{value}'")
            }
            UsageError::Unexpected(word) => write!(f, "unexpected argument '{word}'"),
            UsageError::NotUnicode(word) => {
                write!(
                    f,
                    "argument '{}' is not valid UTF-8",
                    word.to_string_lossy()
                )
            }
            UsageError::NoConfig => write!(f, "no configuration file given (use -f)"),
        }
    }
}

/// Parses the arguments after the program name.
pub(crate) fn parse<I>(args: I) -> Result<Flags, UsageError>
where
    I: IntoIterator<Item = OsString>,
{
    let mut flags = Flags::default();
    let mut args = args.into_iter().peekable();
    while let Some(raw) = args.next() {
        let arg = raw
            .to_str()
            .ok_or_else(|| UsageError::NotUnicode(raw.clone()))?;
        match arg {
            "--" => {
                flags.config_paths.extend(args.by_ref().map(PathBuf::from));
                break;
            }
            "-f" => flags
                .config_paths
                .push(PathBuf::from(value(&mut args, "-f")?)),
            "-c" => flags.mode = Mode::Check,
            "-cc" => flags.mode = Mode::CheckCondition(text(&mut args, "-cc")?),
            "-v" => flags.mode = Mode::Version,
            "-vv" => flags.mode = Mode::BuildOptions,
            "-V" => flags.verbose = true,
            "-q" => flags.quiet = true,
            "-D" => flags.daemon = true,
            "-W" => flags.master_worker = true,
            "-Ws" => {
                flags.master_worker = true;
                flags.systemd_notify = true;
            }
            "-S" => flags.master_cli.push(text(&mut args, "-S")?),
            "-p" => flags.pidfile = Some(PathBuf::from(value(&mut args, "-p")?)),
            "-L" => flags.local_peer = Some(text(&mut args, "-L")?),
            "-n" => flags.maxconn = Some(number(&mut args, "-n")?),
            "-N" => flags.default_maxconn = Some(number(&mut args, "-N")?),
            "-m" => flags.memory_limit_mb = Some(number(&mut args, "-m")?),
            "-C" => flags.chdir = Some(PathBuf::from(value(&mut args, "-C")?)),
            "-x" => flags.sockets_from = Some(PathBuf::from(value(&mut args, "-x")?)),
            "-sf" | "-st" => {
                // HAProxy takes every following word that reads as a PID.
                let mut pids = Vec::new();
                while let Some(pid) = args
                    .peek()
                    .and_then(|next| next.to_str())
                    .and_then(|next| next.parse::<u32>().ok())
                {
                    pids.push(pid);
                    args.next();
                }
                if arg == "-sf" {
                    flags.soft_stop.extend(pids);
                } else {
                    flags.hard_stop.extend(pids);
                }
            }
            _ if arg.starts_with("-d") => flags.debug.push(debug_flag(arg)?),
            _ if arg.starts_with('-') => return Err(UsageError::UnknownFlag(arg.to_owned())),
            _ => return Err(UsageError::Unexpected(arg.to_owned())),
        }
    }
    let needs_config = matches!(flags.mode, Mode::Run | Mode::Check);
    if needs_config && flags.config_paths.is_empty() {
        return Err(UsageError::NoConfig);
    }
    Ok(flags)
}

fn debug_flag(arg: &str) -> Result<DebugFlag, UsageError> {
    let rest = arg.strip_prefix("-d").unwrap_or(arg);
    let flag = match rest {
        "" => DebugFlag::Debug,
        "b" => DebugFlag::NoBackground,
        "e" => DebugFlag::NoEpoll,
        "p" => DebugFlag::NoPoll,
        "S" => DebugFlag::NoSplice,
        "G" => DebugFlag::NoGetaddrinfo,
        "R" => DebugFlag::NoReuseport,
        "L" => DebugFlag::DumpLibs,
        "r" => DebugFlag::IgnoreResolveFailures,
        "V" => DebugFlag::NoSslVerify,
        "W" => DebugFlag::ZeroWarning,
        "D" => DebugFlag::Diagnostic,
        _ => {
            if let Some(options) = rest.strip_prefix('M') {
                DebugFlag::Memory(options.to_owned())
            } else if let Some(classes) = rest.strip_prefix('K') {
                DebugFlag::DumpKeywords(classes.to_owned())
            } else {
                return Err(UsageError::UnknownFlag(arg.to_owned()));
            }
        }
    };
    Ok(flag)
}

fn value<I>(args: &mut I, flag: &'static str) -> Result<OsString, UsageError>
where
    I: Iterator<Item = OsString>,
{
    args.next().ok_or(UsageError::MissingValue(flag))
}

fn text<I>(args: &mut I, flag: &'static str) -> Result<String, UsageError>
where
    I: Iterator<Item = OsString>,
{
    value(args, flag)?
        .into_string()
        .map_err(UsageError::NotUnicode)
}

fn number<I>(args: &mut I, flag: &'static str) -> Result<u32, UsageError>
where
    I: Iterator<Item = OsString>,
{
    let value = text(args, flag)?;
    value
        .parse()
        .map_err(|_| UsageError::BadValue { flag, value })
}

/// The usage text HAProxy prints on stderr for a bad command line, with this
/// program's name.
pub(crate) fn usage(program: &str) -> String {
    format!(
        "\
Usage : {program} [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dM[<byte>,help,...] debug memory (default: poison with <byte>/0x50)
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections
        -m limits the usable amount of memory (in MB)
        -N sets the default, per-proxy maximum # of connections (0)
        -L set local peer name (default to hostname)
        -p writes pids of all children to this file
        -de disables epoll() usage even when available
        -dp disables poll() usage even when available
        -dS disables splice usage (broken on old kernels)
        -dG disables getaddrinfo() usage
        -dR disables SO_REUSEPORT usage
        -dL dumps loaded object files after config checks
        -dK{{class[,...]}} dump registered keywords (use 'help' for list)
        -dr ignores server address resolution failures
        -dV disables SSL verify on servers side
        -dW fails if any warning is emitted
        -dD diagnostic mode : warn about suspicious configuration statements
        -sf/-st [pid ]* finishes/terminates old pids.
        -x <unix_socket> get listening sockets from a unix socket
        -S <bind>[,<bind options>...] new master CLI
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Flags, UsageError> {
        parse(words.iter().map(OsString::from))
    }

    #[test]
    fn check_with_several_files_keeps_their_order() {
        let flags = parse_words(&["-c", "-f", "a.cfg", "-f", "conf.d", "-q"]).unwrap();
        assert_eq!(flags.mode, Mode::Check);
        assert_eq!(
            flags.config_paths,
            [PathBuf::from("a.cfg"), PathBuf::from("conf.d")]
        );
        assert!(flags.is_quiet());
    }

    #[test]
    fn verbose_cancels_quiet() {
        let flags = parse_words(&["-q", "-V", "-f", "a.cfg"]).unwrap();
        assert!(flags.quiet && flags.verbose);
        assert!(!flags.is_quiet());
    }

    #[test]
    fn double_dash_takes_the_rest_as_files() {
        let flags = parse_words(&["-c", "-f", "a.cfg", "--", "b.cfg", "-q"]).unwrap();
        assert_eq!(flags.config_paths.len(), 3);
        assert_eq!(flags.config_paths[2], PathBuf::from("-q"));
        assert!(!flags.quiet);
    }

    #[test]
    fn versions_need_no_config() {
        assert_eq!(parse_words(&["-v"]).unwrap().mode, Mode::Version);
        assert_eq!(parse_words(&["-vv"]).unwrap().mode, Mode::BuildOptions);
    }

    #[test]
    fn check_and_run_need_a_config() {
        assert_eq!(parse_words(&["-c"]), Err(UsageError::NoConfig));
        assert_eq!(parse_words(&["-db"]), Err(UsageError::NoConfig));
    }

    #[test]
    fn every_valued_flag_is_read() {
        let flags = parse_words(&[
            "-f",
            "h.cfg",
            "-p",
            "/run/h.pid",
            "-L",
            "node1",
            "-n",
            "1000",
            "-N",
            "50",
            "-m",
            "512",
            "-C",
            "/etc/h",
            "-x",
            "/run/h.sock",
            "-S",
            "/run/m.sock,mode,600",
            "-cc",
            "defined(X)",
        ])
        .unwrap();
        assert_eq!(flags.pidfile, Some(PathBuf::from("/run/h.pid")));
        assert_eq!(flags.local_peer.as_deref(), Some("node1"));
        assert_eq!(flags.maxconn, Some(1000));
        assert_eq!(flags.default_maxconn, Some(50));
        assert_eq!(flags.memory_limit_mb, Some(512));
        assert_eq!(flags.chdir, Some(PathBuf::from("/etc/h")));
        assert_eq!(flags.sockets_from, Some(PathBuf::from("/run/h.sock")));
        assert_eq!(flags.master_cli, ["/run/m.sock,mode,600"]);
        assert_eq!(flags.mode, Mode::CheckCondition("defined(X)".to_owned()));
    }

    #[test]
    fn boolean_flags() {
        let flags = parse_words(&["-D", "-Ws", "-f", "h.cfg"]).unwrap();
        assert!(flags.daemon && flags.master_worker && flags.systemd_notify);
        let flags = parse_words(&["-W", "-f", "h.cfg"]).unwrap();
        assert!(flags.master_worker && !flags.systemd_notify);
    }

    #[test]
    fn stop_lists_take_pids_until_a_non_number() {
        let flags = parse_words(&["-sf", "12", "13", "-st", "14", "-f", "h.cfg"]).unwrap();
        assert_eq!(flags.soft_stop, [12, 13]);
        assert_eq!(flags.hard_stop, [14]);
        let flags = parse_words(&["-f", "h.cfg", "-sf"]).unwrap();
        assert!(flags.soft_stop.is_empty());
    }

    #[test]
    fn debug_flags() {
        let flags = parse_words(&[
            "-d",
            "-db",
            "-de",
            "-dp",
            "-dS",
            "-dG",
            "-dR",
            "-dL",
            "-dr",
            "-dV",
            "-dW",
            "-dD",
            "-dM0x55,help",
            "-dKacl",
            "-f",
            "h.cfg",
        ])
        .unwrap();
        assert_eq!(flags.debug.len(), 14);
        assert_eq!(flags.debug[0], DebugFlag::Debug);
        assert_eq!(flags.debug[12], DebugFlag::Memory("0x55,help".to_owned()));
        assert_eq!(flags.debug[13], DebugFlag::DumpKeywords("acl".to_owned()));
        assert_eq!(
            parse_words(&["-dX", "-f", "h.cfg"]),
            Err(UsageError::UnknownFlag("-dX".to_owned()))
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse_words(&["-z"]),
            Err(UsageError::UnknownFlag("-z".to_owned()))
        );
        assert_eq!(
            parse_words(&["-cq", "-f", "h.cfg"]),
            Err(UsageError::UnknownFlag("-cq".to_owned()))
        );
        assert_eq!(
            parse_words(&["-c", "-f"]),
            Err(UsageError::MissingValue("-f"))
        );
        assert_eq!(
            parse_words(&["-c", "h.cfg"]),
            Err(UsageError::Unexpected("h.cfg".to_owned()))
        );
        assert_eq!(
            parse_words(&["-N", "abc", "-f", "h.cfg"]),
            Err(UsageError::BadValue {
                flag: "-N",
                value: "abc".to_owned()
            })
        );
    }

    #[test]
    fn usage_names_the_program_and_every_flag() {
        let text = usage("haproxyd");
        assert!(text.starts_with("Usage : haproxyd [-f <cfgfile|cfgdir>]*"));
        for flag in [
            "-vv", "-db", "-Ws", "-cc", "-sf/-st", "-x", "-S", "-dK", "-dW",
        ] {
            assert!(text.contains(flag), "{flag} missing from usage");
        }
    }
}
