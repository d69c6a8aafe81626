//! The runtime API's command language (HAProxy's "stats socket" CLI):
//! splitting a line into commands, parsing each into a [`Command`], the
//! level each needs, and HAProxy's answers for usage errors and `help`.
//!
//! Parsing is pure; commands run against a live engine through
//! `Engine::cli_execute`, and `Engine::serve` answers on the configured
//! `stats socket`s.

use std::fmt::Write;

/// Privilege level of a CLI session, as `stats socket ... level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Read-only.
    User,
    /// Read and non-destructive changes.
    Operator,
    /// Everything.
    Admin,
}

impl Level {
    /// The keyword, as `show cli level` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }
}

/// `show stat` / `show info` output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// CSV (`show stat`) or `Name: value` lines (`show info`).
    #[default]
    Plain,
    /// `typed`.
    Typed,
    /// `json`.
    Json,
}

/// A server's administrative state, as `set server ... state` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    /// `ready`.
    Ready,
    /// `drain`.
    Drain,
    /// `maint`.
    Maint,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `help [WORDS]`.
    Help(Vec<String>),
    /// `prompt`: toggles interactive mode.
    Prompt,
    /// `quit`.
    Quit,
    /// `operator` / `user`: lowers the session's level.
    Lower(Level),
    /// `show cli level`.
    ShowCliLevel,
    /// `show activity` (HAProxy 2.6 ignores any argument, so do we).
    ShowActivity,
    /// `show info [typed|json]`.
    ShowInfo(Format),
    /// `show stat [typed|json] [up|no-maint] [IID TYPE SID]`.
    ShowStat {
        /// Output format.
        format: Format,
        /// Proxy id or name filter (`-1` all).
        proxy: String,
        /// Type mask (`-1` all).
        types: i64,
        /// Server id (`-1` all).
        server: i64,
        /// `up`: only servers that are up.
        up: bool,
        /// `no-maint`: skip servers in maintenance.
        no_maint: bool,
    },
    /// `show servers state [BACKEND]`.
    ShowServersState(Option<String>),
    /// `show backend`.
    ShowBackend,
    /// `show sess [ID|all]`.
    ShowSess(Option<String>),
    /// `shutdown session ID`.
    ShutdownSession(Option<String>),
    /// `show errors [PROXY] [request|response]`.
    ShowErrors(Vec<String>),
    /// `disable server B/S` (admin state MAINT).
    DisableServer(String, String),
    /// `enable server B/S` (leave MAINT).
    EnableServer(String, String),
    /// `set server B/S state ready|drain|maint`.
    SetState(String, String, AdminState),
    /// `set server B/S weight W` or `set weight B/S W` (`W` or `W%`).
    SetWeight(String, String, String),
    /// `get weight B/S`.
    GetWeight(String, String),
    /// `set maxconn server B/S N`.
    SetMaxconnServer(String, String, String),
    /// `set maxconn frontend F N`.
    SetMaxconnFrontend(String, String),
    /// `set server B/S health|... ` and `enable|disable health B/S`.
    Health(String, String, bool),
    /// `shutdown sessions server B/S`.
    ShutdownSessions(String, String),
    /// `add server B/S ADDR [options]`.
    AddServer(String, String, Vec<String>),
    /// `del server B/S`.
    DelServer(String, String),
}

/// Splits a line into commands on unescaped `;`, and each command into
/// words on blanks, with `\` escaping the next character.
pub fn split_line(line: &str) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                    in_word = true;
                }
            }
            ';' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                cmds.push(std::mem::take(&mut words));
            }
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    cmds.push(words);
    cmds.into_iter().filter(|w| !w.is_empty()).collect()
}

/// `B/S` split in two.
fn backend_server(arg: Option<&String>) -> Result<(String, String), String> {
    let a = arg.ok_or_else(|| "Require 'backend/server'.\n".to_string())?;
    match a.split_once('/') {
        Some((b, s)) if !b.is_empty() && !s.is_empty() => Ok((b.into(), s.into())),
        _ => Err("Require 'backend/server'.\n".into()),
    }
}

const SET_SERVER_USAGE: &str = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n";

/// Parses one command's words. `Err` carries HAProxy's answer (usage
/// errors end with a newline; unknown commands get the help listing).
pub fn parse(words: &[String], level: Level) -> Result<Command, String> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let rest = |i: usize| words.get(i..).unwrap_or_default().to_vec();
    let cmd = match w.as_slice() {
        ["help", ..] => Command::Help(rest(1)),
        ["prompt", ..] => Command::Prompt,
        ["quit", ..] => Command::Quit,
        ["operator", ..] => Command::Lower(Level::Operator),
        ["user", ..] => Command::Lower(Level::User),
        ["show", "cli", "level", ..] => Command::ShowCliLevel,
        ["show", "activity", ..] => Command::ShowActivity,
        ["show", "info", args @ ..] => Command::ShowInfo(format_of(args)),
        ["show", "stat", args @ ..] => show_stat(args)?,
        ["show", "servers", "state", b, ..] => Command::ShowServersState(Some((*b).into())),
        ["show", "servers", "state"] => Command::ShowServersState(None),
        ["show", "backend", ..] => Command::ShowBackend,
        ["show", "sess", arg, ..] => Command::ShowSess(Some((*arg).into())),
        ["show", "sess"] => Command::ShowSess(None),
        ["shutdown", "session", arg, ..] => Command::ShutdownSession(Some((*arg).into())),
        ["shutdown", "session"] => Command::ShutdownSession(None),
        ["show", "errors", ..] => Command::ShowErrors(rest(2)),
        ["disable", "server", ..] => {
            let (b, s) = backend_server(words.get(2))?;
            Command::DisableServer(b, s)
        }
        ["enable", "server", ..] => {
            let (b, s) = backend_server(words.get(2))?;
            Command::EnableServer(b, s)
        }
        ["disable", "health", ..] | ["enable", "health", ..] => {
            let (b, s) = backend_server(words.get(2))?;
            Command::Health(b, s, w.first() == Some(&"enable"))
        }
        ["set", "server", ..] => {
            let (b, s) = backend_server(words.get(2))?;
            match w.get(3..).unwrap_or_default() {
                ["state", st, ..] => {
                    let st = match *st {
                        "ready" => AdminState::Ready,
                        "drain" => AdminState::Drain,
                        "maint" => AdminState::Maint,
                        _ => {
                            return Err(
                                "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
                                    .into(),
                            );
                        }
                    };
                    Command::SetState(b, s, st)
                }
                ["state"] => {
                    return Err(
                        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n".into(),
                    );
                }
                ["weight", v, ..] => Command::SetWeight(b, s, (*v).into()),
                ["weight"] => Command::SetWeight(b, s, String::new()),
                ["health", v, ..] => match *v {
                    "up" | "stopping" | "down" => {
                        return Err("Health check state changes are not supported; use 'set server <srv> state'.\n".into());
                    }
                    _ => {
                        return Err(
                            "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n"
                                .into(),
                        );
                    }
                },
                _ => return Err(SET_SERVER_USAGE.into()),
            }
        }
        ["set", "weight", ..] => {
            let (b, s) = backend_server(words.get(2))?;
            Command::SetWeight(b, s, words.get(3).cloned().unwrap_or_default())
        }
        ["get", "weight", ..] => {
            let (b, s) = backend_server(words.get(2))?;
            Command::GetWeight(b, s)
        }
        ["set", "maxconn", "server", ..] => {
            let (b, s) = backend_server(words.get(3))?;
            Command::SetMaxconnServer(b, s, words.get(4).cloned().unwrap_or_default())
        }
        ["set", "maxconn", "frontend", f, v, ..] => {
            Command::SetMaxconnFrontend((*f).into(), (*v).into())
        }
        ["set", "maxconn", "frontend", ..] => {
            return Err("A frontend name is expected.\n".into());
        }
        ["shutdown", "sessions", "server", ..] => {
            let (b, s) = backend_server(words.get(3))?;
            Command::ShutdownSessions(b, s)
        }
        // HAProxy's answer has no empty line after it for these two.
        ["add", "server", ..] => {
            let (b, s) = backend_server(words.get(2)).map_err(|e| e.trim_end().to_string())?;
            Command::AddServer(b, s, rest(3))
        }
        ["del", "server", ..] => {
            let (b, s) = backend_server(words.get(2)).map_err(|e| e.trim_end().to_string())?;
            Command::DelServer(b, s)
        }
        _ => return Err(unknown(words, level)),
    };
    Ok(cmd)
}

fn format_of(args: &[&str]) -> Format {
    if args.contains(&"json") {
        Format::Json
    } else if args.contains(&"typed") {
        Format::Typed
    } else {
        Format::Plain
    }
}

fn show_stat(args: &[&str]) -> Result<Command, String> {
    let mut format = Format::Plain;
    let mut up = false;
    let mut no_maint = false;
    let mut nums = Vec::new();
    for a in args {
        match *a {
            "json" => format = Format::Json,
            "typed" => format = Format::Typed,
            "up" => up = true,
            "no-maint" => no_maint = true,
            "desc" => {}
            other => nums.push(other),
        }
    }
    let (proxy, types, server) = match nums.as_slice() {
        [] => ("-1".to_string(), -1, -1),
        [p, t, s, ..] => {
            let t = t.parse::<i64>().map_err(|_| "Invalid type\n".to_string())?;
            let s = s
                .parse::<i64>()
                .map_err(|_| "Invalid server id\n".to_string())?;
            ((*p).to_string(), t, s)
        }
        _ => {
            return Err("Parameters must be <iid> <type> <sid> (use -1 for all).\n".into());
        }
    };
    Ok(Command::ShowStat {
        format,
        proxy,
        types,
        server,
        up,
        no_maint,
    })
}

/// A `set maxconn server` value read as HAProxy 2.6 reads it: `strtol`
/// (optional sign, decimal digits, saturating), then kept in 32 bits, so
/// `-1` is 4294967295. `Err` carries HAProxy's answer.
pub fn maxconn_value(v: &str) -> Result<u32, String> {
    if v.is_empty() {
        return Err("Require <maxconn>.\n".into());
    }
    let (negative, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, v.get(1..).unwrap_or_default()),
        Some(b'+') => (false, v.get(1..).unwrap_or_default()),
        _ => (false, v),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        // HAProxy's message has no newline of its own.
        return Err("maxconn string empty or preceded by garbage".into());
    }
    if end < digits.len() {
        return Err("Trailing garbage in maxconn string".into());
    }
    let magnitude = digits.bytes().fold(0i64, |n, d| {
        n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    let n = if negative { -magnitude } else { magnitude };
    // The low 32 bits, as the C conversion to the unsigned field keeps them.
    Ok(u32::try_from(n.rem_euclid(1 << 32)).unwrap_or(u32::MAX))
}

/// A stream id as HAProxy reads it (`strtoul` in base 0): `0x` hex, a
/// leading `0` octal, else decimal, up to the first byte that does not fit;
/// 0 when nothing does.
pub fn pointer_value(v: &str) -> u64 {
    let (digits, radix) = match v.get(..2) {
        Some("0x" | "0X") => (v.get(2..).unwrap_or_default(), 16),
        _ if v.starts_with('0') => (v, 8),
        _ => (v, 10),
    };
    let mut n = 0u64;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            break;
        };
        n = n
            .saturating_mul(u64::from(radix))
            .saturating_add(u64::from(d));
    }
    n
}

/// The level a command needs.
pub fn required_level(cmd: &Command) -> Level {
    match cmd {
        Command::Help(_)
        | Command::Prompt
        | Command::Quit
        | Command::Lower(_)
        | Command::ShowCliLevel
        | Command::ShowActivity
        | Command::ShowInfo(_)
        | Command::ShowStat { .. }
        | Command::ShowBackend
        | Command::GetWeight(..) => Level::User,
        Command::ShowServersState(_) | Command::ShowSess(_) | Command::ShowErrors(_) => {
            Level::Operator
        }
        _ => Level::Admin,
    }
}

/// One help line: the usage, the description, the level.
const HELP: &[(&str, &str, Level)] = &[
    ("add server <bk>/<srv>", "create a new server", Level::Admin),
    (
        "del server <bk>/<srv>",
        "remove a dynamically added server",
        Level::Admin,
    ),
    ("disable health", "disable health checks", Level::Admin),
    (
        "disable server (DEPRECATED)",
        "disable a server for maintenance (use 'set server' instead)",
        Level::Admin,
    ),
    ("enable health", "enable health checks", Level::Admin),
    (
        "enable server  (DEPRECATED)",
        "enable a disabled server (use 'set server' instead)",
        Level::Admin,
    ),
    (
        "get weight <bk>/<srv>",
        "report a server's current weight",
        Level::User,
    ),
    (
        "operator",
        "lower the level of the current CLI session to operator",
        Level::Admin,
    ),
    (
        "set maxconn frontend <frontend> <value>",
        "change a frontend's maxconn setting",
        Level::Admin,
    ),
    (
        "set maxconn server <bk>/<srv>",
        "change a server's maxconn setting",
        Level::Admin,
    ),
    (
        "set server <bk>/<srv> [opts]",
        "change a server's state, weight, address or ssl",
        Level::Admin,
    ),
    (
        "set weight <bk>/<srv>  (DEPRECATED)",
        "change a server's weight (use 'set server' instead)",
        Level::Admin,
    ),
    (
        "show activity",
        "show per-thread activity stats (for support/developers)",
        Level::User,
    ),
    (
        "show backend",
        "list backends in the current running config",
        Level::User,
    ),
    (
        "show cli level",
        "display the level of the current CLI session",
        Level::User,
    ),
    (
        "show errors [<px>] [request|response]",
        "report last request and/or response errors for each proxy",
        Level::Operator,
    ),
    (
        "show info [desc|json|typed|float]*",
        "report information about the running process",
        Level::User,
    ),
    (
        "show servers state [<backend>]",
        "dump volatile server information (all or for a single backend)",
        Level::Operator,
    ),
    (
        "show sess [id]",
        "report the list of current sessions or dump this exact session",
        Level::Operator,
    ),
    (
        "show stat [desc|json|no-maint|typed|up]*",
        "report counters for each proxy and server",
        Level::User,
    ),
    (
        "shutdown session [id]",
        "kill a specific session",
        Level::Admin,
    ),
    (
        "shutdown sessions server <bk>/<srv>",
        "kill sessions on a server",
        Level::Admin,
    ),
    (
        "user",
        "lower the level of the current CLI session to user",
        Level::Operator,
    ),
    (
        "help [<command>]",
        "list matching or all commands",
        Level::User,
    ),
    ("prompt", "toggle interactive mode with prompt", Level::User),
    ("quit", "disconnect", Level::User),
];

/// `help [WORDS]`: the commands valid at `level` (those starting with
/// `WORDS` when given), in HAProxy's layout.
pub fn help(level: Level, filter: &[String]) -> String {
    let mut out = String::from("The following commands are valid at this level:\n");
    for (usage, desc, need) in HELP {
        if *need > level {
            continue;
        }
        let matches = filter.is_empty() || {
            let mut u = usage.split_whitespace();
            filter.iter().all(|f| u.next() == Some(f.as_str()))
        };
        if matches {
            let _ = writeln!(out, "  {usage:<40}: {desc}");
        }
    }
    out
}

/// The answer to a command nobody knows: the commands that share its first
/// word, else all of them.
fn unknown(words: &[String], level: Level) -> String {
    // How many leading words of the line a command's usage starts with.
    let score = |usage: &str| {
        usage
            .split_whitespace()
            .zip(words)
            .take_while(|(u, w)| *u == w.as_str())
            .count()
    };
    let allowed = || HELP.iter().filter(|(_, _, need)| *need <= level);
    let best = allowed().map(|(u, _, _)| score(u)).max().unwrap_or(0);
    if best == 0 {
        let mut out =
            String::from("Unknown command. Please enter one of the following commands only :\n");
        out.push_str(
            help(level, &[])
                .trim_start_matches("The following commands are valid at this level:\n"),
        );
        return out;
    }
    // The commands that match the most words, then those always offered.
    let always = |u: &str| {
        matches!(
            u.split_whitespace().next(),
            Some("help" | "prompt" | "quit")
        )
    };
    let mut out =
        String::from("Unknown command, but maybe one of the following ones is a better match:\n");
    for (usage, desc, _) in allowed().filter(|(u, _, _)| score(u) == best && !always(u)) {
        let _ = writeln!(out, "  {usage:<40}: {desc}");
    }
    for (usage, desc, _) in allowed().filter(|(u, _, _)| always(u)) {
        let _ = writeln!(out, "  {usage:<40}: {desc}");
    }
    out
}

/// HAProxy's answer to a command above the session's level.
pub const PERMISSION_DENIED: &str = "Permission denied\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn lines_split_on_semicolons_and_escapes() {
        assert_eq!(
            split_line("show info; show stat\\;x ;; help"),
            vec![
                words("show info"),
                vec!["show".into(), "stat;x".into()],
                words("help")
            ]
        );
        assert!(split_line("   ").is_empty());
    }

    #[test]
    fn set_server_forms() {
        assert_eq!(
            parse(&words("set server be/s1 state drain"), Level::Admin),
            Ok(Command::SetState(
                "be".into(),
                "s1".into(),
                AdminState::Drain
            ))
        );
        assert_eq!(
            parse(&words("set server be/s1 state bogus"), Level::Admin),
            Err("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n".into())
        );
        assert_eq!(
            parse(&words("set server be"), Level::Admin),
            Err("Require 'backend/server'.\n".into())
        );
        assert_eq!(
            parse(&words("set server be/s1"), Level::Admin),
            Err(SET_SERVER_USAGE.into())
        );
        assert_eq!(
            parse(&words("set weight be/s1 7"), Level::Admin),
            Ok(Command::SetWeight("be".into(), "s1".into(), "7".into()))
        );
    }

    #[test]
    fn levels_order_and_requirements() {
        assert!(Level::User < Level::Operator && Level::Operator < Level::Admin);
        let c = parse(&words("set server b/s state maint"), Level::User).unwrap();
        assert_eq!(required_level(&c), Level::Admin);
        let c = parse(&words("show stat"), Level::User).unwrap();
        assert_eq!(required_level(&c), Level::User);
    }

    #[test]
    fn show_stat_filters() {
        match parse(&words("show stat typed 4 -1 -1"), Level::User) {
            Ok(Command::ShowStat {
                format,
                proxy,
                types,
                server,
                ..
            }) => {
                assert_eq!(
                    (format, proxy.as_str(), types, server),
                    (Format::Typed, "4", -1, -1)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn maxconn_values_read_as_strtol() {
        assert_eq!(maxconn_value("7"), Ok(7));
        assert_eq!(maxconn_value("+3"), Ok(3));
        assert_eq!(maxconn_value("0"), Ok(0));
        assert_eq!(maxconn_value("-1"), Ok(u32::MAX));
        // Captured from HAProxy 2.6: 99999999999 shows as 1215752191.
        assert_eq!(maxconn_value("99999999999"), Ok(1_215_752_191));
        assert_eq!(maxconn_value(""), Err("Require <maxconn>.\n".into()));
        assert_eq!(
            maxconn_value("x5"),
            Err("maxconn string empty or preceded by garbage".into())
        );
        assert_eq!(
            maxconn_value("5x"),
            Err("Trailing garbage in maxconn string".into())
        );
    }

    #[test]
    fn stream_ids_read_as_strtoul() {
        assert_eq!(pointer_value("0x5642d7fb8120"), 0x5642_d7fb_8120);
        assert_eq!(pointer_value("12"), 12);
        assert_eq!(pointer_value("010"), 8);
        assert_eq!(pointer_value("zz"), 0);
        assert_eq!(pointer_value("0x"), 0);
        assert_eq!(pointer_value("7g"), 7);
        assert_eq!(
            parse(&words("shutdown session"), Level::Admin),
            Ok(Command::ShutdownSession(None))
        );
    }

    #[test]
    fn help_is_filtered_by_level() {
        let user = help(Level::User, &[]);
        assert!(user.contains("show stat"));
        assert!(!user.contains("set server"));
        assert!(
            help(Level::Admin, &[]).contains("  set server <bk>/<srv> [opts]            : change")
        );
        assert!(unknown(&words("bogus"), Level::Admin).starts_with("Unknown command."));
        // Captured from HAProxy 2.6.12: the commands matching the most
        // words, then help, prompt and quit.
        assert_eq!(
            unknown(&words("shutdown sessions"), Level::Admin),
            "Unknown command, but maybe one of the following ones is a better match:
  shutdown sessions server <bk>/<srv>     : kill sessions on a server
  help [<command>]                        : list matching or all commands
  prompt                                  : toggle interactive mode with prompt
  quit                                    : disconnect
"
        );
    }
}
