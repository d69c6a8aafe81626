//! Header-name case on the wire, as HAProxy 2.6 writes HTTP/1 heads.
//!
//! HAProxy stores header names lowercased and sends them so, to servers and
//! to clients alike. `h1-case-adjust FROM TO` (and `h1-case-adjust-file`)
//! in `global` name exceptions, applied only where a proxy asks with
//! `option h1-case-adjust-bogus-client` (answers to clients) or
//! `option h1-case-adjust-bogus-server` (requests to servers). A
//! [`CaseAdjust`] is that table; the head writers consult it while copying
//! names, so the common case costs one in-place lowercase and no allocation.

use std::collections::HashMap;

/// Why a case-adjust rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaseAdjustError {
    /// `FROM` and `TO` are not the same name up to case, or not header names.
    #[error("<from> and <to> must not differ except the case ('{from}' '{to}')")]
    Differ {
        /// The name as HAProxy would send it.
        from: String,
        /// The name asked for.
        to: String,
    },
    /// A line of an `h1-case-adjust-file` is not two names.
    #[error("line {line}: {source}")]
    FileLine {
        /// 1-based line number in the file.
        line: usize,
        /// What was wrong with the line.
        source: Box<CaseAdjustError>,
    },
    /// A line of an `h1-case-adjust-file` has a single word.
    #[error("expects <from> and <to>")]
    Missing,
}

/// Exceptions to lowercase header names: lowercase name to its wire form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseAdjust {
    map: HashMap<Box<[u8]>, Box<[u8]>>,
}

impl CaseAdjust {
    /// An empty table: every name is sent lowercased.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when no exception is set.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Sends header `from` as `to`; both must be the same token up to case.
    /// A later rule for the same name replaces the earlier one, as in HAProxy.
    pub fn insert(&mut self, from: &str, to: &str) -> Result<(), CaseAdjustError> {
        let valid = !from.is_empty()
            && from.eq_ignore_ascii_case(to)
            && from.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !valid {
            return Err(CaseAdjustError::Differ {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        let key = from.to_ascii_lowercase().into_bytes().into_boxed_slice();
        self.map.insert(key, to.as_bytes().into());
        Ok(())
    }

    /// Adds the rules of an `h1-case-adjust-file`: one `FROM TO` per line,
    /// blank lines and `#` comments skipped, words after the second ignored
    /// as HAProxy does.
    pub fn insert_file_text(&mut self, text: &str) -> Result<(), CaseAdjustError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_ascii_whitespace();
            let at = |source| CaseAdjustError::FileLine {
                line: i + 1,
                source: Box::new(source),
            };
            match (words.next(), words.next()) {
                (Some(from), Some(to)) => self.insert(from, to).map_err(at)?,
                _ => return Err(at(CaseAdjustError::Missing)),
            }
        }
        Ok(())
    }

    /// The wire form for a lowercase `name`, when an exception names it.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        if self.map.is_empty() {
            return None;
        }
        self.map.get(name).map(|v| &**v)
    }
}

impl CaseAdjust {
    /// `msg` (a whole serialized message, such as an error page) with the
    /// names of its head in their configured case; `None` when no name of
    /// the head is in the table, so the message goes out as it is.
    pub fn adjust_message(&self, msg: &[u8]) -> Option<Vec<u8>> {
        if self.map.is_empty() {
            return None;
        }
        let head_end = msg.windows(4).position(|w| w == b"\r\n\r\n")?;
        let mut out: Option<Vec<u8>> = None;
        // The first line is the status line; names start after each CRLF.
        let mut pos = msg.iter().position(|&b| b == b'\n')? + 1;
        while pos < head_end {
            let line_end = msg
                .get(pos..)
                .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
                .map_or(head_end, |i| pos + i);
            let line = msg.get(pos..line_end).unwrap_or_default();
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let name = line.get(..colon).unwrap_or_default();
                let lower = name.to_ascii_lowercase();
                if let Some(to) = self.get(&lower).filter(|to| *to != name) {
                    let buf = out.get_or_insert_with(|| msg.to_vec());
                    if let Some(dst) = buf.get_mut(pos..pos + colon) {
                        dst.copy_from_slice(to);
                    }
                }
            }
            pos = line_end + 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_keep_the_name_and_change_the_case() {
        let mut c = CaseAdjust::new();
        c.insert("Content-Length", "CONTENT-length").unwrap();
        assert_eq!(c.get(b"content-length"), Some(&b"CONTENT-length"[..]));
        assert_eq!(c.get(b"Content-Length"), None);
        assert!(matches!(
            c.insert("content-length", "Foo"),
            Err(CaseAdjustError::Differ { .. })
        ));
    }

    #[test]
    fn messages_change_only_the_names_of_their_head() {
        let mut c = CaseAdjust::new();
        assert_eq!(c.adjust_message(b"HTTP/1.1 200 OK\r\na: 1\r\n\r\n"), None);
        c.insert("content-length", "Content-LENGTH").unwrap();
        let page = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\nx: y\r\n\r\ncontent-length: 9";
        assert_eq!(
            c.adjust_message(page).unwrap(),
            b"HTTP/1.1 403 Forbidden\r\nContent-LENGTH: 2\r\nx: y\r\n\r\ncontent-length: 9"
        );
        assert_eq!(c.adjust_message(b"HTTP/1.1 200 OK\r\nx: y\r\n\r\n"), None);
        assert_eq!(c.adjust_message(b"garbage"), None);
    }

    #[test]
    fn file_lines_as_haproxy_reads_them() {
        let mut c = CaseAdjust::new();
        c.insert_file_text("# c\n  content-type   Content-TYPE  extra\n\nx-a X-A\n")
            .unwrap();
        assert_eq!(c.get(b"content-type"), Some(&b"Content-TYPE"[..]));
        assert_eq!(c.get(b"x-a"), Some(&b"X-A"[..]));
        let e = c.insert_file_text("ok OK\nbad line here\n").unwrap_err();
        assert!(
            matches!(e, CaseAdjustError::FileLine { line: 2, .. }),
            "{e}"
        );
        let e = c.insert_file_text("lonely\n").unwrap_err();
        assert_eq!(e.to_string(), "line 1: expects <from> and <to>");
    }
}
