//! The pid file: refuse to start while it names a live process, write our own pid,
//! remove it on exit.

use std::path::{Path, PathBuf};

use crate::Error;

/// keepalived's default pid file.
pub const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";

/// The pid written in `text`, if it is one.
pub fn parse_pid(text: &str) -> Option<u32> {
    text.trim().parse().ok().filter(|p| *p > 0)
}

/// Whether process `pid` exists (its /proc entry is there).
pub fn is_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// A written pid file, removed on drop.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Writes `pid` into `path` unless the file names another live process
    /// ([`Error::AlreadyRunning`]). A stale file (dead or unreadable pid) is overwritten.
    pub fn create(path: &Path, pid: u32) -> Result<PidFile, Error> {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Some(old) = parse_pid(&text) {
                if old != pid && is_alive(old) {
                    return Err(Error::AlreadyRunning {
                        path: path.to_path_buf(),
                        pid: old,
                    });
                }
            }
        }
        std::fs::write(path, format!("{pid}\n")).map_err(|source| Error::Io {
            op: "writing",
            path: path.to_path_buf(),
            source,
        })?;
        Ok(PidFile {
            path: path.to_path_buf(),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
