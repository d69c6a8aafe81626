//! Splitting a `script` or `notify_*` string into an argv, as keepalived does before
//! it calls execve: there is no shell, so `$(...)`, pipes and globs mean nothing.
//!
//! Words are separated by blanks. Single quotes keep everything up to the next single
//! quote literally; double quotes group words and let a backslash escape the next
//! character; outside quotes a backslash escapes the next character too. Quoted and
//! unquoted pieces next to each other join into one word (`a"b c"` is `ab c`).

use crate::Error;

/// Splits `line` into program and arguments. An empty line, an unterminated quote or a
/// trailing backslash is an error naming the line.
pub fn split(line: &str) -> Result<Vec<String>, Error> {
    let bad = |reason: &str| Error::Command {
        command: line.to_string(),
        reason: reason.to_string(),
    };
    let mut words = Vec::new();
    let mut word = String::new();
    // a word exists once any part of it was seen, so `""` is an empty argument
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.push(q),
                        None => return Err(bad("unterminated single quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => word.push(e),
                            None => return Err(bad("trailing backslash")),
                        },
                        Some(q) => word.push(q),
                        None => return Err(bad("unterminated double quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(e) => word.push(e),
                    None => return Err(bad("trailing backslash")),
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err(bad("empty command"));
    }
    Ok(words)
}
