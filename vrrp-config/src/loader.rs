//! Where `include`d text comes from: the [`Loader`] trait, the file system
//! ([`FsLoader`]), an in-memory map for tests ([`MemLoader`]) and a loader
//! that finds nothing ([`NoIncludes`]). Also the glob matching that `include`
//! patterns use (`*`, `?`, `[...]` per path component, as glob(3) does).

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Supplies the files an `include` names.
pub trait Loader {
    /// The paths matching `pattern` (a glob already made relative to the
    /// including file's directory), sorted. No match is an empty list.
    fn glob(&self, pattern: &Path) -> io::Result<Vec<PathBuf>>;
    /// The text of `path`.
    fn read(&self, path: &Path) -> io::Result<String>;
}

/// Reads includes from the file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn glob(&self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        let mut current: Vec<PathBuf> = vec![PathBuf::new()];
        for comp in pattern.components() {
            let mut next = Vec::new();
            match comp {
                Component::Normal(name) => {
                    let name = name.to_string_lossy();
                    if has_magic(&name) {
                        for dir in &current {
                            let listing = if dir.as_os_str().is_empty() {
                                Path::new(".")
                            } else {
                                dir.as_path()
                            };
                            let Ok(entries) = std::fs::read_dir(listing) else {
                                continue;
                            };
                            for entry in entries.flatten() {
                                let file_name = entry.file_name();
                                let file_name = file_name.to_string_lossy();
                                if component_matches(&name, &file_name) {
                                    next.push(dir.join(&*file_name));
                                }
                            }
                        }
                    } else {
                        next = current.iter().map(|d| d.join(&*name)).collect();
                    }
                }
                other => next = current.iter().map(|d| d.join(other)).collect(),
            }
            current = next;
        }
        let mut found: Vec<PathBuf> = current.into_iter().filter(|p| p.is_file()).collect();
        found.sort();
        Ok(found)
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        let bytes = std::fs::read(path)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Files held in memory, keyed by path: hermetic tests and embedders.
#[derive(Debug, Clone, Default)]
pub struct MemLoader {
    files: BTreeMap<PathBuf, String>,
}

impl MemLoader {
    /// An empty set of files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the file `path` with `text`.
    pub fn insert(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> &mut Self {
        self.files.insert(path.into(), text.into());
        self
    }
}

impl Loader for MemLoader {
    fn glob(&self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        // No file system to resolve `..` against: resolve it lexically.
        let mut want: Vec<Component<'_>> = Vec::new();
        for comp in pattern.components() {
            match comp {
                Component::CurDir => {}
                Component::ParentDir if matches!(want.last(), Some(Component::Normal(_))) => {
                    want.pop();
                }
                other => want.push(other),
            }
        }
        Ok(self
            .files
            .keys()
            .filter(|path| {
                let have: Vec<_> = path.components().collect();
                have.len() == want.len()
                    && want.iter().zip(&have).all(|(w, h)| match (w, h) {
                        (Component::Normal(w), Component::Normal(h)) => {
                            component_matches(&w.to_string_lossy(), &h.to_string_lossy())
                        }
                        (w, h) => w == h,
                    })
            })
            .cloned()
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

/// A loader with no files: every `include` matches nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIncludes;

impl Loader for NoIncludes {
    fn glob(&self, _: &Path) -> io::Result<Vec<PathBuf>> {
        Ok(Vec::new())
    }

    fn read(&self, _: &Path) -> io::Result<String> {
        Err(io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Whether one path component `name` matches the glob `pattern`.
///
/// A leading `.` in `name` must be matched literally, as glob(3) does.
/// Backtracking is limited to the last `*`, so time is O(len(pattern) * len(name)).
pub fn component_matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => match_class(&p, pi, n[ni]),
            Some(&c) if c == n[ni] => Some(pi + 1),
            _ => None,
        };
        match step {
            Some(next) => {
                pi = next;
                ni += 1;
            }
            None => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[start] == '['`; returns the
/// index after the class on a match. An unterminated `[` matches itself.
fn match_class(p: &[char], start: usize, c: char) -> Option<usize> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let Some(&lo) = p.get(i) else {
            return (c == '[').then_some(start + 1);
        };
        if lo == ']' && !first {
            break;
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = p.get(i + 2).copied().unwrap_or(lo);
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    if p.get(i) != Some(&']') {
        return (c == '[').then_some(start + 1);
    }
    (matched != negate).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_components() {
        assert!(component_matches("*.conf", "a.conf"));
        assert!(!component_matches("*.conf", "a.conf.bak"));
        assert!(!component_matches("*.conf", ".hidden.conf"));
        assert!(component_matches("vi_?.conf", "vi_1.conf"));
        assert!(component_matches("vi_[0-9].conf", "vi_7.conf"));
        assert!(!component_matches("vi_[!0-9].conf", "vi_7.conf"));
        assert!(component_matches("a*b*c", "axxbyyc"));
        assert!(!component_matches("a*b*c", "axxbyy"));
        assert!(component_matches("plain", "plain"));
        assert!(component_matches("[", "["));
    }

    #[test]
    fn mem_loader_globs_by_component() {
        let mut l = MemLoader::new();
        l.insert("/etc/k/conf.d/b.conf", "")
            .insert("/etc/k/conf.d/a.conf", "")
            .insert("/etc/k/conf.d/sub/c.conf", "")
            .insert("/etc/k/other.txt", "");
        let got = l
            .glob(Path::new("/etc/k/conf.d/*.conf"))
            .unwrap_or_default();
        assert_eq!(
            got,
            vec![
                PathBuf::from("/etc/k/conf.d/a.conf"),
                PathBuf::from("/etc/k/conf.d/b.conf")
            ]
        );
    }

    #[test]
    fn fs_loader_globs_sorted() {
        let dir = std::env::temp_dir().join(format!("vrrp-config-glob-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        for n in ["b.conf", "a.conf", "c.txt"] {
            let _ = std::fs::write(dir.join(n), "x");
        }
        let got = FsLoader.glob(&dir.join("*.conf")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(got, vec![dir.join("a.conf"), dir.join("b.conf")]);
    }
}
