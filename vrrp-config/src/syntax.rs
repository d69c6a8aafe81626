//! First pass: text to a tree of [`Node`]s with positions. No meaning, no IO
//! of its own: `include` statements are expanded through a [`Loader`].
//!
//! keepalived is line oriented, with braces that may close a line, stand
//! alone on the next one, or share a line with statements (`track_script {
//! chk }`). The pest grammar only lexes statements, braces and newlines;
//! nesting is rebuilt here with an explicit stack, so unbalanced braces get
//! keepalived-like messages and no input can exhaust the call stack.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pest::Parser as _;

use crate::diag::{Diagnostic, Origin, Problem, Severity};
use crate::loader::Loader;

use grammar::{Lexer, Rule};

// The derive emits an undocumented `pub enum Rule`; keep it private here.
#[allow(missing_docs, unreachable_pub)]
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "keepalived.pest"]
    pub struct Lexer;
}

/// Include nesting deeper than this is reported as an error (a cycle, most likely).
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// Block nesting deeper than this is reported as an error.
pub const MAX_BLOCK_DEPTH: usize = 32;

/// One word of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text, without quotes.
    pub text: String,
    /// Whether it was written in double quotes.
    pub quoted: bool,
    /// Where it starts.
    pub origin: Origin,
}

/// A statement: keyword, arguments, and the block that follows it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The first word.
    pub keyword: Word,
    /// The other words on the line.
    pub args: Vec<Word>,
    /// The `{ ... }` attached to the statement.
    pub block: Option<Vec<Node>>,
}

impl Node {
    /// Where the statement starts.
    pub fn origin(&self) -> &Origin {
        &self.keyword.origin
    }
}

enum Token {
    Open(Origin),
    Close(Origin),
    Stmt(Vec<Word>),
}

struct Frame {
    parent: Option<Node>,
    items: Vec<Node>,
}

/// Builds the tree for `text` (named `file_name`), expanding includes through `loader`.
///
/// Problems are appended to `diags`; the tree holds whatever could be read.
pub fn parse_tree(
    file_name: &str,
    text: &str,
    loader: &dyn Loader,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Node> {
    let mut b = Builder {
        loader,
        diags,
        stack: vec![Frame {
            parent: None,
            items: Vec::new(),
        }],
        last_was_stmt: false,
        overflow: 0,
    };
    b.feed_file(Arc::from(file_name), text, 0);
    while b.stack.len() > 1 {
        b.close(None);
    }
    b.stack.pop().map(|f| f.items).unwrap_or_default()
}

struct Builder<'a> {
    loader: &'a dyn Loader,
    diags: &'a mut Vec<Diagnostic>,
    stack: Vec<Frame>,
    last_was_stmt: bool,
    overflow: usize,
}

impl Builder<'_> {
    fn error(&mut self, origin: Origin, problem: Problem) {
        self.diags
            .push(Diagnostic::new(Severity::Error, origin, problem));
    }

    fn feed_file(&mut self, file: Arc<str>, text: &str, depth: usize) {
        let tokens = match lex(&file, text) {
            Ok(t) => t,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        for token in tokens {
            match token {
                Token::Open(origin) => self.open(origin),
                Token::Close(origin) => self.close(Some(origin)),
                Token::Stmt(words) => self.stmt(&file, words, depth),
            }
        }
    }

    fn stmt(&mut self, file: &Arc<str>, mut words: Vec<Word>, depth: usize) {
        if words.is_empty() {
            return;
        }
        let keyword = words.remove(0);
        if keyword.text == "include" && !keyword.quoted {
            self.include(file, &keyword, &words, depth);
            self.last_was_stmt = false;
            return;
        }
        if let Some(top) = self.stack.last_mut() {
            top.items.push(Node {
                keyword,
                args: words,
                block: None,
            });
        }
        self.last_was_stmt = true;
    }

    fn open(&mut self, origin: Origin) {
        let parent = if self.last_was_stmt {
            self.stack.last_mut().and_then(|f| f.items.pop())
        } else {
            None
        };
        self.last_was_stmt = false;
        if parent.is_none() {
            self.error(
                origin.clone(),
                Problem::Braces("unexpected '{' not following a keyword".into()),
            );
        }
        if self.stack.len() > MAX_BLOCK_DEPTH {
            // Too deep to be a keepalived configuration: count the braces so
            // the rest still balances, but build nothing (a deep tree would
            // make every later recursive walk, and its drop, a stack risk).
            if self.overflow == 0 {
                self.error(
                    origin,
                    Problem::Braces(format!("blocks nested deeper than {MAX_BLOCK_DEPTH}")),
                );
            }
            self.overflow += 1;
            return;
        }
        self.stack.push(Frame {
            parent,
            items: Vec::new(),
        });
    }

    /// Closes the innermost block; `origin` is `None` at end of input.
    fn close(&mut self, origin: Option<Origin>) {
        self.last_was_stmt = false;
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        if self.stack.len() <= 1 {
            if let Some(origin) = origin {
                self.error(origin, Problem::Braces("extra '}' found".into()));
            }
            return;
        }
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if origin.is_none() {
            let at = frame
                .parent
                .as_ref()
                .map(|p| p.origin().clone())
                .unwrap_or_default();
            let what = frame
                .parent
                .as_ref()
                .map(|p| p.keyword.text.clone())
                .unwrap_or_else(|| "{".into());
            self.error(
                at,
                Problem::Braces(format!("missing '}}' for '{what}' block opened here")),
            );
        }
        if let (Some(mut parent), Some(top)) = (frame.parent, self.stack.last_mut()) {
            parent.block = Some(frame.items);
            top.items.push(parent);
        }
    }

    fn include(&mut self, file: &Arc<str>, keyword: &Word, args: &[Word], depth: usize) {
        let Some(pattern) = args.first() else {
            self.error(
                keyword.origin.clone(),
                Problem::Invalid("'include' needs a file name or pattern".into()),
            );
            return;
        };
        if depth >= MAX_INCLUDE_DEPTH {
            self.error(
                keyword.origin.clone(),
                Problem::Invalid(format!(
                    "includes nested deeper than {MAX_INCLUDE_DEPTH} (an include cycle?)"
                )),
            );
            return;
        }
        let base = Path::new(&**file).parent().unwrap_or(Path::new(""));
        let full: PathBuf = base.join(&pattern.text);
        let paths = match self.loader.glob(&full) {
            Ok(p) => p,
            Err(e) => {
                self.error(
                    pattern.origin.clone(),
                    Problem::Read {
                        path: full.display().to_string(),
                        reason: e.to_string(),
                    },
                );
                return;
            }
        };
        if paths.is_empty() {
            self.diags.push(Diagnostic::new(
                Severity::Warning,
                pattern.origin.clone(),
                Problem::IncludeMissing(pattern.text.clone()),
            ));
            return;
        }
        for path in paths {
            match self.loader.read(&path) {
                Ok(text) => {
                    let name: Arc<str> = Arc::from(path.display().to_string());
                    self.feed_file(name, &text, depth + 1);
                }
                Err(e) => self.error(
                    pattern.origin.clone(),
                    Problem::Read {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    },
                ),
            }
        }
    }
}

fn lex(file: &Arc<str>, text: &str) -> Result<Vec<Token>, Diagnostic> {
    let pairs = Lexer::parse(Rule::file, text).map_err(|e| {
        let (line, col) = match e.line_col {
            pest::error::LineColLocation::Pos(p) => p,
            pest::error::LineColLocation::Span(p, _) => p,
        };
        let what = if text
            .lines()
            .nth(line.saturating_sub(1))
            .is_some_and(|l| l.matches('"').count() % 2 == 1)
        {
            "unterminated quoted string".to_string()
        } else {
            "unexpected character".to_string()
        };
        Diagnostic::new(
            Severity::Error,
            Origin::new(file.clone(), to_u32(line), to_u32(col)),
            Problem::Syntax(what),
        )
    })?;
    // `Pair::line_col` uses pest's line index; `Position::line_col` rescans
    // from the start of the text, which is quadratic over a file.
    let at = |pair: &pest::iterators::Pair<'_, Rule>| {
        let (line, col) = pair.line_col();
        Origin::new(file.clone(), to_u32(line), to_u32(col))
    };
    let mut out = Vec::new();
    for pair in pairs.flatten() {
        match pair.as_rule() {
            Rule::open => out.push(Token::Open(at(&pair))),
            Rule::close => out.push(Token::Close(at(&pair))),
            Rule::stmt => {
                let words = pair
                    .into_inner()
                    .map(|w| {
                        let origin = at(&w);
                        match w.as_rule() {
                            Rule::quoted => Word {
                                text: w.into_inner().as_str().to_string(),
                                quoted: true,
                                origin,
                            },
                            _ => Word {
                                text: w.as_str().to_string(),
                                quoted: false,
                                origin,
                            },
                        }
                    })
                    .collect();
                out.push(Token::Stmt(words));
            }
            _ => {}
        }
    }
    Ok(out)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::{MemLoader, NoIncludes};

    fn tree(text: &str) -> (Vec<Node>, Vec<Diagnostic>) {
        let mut d = Vec::new();
        let t = parse_tree("t.conf", text, &NoIncludes, &mut d);
        (t, d)
    }

    fn shape(nodes: &[Node]) -> String {
        let mut s = String::new();
        for n in nodes {
            s.push_str(&n.keyword.text);
            for a in &n.args {
                s.push(' ');
                s.push_str(&a.text);
            }
            if let Some(b) = &n.block {
                s.push_str(" {");
                s.push_str(&shape(b));
                s.push('}');
            }
            s.push(';');
        }
        s
    }

    #[test]
    fn braces_in_every_keepalived_placement() {
        let (t, d) = tree("a x {\n b 1\n}\nc\n{\n d { e }\n}\nf { g\n h }\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(shape(&t), "a x {b 1;};c {d {e;};};f {g;h;};");
    }

    #[test]
    fn comments_and_quotes() {
        let (t, d) = tree("! head\nscript \"killall -0 # x\" # tail\nweight 2 ! also\nab#cd\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].args[0].text, "killall -0 # x");
        assert!(t[0].args[0].quoted);
        assert_eq!(shape(&t[1..]), "weight 2;ab;");
    }

    #[test]
    fn positions_are_one_based() {
        let (t, _) = tree("\n  key  val\n");
        assert_eq!((t[0].keyword.origin.line, t[0].keyword.origin.col), (2, 3));
        assert_eq!((t[0].args[0].origin.line, t[0].args[0].origin.col), (2, 8));
    }

    #[test]
    fn unbalanced_braces_are_reported() {
        let (_, d) = tree("a {\n b\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].origin.line, 1);
        assert!(d[0].problem.to_string().contains("missing '}'"));
        let (_, d) = tree("a {\n}\n}\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].origin.line, 3);
        let (_, d) = tree("{\n}\n");
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn unterminated_quote_is_a_syntax_error() {
        let (_, d) = tree("script \"abc\n");
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].problem,
            Problem::Syntax("unterminated quoted string".into())
        );
        assert_eq!(d[0].origin.line, 1);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "a {\n".repeat(10_000);
        let (_, d) = tree(&text);
        assert!(
            d.iter()
                .any(|d| d.problem.to_string().contains("nested deeper"))
        );
    }

    #[test]
    fn includes_resolve_relative_to_the_including_file() {
        let mut l = MemLoader::new();
        l.insert("/etc/k/conf.d/b.conf", "y 2\n")
            .insert("/etc/k/conf.d/a.conf", "x 1\ninclude ../more/*.conf\n")
            .insert("/etc/k/more/m.conf", "m {\n}\n");
        let mut d = Vec::new();
        let t = parse_tree("/etc/k/main.conf", "include conf.d/*.conf\nz\n", &l, &mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(shape(&t), "x 1;m {};y 2;z;");
        assert_eq!(&*t[1].keyword.origin.file, "/etc/k/more/m.conf");
    }

    #[test]
    fn missing_include_warns_and_cycles_stop() {
        let mut d = Vec::new();
        parse_tree("/m.conf", "include none/*.conf\n", &NoIncludes, &mut d);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, Severity::Warning);
        let mut l = MemLoader::new();
        l.insert("/loop.conf", "include loop.conf\n");
        let mut d = Vec::new();
        parse_tree("/loop.conf", "include loop.conf\n", &l, &mut d);
        assert!(d.iter().any(|d| d.severity == Severity::Error));
    }
}
