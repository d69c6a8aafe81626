//! The syntax pass: text to lines of decoded words with positions. No IO.
//!
//! The pest grammar (`grammar.pest`) finds line and word boundaries; each word
//! is then decoded here: quotes removed, backslash escapes resolved and, inside
//! double quotes only, `${VAR}` / `${VAR-default}` expanded from the caller's
//! environment. Words without quotes or backslashes borrow the input.

use std::borrow::Cow;
use std::ops::Range;

use pest::Parser;

use crate::diag::DiagnosticKind;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct CfgParser;

/// One decoded word and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Word<'a> {
    pub(crate) text: Cow<'a, str>,
    /// The word as written, for decoding again when the environment changes.
    pub(crate) raw: &'a str,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// A non-empty line: a range into [`Lexed::words`].
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) words: Range<usize>,
}

/// The result of the syntax pass over one file.
#[derive(Debug, Default)]
pub(crate) struct Lexed<'a> {
    pub(crate) words: Vec<Word<'a>>,
    pub(crate) lines: Vec<Line>,
    /// Lexical errors with their line and column.
    pub(crate) errors: Vec<(u32, u32, DiagnosticKind)>,
}

impl<'a> Lexed<'a> {
    pub(crate) fn line_words(&self, line: &Line) -> &[Word<'a>] {
        self.words.get(line.words.clone()).unwrap_or(&[])
    }
}

/// Tracks line and column while walking forward through the text, so that
/// positions cost time proportional to the text once, not per word.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    line_start: usize,
}

impl Cursor<'_> {
    fn advance_to(&mut self, target: usize) -> (u32, u32) {
        let target = target.min(self.text.len());
        if target > self.pos {
            let gap = self.text.as_bytes().get(self.pos..target).unwrap_or(&[]);
            for (i, b) in gap.iter().enumerate() {
                if *b == b'\n' {
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.pos + i + 1;
                }
            }
            self.pos = target;
        }
        let col_text = self.text.get(self.line_start..target).unwrap_or("");
        let col = if col_text.is_ascii() {
            col_text.len()
        } else {
            col_text.chars().count()
        };
        (
            self.line,
            u32::try_from(col).unwrap_or(u32::MAX).saturating_add(1),
        )
    }
}

/// Runs the syntax pass over `text`.
pub(crate) fn lex<'a>(text: &'a str, env: &dyn Fn(&str) -> Option<String>) -> Lexed<'a> {
    let mut out = Lexed::default();
    let pairs = match CfgParser::parse(Rule::file, text) {
        Ok(p) => p,
        Err(e) => {
            // The grammar accepts every input (`bad` takes any line), so this
            // is unreachable in practice; report it rather than panic.
            let (line, col) = match e.line_col {
                pest::error::LineColLocation::Pos(p) | pest::error::LineColLocation::Span(p, _) => {
                    p
                }
            };
            out.errors.push((
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(col).unwrap_or(u32::MAX),
                DiagnosticKind::InvalidArgument {
                    keyword: String::from("syntax"),
                    message: e.variant.message().into_owned(),
                },
            ));
            return out;
        }
    };
    let mut cur = Cursor {
        text,
        pos: 0,
        line: 1,
        line_start: 0,
    };
    let mut current_line = 0u32;
    let mut start = 0usize;
    for pair in pairs.flatten() {
        match pair.as_rule() {
            Rule::word => {
                let (line, column) = cur.advance_to(pair.as_span().start());
                if line != current_line {
                    if start < out.words.len() {
                        out.lines.push(Line {
                            words: start..out.words.len(),
                        });
                    }
                    start = out.words.len();
                    current_line = line;
                }
                out.words.push(Word {
                    text: decode(pair.as_str(), env),
                    raw: pair.as_str(),
                    line,
                    column,
                });
            }
            Rule::bad => {
                let (line, column) = cur.advance_to(pair.as_span().start());
                let (offset, which) = unterminated_quote(pair.as_str());
                let extra = pair.as_str().get(..offset).map_or(0, |s| s.chars().count());
                let col = column.saturating_add(u32::try_from(extra).unwrap_or(0));
                out.errors
                    .push((line, col, DiagnosticKind::UnterminatedQuote(which)));
            }
            _ => {}
        }
    }
    if start < out.words.len() {
        out.lines.push(Line {
            words: start..out.words.len(),
        });
    }
    out
}

/// Finds the opening quote that is never closed in a line the grammar refused.
fn unterminated_quote(line: &str) -> (usize, &'static str) {
    let mut open: Option<(usize, u8)> = None;
    let bytes = line.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match open {
            None => match b {
                b'\\' => i += 1,
                b'#' => break,
                b'"' | b'\'' => open = Some((i, b)),
                _ => {}
            },
            Some((_, b'"')) if b == b'\\' => i += 1,
            Some((_, q)) if b == q => open = None,
            Some(_) => {}
        }
        i += 1;
    }
    match open {
        Some((at, b'\'')) => (at, "single"),
        Some((at, _)) => (at, "double"),
        None => (0, "double"),
    }
}

/// Decodes one raw word: quotes, escapes and environment variables.
pub(crate) fn decode<'a>(raw: &'a str, env: &dyn Fn(&str) -> Option<String>) -> Cow<'a, str> {
    if !raw.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\'')) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    #[derive(PartialEq)]
    enum Quote {
        None,
        Double,
        Single,
    }
    let mut q = Quote::None;
    while let Some(c) = chars.next() {
        match (&q, c) {
            (Quote::Single, '\'') => q = Quote::None,
            (Quote::Single, c) => out.push(c),
            (Quote::None, '\'') => q = Quote::Single,
            (Quote::None, '"') => q = Quote::Double,
            (Quote::Double, '"') => q = Quote::None,
            (_, '\\') => match chars.next() {
                Some('r') => out.push('\r'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('x') => {
                    let hi = chars.next_if(char::is_ascii_hexdigit);
                    let lo = hi.and_then(|_| chars.next_if(char::is_ascii_hexdigit));
                    match (
                        hi.and_then(|h| h.to_digit(16)),
                        lo.and_then(|l| l.to_digit(16)),
                    ) {
                        (Some(h), Some(l)) if h < 8 => {
                            out.push(char::from(u8::try_from(h * 16 + l).unwrap_or(b'?')));
                        }
                        _ => {
                            out.push_str("\\x");
                            out.extend(hi);
                            out.extend(lo);
                        }
                    }
                }
                Some(c @ (' ' | '\\' | '#' | '"' | '\'' | '$')) => out.push(c),
                Some(c) => {
                    out.push('\\');
                    out.push(c);
                }
                None => out.push('\\'),
            },
            (Quote::Double, '$') if chars.peek() == Some(&'{') => {
                let rest: String = chars.clone().skip(1).take_while(|&c| c != '}').collect();
                let closed = chars.clone().skip(1).nth(rest.chars().count()) == Some('}');
                if !closed {
                    out.push('$');
                    continue;
                }
                for _ in 0..rest.chars().count() + 2 {
                    chars.next();
                }
                let (name, default) = match rest.split_once('-') {
                    Some((n, d)) => (n, Some(d)),
                    None => (rest.as_str(), None),
                };
                match env(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(default.unwrap_or("")),
                }
            }
            (_, c) => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("8080".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn words(text: &str) -> Vec<Vec<String>> {
        let l = lex(text, &env);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        l.lines
            .iter()
            .map(|ln| {
                l.line_words(ln)
                    .iter()
                    .map(|w| w.text.to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn comments_anywhere_outside_quotes() {
        assert_eq!(
            words("a b # c\n# whole\n  d#e f"),
            [vec!["a", "b"], vec!["d"]]
        );
        assert_eq!(words("a \"b # c\" 'd#e'"), [vec!["a", "b # c", "d#e"]]);
        assert_eq!(words("a\\#b"), [vec!["a#b"]]);
    }

    #[test]
    fn escapes() {
        assert_eq!(words(r"realm no\ entrance"), [vec!["realm", "no entrance"]]);
        assert_eq!(words(r"a\\b \x41 \t\q"), [vec![r"a\b", "A", "\t\\q"]]);
        assert_eq!(words(r#"a\"b"#), [vec![r#"a"b"#]]);
    }

    #[test]
    fn quotes_and_environment() {
        assert_eq!(words(r#"x "a b"'c d'e"#), [vec!["x", "a bc de"]]);
        assert_eq!(words(r#"":${PORT}""#), [vec![":8080"]]);
        assert_eq!(words(r#"'${PORT}' ${PORT}"#), [vec!["${PORT}", "${PORT}"]]);
        assert_eq!(
            words(r#""${NOPE-80}" "${NOPE}x" "${EMPTY-1}""#),
            [vec!["80", "x", ""]]
        );
        assert_eq!(words(r#""${PORT""#), [vec!["${PORT"]]);
        assert_eq!(words(r#""a\"b""#), [vec![r#"a"b"#]]);
    }

    #[test]
    fn positions() {
        let l = lex("global\n\n  maxconn  10 # x\r\n\tdaemon", &env);
        let pos: Vec<(u32, u32)> = l.words.iter().map(|w| (w.line, w.column)).collect();
        assert_eq!(pos, [(1, 1), (3, 3), (3, 12), (4, 2)]);
        assert_eq!(l.lines.len(), 3);
    }

    #[test]
    fn unterminated_quotes_are_reported_and_other_lines_kept() {
        let l = lex("a 'b\nc \"d\ne f", &env);
        assert_eq!(l.errors.len(), 2);
        assert_eq!(l.errors[0].0, 1);
        assert_eq!(l.errors[0].1, 3);
        assert_eq!(l.errors[1].1, 3);
        assert_eq!(l.lines.len(), 1);
        assert_eq!(l.line_words(&l.lines[0])[0].text, "e");
    }
}
