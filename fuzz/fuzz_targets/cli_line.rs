//! Fuzzes the stats-socket command line: splitting (`;`, blanks, `\`
//! escapes) and parsing at every level. Never a panic; the words split out
//! of a line, escaped again and joined, split back to the same words; the
//! session level changes only the help text of an unknown command, never
//! which command a line parses to.
#![no_main]

use proxy_core::cli::{Level, parse, required_level, split_line};

/// Writes `words` as one command line, escaping what `split_line` treats
/// specially, commands separated by `;`.
fn join(commands: &[Vec<String>]) -> String {
    let mut line = String::new();
    for (i, words) in commands.iter().enumerate() {
        if i > 0 {
            line.push_str(" ; ");
        }
        for (j, word) in words.iter().enumerate() {
            if j > 0 {
                line.push(' ');
            }
            for c in word.chars() {
                if matches!(c, '\\' | ';' | ' ' | '\t' | '\r' | '\n') {
                    line.push('\\');
                }
                line.push(c);
            }
        }
    }
    line
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let commands = split_line(&line);
    for words in &commands {
        assert!(!words.is_empty(), "an empty command is dropped");
        assert!(words.iter().all(|w| !w.is_empty()), "a word is never empty");
        let parsed: Vec<_> = [Level::User, Level::Operator, Level::Admin]
            .into_iter()
            .map(|level| parse(words, level).ok())
            .collect();
        if let Some(cmd) = &parsed[0] {
            let _ = required_level(cmd);
        }
        assert!(
            parsed.windows(2).all(|w| w[0] == w[1]),
            "the level changed the parse of {words:?}"
        );
    }
    assert_eq!(split_line(&join(&commands)), commands);
});
