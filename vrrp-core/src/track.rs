//! Rise/fall counting for tracked scripts (`vrrp_script` with `rise` and `fall`).
//!
//! The daemon runs the scripts and feeds each raw result to the script's [`ScriptTracker`];
//! a tracker reports a change only when the counts say so, and the daemon then hands
//! [`Event::ScriptStatus`](crate::Event::ScriptStatus) to every instance tracking that script.
//! One tracker per script, shared by its instances, so the `VRRP_Script(...)` line is logged once.

/// The raw outcome of one script run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// The script exited with this status (0 is success).
    Exited(i32),
    /// The script was killed by this signal.
    Signalled(i32),
    /// The script ran past its timeout and was killed.
    TimedOut,
}

impl ScriptOutcome {
    fn is_success(self) -> bool {
        matches!(self, ScriptOutcome::Exited(0))
    }
}

/// A change of a script's status, with keepalived's log line for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptChange {
    /// The script's name.
    pub name: String,
    /// Whether the script is now considered successful.
    pub ok: bool,
    /// `VRRP_Script(chk_haproxy) succeeded` or `... failed (exited with status 1)`.
    pub log: String,
}

/// Counts consecutive results of one script against its `rise` and `fall` thresholds.
///
/// Before the first result the status is unknown; the first result decides it at once
/// (as keepalived's initial state does). Afterwards `fall` consecutive failures turn a
/// good script bad and `rise` consecutive successes turn a bad one good.
#[derive(Debug, Clone)]
pub struct ScriptTracker {
    name: String,
    rise: u32,
    fall: u32,
    ok: Option<bool>,
    streak: u32,
}

impl ScriptTracker {
    /// A tracker; `rise` and `fall` of 0 are treated as 1 (keepalived's default).
    pub fn new(name: impl Into<String>, rise: u32, fall: u32) -> ScriptTracker {
        ScriptTracker {
            name: name.into(),
            rise: rise.max(1),
            fall: fall.max(1),
            ok: None,
            streak: 0,
        }
    }

    /// The script's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current status: `None` until the first result.
    pub fn status(&self) -> Option<bool> {
        self.ok
    }

    /// Records one result; returns the change when the status flips (or is first known).
    pub fn record(&mut self, outcome: ScriptOutcome) -> Option<ScriptChange> {
        let success = outcome.is_success();
        let flip = match self.ok {
            None => true,
            Some(ok) if ok == success => {
                self.streak = 0;
                false
            }
            Some(_) => {
                self.streak += 1;
                let needed = if success { self.rise } else { self.fall };
                self.streak >= needed
            }
        };
        if !flip {
            return None;
        }
        self.streak = 0;
        self.ok = Some(success);
        let log = match outcome {
            _ if success => format!("VRRP_Script({}) succeeded", self.name),
            ScriptOutcome::Exited(code) => {
                format!(
                    "VRRP_Script({}) failed (exited with status {code})",
                    self.name
                )
            }
            ScriptOutcome::Signalled(sig) => {
                format!("VRRP_Script({}) failed (due to signal {sig})", self.name)
            }
            ScriptOutcome::TimedOut => format!("VRRP_Script({}) timed_out", self.name),
        };
        Some(ScriptChange {
            name: self.name.clone(),
            ok: success,
            log,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_result_decides_then_counts() {
        let mut t = ScriptTracker::new("chk", 2, 3);
        let c = t.record(ScriptOutcome::Exited(0)).unwrap();
        assert!(c.ok);
        assert_eq!(c.log, "VRRP_Script(chk) succeeded");
        assert_eq!(t.record(ScriptOutcome::Exited(1)), None);
        assert_eq!(t.record(ScriptOutcome::Exited(1)), None);
        // a success in between resets the streak
        assert_eq!(t.record(ScriptOutcome::Exited(0)), None);
        assert_eq!(t.record(ScriptOutcome::Exited(1)), None);
        assert_eq!(t.record(ScriptOutcome::Exited(1)), None);
        let c = t.record(ScriptOutcome::Exited(1)).unwrap();
        assert!(!c.ok);
        assert_eq!(c.log, "VRRP_Script(chk) failed (exited with status 1)");
        assert_eq!(t.status(), Some(false));
        assert_eq!(t.record(ScriptOutcome::Exited(0)), None);
        assert!(t.record(ScriptOutcome::Exited(0)).unwrap().ok);
    }

    #[test]
    fn zero_thresholds_mean_one() {
        let mut t = ScriptTracker::new("x", 0, 0);
        assert!(!t.record(ScriptOutcome::TimedOut).unwrap().ok);
        assert!(t.record(ScriptOutcome::Exited(0)).unwrap().ok);
        assert!(!t.record(ScriptOutcome::Signalled(9)).unwrap().ok);
    }
}
