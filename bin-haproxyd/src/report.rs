//! What `haproxyd -c` prints and the exit code it returns, as `haproxy -c`
//! does: the same `[NOTICE]`/`[WARNING]`/`[ALERT]` prefixes on stderr, the
//! same closing lines and the same exit codes (0 valid, 1 errors, 2 valid but
//! without any listener).
//!
//! [`check`] is pure: it turns a load result into the lines to print, so the
//! layout is tested without running the binary.

use std::fmt::Write as _;
use std::io::Write;

use proxy_config::{Config, Diagnostic, DiagnosticKind, Errors, Loaded, Severity};

/// Exit code of a configuration that loads but has nothing to listen on.
pub(crate) const EXIT_NO_LISTENER: u8 = 2;

/// How a check is reported.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The process id shown in every stderr prefix.
    pub(crate) pid: u32,
    /// The executable, for the second notice line.
    pub(crate) executable: String,
    /// `-q`: print nothing at all.
    pub(crate) quiet: bool,
    /// `-dW`: any warning is fatal.
    pub(crate) zero_warning: bool,
}

/// The lines to print and the exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Lines for stdout.
    pub(crate) stdout: Vec<String>,
    /// Lines for stderr.
    pub(crate) stderr: Vec<String>,
    /// Process exit code.
    pub(crate) code: u8,
}

/// Message severities, as HAProxy tags them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    /// `[NOTICE]`
    Notice,
    /// `[WARNING]`
    Warning,
    /// `[ALERT]`
    Alert,
}

impl Tag {
    fn text(self) -> &'static str {
        match self {
            Tag::Notice => "[NOTICE]",
            Tag::Warning => "[WARNING]",
            Tag::Alert => "[ALERT]",
        }
    }
}

/// `[ALERT]    (PID) : ` and its siblings: the tag padded to HAProxy's width.
pub(crate) fn prefix(tag: Tag, pid: u32) -> String {
    format!("{:<11}({pid}) : ", tag.text())
}

/// Collects stderr lines, opening with HAProxy's two notice lines before the
/// first message, and drops everything in quiet mode.
struct Messages<'a> {
    options: &'a Options,
    lines: Vec<String>,
}

impl<'a> Messages<'a> {
    fn new(options: &'a Options) -> Self {
        Messages {
            options,
            lines: Vec::new(),
        }
    }

    fn push(&mut self, tag: Tag, text: &str) {
        if self.options.quiet {
            return;
        }
        let pid = self.options.pid;
        if self.lines.is_empty() {
            self.lines.push(format!(
                "{}haproxyd version is {}",
                prefix(Tag::Notice, pid),
                env!("CARGO_PKG_VERSION")
            ));
            self.lines.push(format!(
                "{}path to executable is {}",
                prefix(Tag::Notice, pid),
                self.options.executable
            ));
        }
        self.lines.push(format!("{}{text}", prefix(tag, pid)));
    }

    fn diagnostic(&mut self, diagnostic: &Diagnostic) {
        let tag = match diagnostic.severity {
            Severity::Warning => Tag::Warning,
            Severity::Error => Tag::Alert,
        };
        self.push(tag, &format!("config : {}", located(diagnostic)));
    }
}

/// `parsing [FILE:LINE] : SECTION : MESSAGE (column N)`, the shape of
/// HAProxy's own lines with the section and column we know in addition.
/// Diagnostics without a line name only their file; unreadable files are
/// reported in HAProxy's words.
pub(crate) fn located(diagnostic: &Diagnostic) -> String {
    if let DiagnosticKind::Io(reason) = &diagnostic.kind {
        return format!(
            "Cannot open configuration file/directory {} : {reason}",
            diagnostic.file()
        );
    }
    let mut text = String::new();
    if diagnostic.line() == 0 && !diagnostic.file().is_empty() {
        let _ = write!(text, "{} : ", diagnostic.file());
    }
    if diagnostic.line() > 0 {
        let _ = write!(
            text,
            "parsing [{}:{}] : ",
            diagnostic.file(),
            diagnostic.line()
        );
    }
    if let Some(section) = &diagnostic.section {
        let _ = match &section.name {
            Some(name) => write!(text, "{} '{name}' : ", section.kind.keyword()),
            None => write!(text, "{} : ", section.kind.keyword()),
        };
    }
    text.push_str(&diagnostic.message());
    if diagnostic.line() > 0 && diagnostic.column() > 0 {
        let _ = write!(text, " (column {})", diagnostic.column());
    }
    text
}

/// Whether anything will listen: a `bind` in any proxy or a stats socket.
/// HAProxy counts a `bind` it ignores in a backend too.
pub(crate) fn has_listener(config: &Config) -> bool {
    !config.global.stats_sockets.is_empty()
        || config.proxies.iter().any(|proxy| !proxy.binds.is_empty())
}

/// The report of `-c` for a load result.
pub(crate) fn check(result: &Result<Loaded, Errors>, options: &Options) -> Outcome {
    let mut messages = Messages::new(options);
    let mut stdout = Vec::new();
    let code = match result {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                messages.diagnostic(warning);
            }
            if options.zero_warning && !loaded.warnings.is_empty() {
                messages.push(
                    Tag::Alert,
                    "config : Some warnings were found and 'zero-warning' is set. Aborting.",
                );
                1
            } else if !has_listener(&loaded.config) {
                stdout.push(
                    "Configuration file has no error but will not start (no listener) => exit(2)."
                        .to_owned(),
                );
                EXIT_NO_LISTENER
            } else {
                if !loaded.warnings.is_empty() {
                    stdout.push("Warnings were found.".to_owned());
                }
                stdout.push("Configuration file is valid".to_owned());
                0
            }
        }
        Err(errors) => {
            failure(errors, &mut messages);
            1
        }
    };
    Outcome {
        stdout: if options.quiet { Vec::new() } else { stdout },
        stderr: messages.lines,
        code,
    }
}

/// Messages printed as they happen while starting and serving, opening
/// with the same two notice lines as a check before the first of them.
pub(crate) struct Console<'a> {
    messages: Messages<'a>,
    written: usize,
    out: &'a mut dyn Write,
}

impl<'a> Console<'a> {
    /// A console writing to `out` (stderr outside tests).
    pub(crate) fn new(options: &'a Options, out: &'a mut dyn Write) -> Self {
        Console {
            messages: Messages::new(options),
            written: 0,
            out,
        }
    }

    /// Prints one message with its tag and the process id.
    pub(crate) fn push(&mut self, tag: Tag, text: &str) {
        self.messages.push(tag, text);
        self.flush();
    }

    fn diagnostic(&mut self, diagnostic: &Diagnostic) {
        self.messages.diagnostic(diagnostic);
        self.flush();
    }

    fn flush(&mut self) {
        // A closed stderr is not worth a panic: the exit code still tells
        // the result.
        for line in self.messages.lines.get(self.written..).unwrap_or(&[]) {
            let _ = writeln!(self.out, "{line}");
        }
        let _ = self.out.flush();
        self.written = self.messages.lines.len();
    }
}

/// Starting to serve a loaded configuration: its warnings, printed at once,
/// then `serve` unless a warning is fatal (`-dW`) or nothing would listen, in
/// which case HAProxy refuses to start. Returns the exit code: 0 once `serve`
/// returns cleanly, 1 with an alert otherwise.
pub(crate) fn startup(
    loaded: Loaded,
    console: &mut Console<'_>,
    serve: impl FnOnce(Config, &mut Console<'_>) -> Result<(), String>,
) -> u8 {
    for warning in &loaded.warnings {
        console.diagnostic(warning);
    }
    let refusal = if console.messages.options.zero_warning && !loaded.warnings.is_empty() {
        Some("config : Some warnings were found and 'zero-warning' is set. Aborting.".to_owned())
    } else if !has_listener(&loaded.config) {
        Some(
            "[haproxyd.main()] No enabled listener found (check for 'bind' directives) ! Exiting."
                .to_owned(),
        )
    } else {
        serve(loaded.config, console).err()
    };
    match refusal {
        Some(text) => {
            console.push(Tag::Alert, &text);
            1
        }
        None => 0,
    }
}

/// The report of a configuration that failed to load outside `-c`: the same
/// alerts, without stdout.
pub(crate) fn load_failure(errors: &Errors, options: &Options) -> Outcome {
    let mut messages = Messages::new(options);
    failure(errors, &mut messages);
    Outcome {
        stdout: Vec::new(),
        stderr: messages.lines,
        code: 1,
    }
}

/// One alert outside of configuration checking (`-cc`, serving).
pub(crate) fn alert(text: &str, options: &Options) -> Outcome {
    let mut messages = Messages::new(options);
    messages.push(Tag::Alert, text);
    Outcome {
        stdout: Vec::new(),
        stderr: messages.lines,
        code: 1,
    }
}

fn failure(errors: &Errors, messages: &mut Messages<'_>) {
    let mut files_in_error: Vec<&str> = Vec::new();
    for diagnostic in &errors.diagnostics {
        messages.diagnostic(diagnostic);
        let file = diagnostic.file();
        let positioned = diagnostic.line() > 0 && !file.is_empty();
        if diagnostic.severity == Severity::Error && positioned && !files_in_error.contains(&file) {
            files_in_error.push(file);
        }
    }
    for file in files_in_error {
        messages.push(
            Tag::Alert,
            &format!("config : Error(s) found in configuration file : {file}"),
        );
    }
    messages.push(Tag::Alert, "config : Fatal errors found in configuration.");
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "defaults\n    mode http\n    timeout connect 5s\n    \
                         timeout client 30s\n    timeout server 30s\n\
                         frontend web\n    bind :80\n    default_backend app\n\
                         backend app\n    server a1 127.0.0.1:8001\n";

    fn options(quiet: bool) -> Options {
        Options {
            pid: 42,
            executable: "/usr/sbin/haproxyd".to_owned(),
            quiet,
            zero_warning: false,
        }
    }

    fn load(text: &str) -> Result<Loaded, Errors> {
        proxy_config::parse_str("t.cfg", text, &|_| None)
    }

    #[test]
    fn prefixes_are_padded_like_haproxy() {
        assert_eq!(prefix(Tag::Alert, 7), "[ALERT]    (7) : ");
        assert_eq!(prefix(Tag::Warning, 7), "[WARNING]  (7) : ");
        assert_eq!(prefix(Tag::Notice, 7), "[NOTICE]   (7) : ");
    }

    #[test]
    fn valid_configuration() {
        let outcome = check(&load(VALID), &options(false));
        assert_eq!(outcome.code, 0);
        assert_eq!(outcome.stdout, ["Configuration file is valid"]);
        assert!(outcome.stderr.is_empty());
    }

    #[test]
    fn errors_are_alerts_with_closing_lines() {
        let text = VALID.replace("    bind :80\n", "    bind :80\n    frobnicate\n");
        let outcome = check(&load(&text), &options(false));
        assert_eq!(outcome.code, 1);
        assert!(outcome.stdout.is_empty());
        let err = &outcome.stderr;
        assert_eq!(err[0], "[NOTICE]   (42) : haproxyd version is 0.1.0");
        assert_eq!(
            err[1],
            "[NOTICE]   (42) : path to executable is /usr/sbin/haproxyd"
        );
        assert!(
            err[2].starts_with("[ALERT]    (42) : config : parsing [t.cfg:8] : frontend 'web' : "),
            "{err:?}"
        );
        assert!(err[2].contains("frobnicate"), "{err:?}");
        let n = err.len();
        assert_eq!(
            err[n - 2],
            "[ALERT]    (42) : config : Error(s) found in configuration file : t.cfg"
        );
        assert_eq!(
            err[n - 1],
            "[ALERT]    (42) : config : Fatal errors found in configuration."
        );
    }

    #[test]
    fn quiet_prints_nothing_but_keeps_the_code() {
        let text = VALID.replace("    bind :80\n", "    bind :80\n    frobnicate\n");
        let outcome = check(&load(&text), &options(true));
        assert_eq!(
            outcome,
            Outcome {
                code: 1,
                ..Outcome::default()
            }
        );
        let outcome = check(&load(VALID), &options(true));
        assert_eq!(outcome, Outcome::default());
    }

    #[test]
    fn no_listener_is_exit_2() {
        let text = VALID.replace("    bind :80\n", "");
        let outcome = check(&load(&text), &options(false));
        assert_eq!(outcome.code, EXIT_NO_LISTENER);
        assert_eq!(
            outcome.stdout,
            ["Configuration file has no error but will not start (no listener) => exit(2)."]
        );
    }

    /// Runs `startup` with a captured console: the exit code and the lines.
    fn start(
        loaded: Loaded,
        serve: impl FnOnce(Config, &mut Console<'_>) -> Result<(), String>,
    ) -> (u8, Vec<String>) {
        let options = options(false);
        let mut out = Vec::new();
        let code = {
            let mut console = Console::new(&options, &mut out);
            startup(loaded, &mut console, serve)
        };
        let text = String::from_utf8(out).unwrap();
        (code, text.lines().map(str::to_owned).collect())
    }

    #[test]
    fn startup_serves_only_with_a_listener() {
        let mut served = false;
        let (code, _) = start(load(VALID).unwrap(), |_, _| {
            served = true;
            Ok(())
        });
        assert!(served);
        assert_eq!(code, 0);

        let text = VALID.replace("    bind :80\n", "");
        let (code, lines) = start(load(&text).unwrap(), |_, _| {
            panic!("must not serve without a listener")
        });
        assert_eq!(code, 1);
        assert!(lines.last().unwrap().contains("No enabled listener found"));

        let (code, lines) = start(load(VALID).unwrap(), |_, _| Err("engine failed".to_owned()));
        assert_eq!(code, 1);
        assert!(lines.last().unwrap().ends_with(": engine failed"));
    }

    #[test]
    fn startup_prints_warnings_before_serving() {
        let (code, lines) = start(with_warning(VALID), |_, console| {
            // The configuration's warnings are out before serving begins.
            console.push(Tag::Warning, "while serving");
            Ok(())
        });
        assert_eq!(code, 0);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[2].contains("'option logasap' is not implemented"));
        assert_eq!(lines[3], "[WARNING]  (42) : while serving");
    }

    fn with_warning(text: &str) -> Loaded {
        let mut loaded = load(text).unwrap();
        loaded.warnings.push(Diagnostic {
            span: proxy_config::Span {
                file: "t.cfg".into(),
                line: 9,
                column: 5,
            },
            section: None,
            keyword: Some("option".to_owned()),
            kind: DiagnosticKind::NotImplemented("option logasap".to_owned()),
            severity: Severity::Warning,
        });
        loaded
    }

    #[test]
    fn warnings_go_to_stderr_and_are_announced_on_stdout() {
        let outcome = check(&Ok(with_warning(VALID)), &options(false));
        assert_eq!(outcome.code, 0);
        assert_eq!(
            outcome.stdout,
            ["Warnings were found.", "Configuration file is valid"]
        );
        assert_eq!(
            outcome.stderr[2],
            "[WARNING]  (42) : config : parsing [t.cfg:9] : \
             'option logasap' is not implemented yet and is ignored (column 5)"
        );
    }

    #[test]
    fn zero_warning_makes_warnings_fatal() {
        let strict = Options {
            zero_warning: true,
            ..options(false)
        };
        let outcome = check(&Ok(with_warning(VALID)), &strict);
        assert_eq!(outcome.code, 1);
        assert!(outcome.stdout.is_empty());
        assert_eq!(
            outcome.stderr.last().map(String::as_str),
            Some(
                "[ALERT]    (42) : config : Some warnings were found and 'zero-warning' is set. \
                 Aborting."
            )
        );
        assert_eq!(check(&load(VALID), &strict).code, 0);
    }

    #[test]
    fn unreadable_files_are_reported_in_haproxy_words() {
        let errors = proxy_config::load(&["/nonexistent/haproxyd.cfg".into()]).unwrap_err();
        let outcome = check(&Err(errors), &options(false));
        assert_eq!(outcome.code, 1);
        assert!(
            outcome.stderr[2].starts_with(
                "[ALERT]    (42) : config : Cannot open configuration file/directory \
                 /nonexistent/haproxyd.cfg : "
            ),
            "{:?}",
            outcome.stderr
        );
    }
}
