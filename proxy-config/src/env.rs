//! The environment seen by `${VAR}` expansion, as changed by the `global`
//! directives `setenv`, `presetenv`, `unsetenv` and `resetenv`.
//!
//! HAProxy applies these to its own process environment while it reads the
//! configuration, so they affect every line read after them, in the same file
//! and in the files that follow. Here the caller's environment is never
//! touched: the changes are kept in an overlay consulted before it.

use std::collections::BTreeMap;

/// Changes made to the caller's environment by the configuration itself.
#[derive(Debug, Default)]
pub(crate) struct EnvOverlay {
    /// Variables set (`Some`) or removed (`None`) by a directive.
    changed: BTreeMap<String, Option<String>>,
    /// After `resetenv`: the only caller variables still visible.
    kept: Option<Vec<String>>,
}

impl EnvOverlay {
    /// Whether any directive has changed the environment yet.
    pub(crate) fn is_active(&self) -> bool {
        !self.changed.is_empty() || self.kept.is_some()
    }

    /// The value of `name` as a `${name}` expansion sees it now.
    pub(crate) fn get(&self, base: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
        if let Some(v) = self.changed.get(name) {
            return v.clone();
        }
        match &self.kept {
            Some(kept) if !kept.iter().any(|k| k == name) => None,
            _ => base(name),
        }
    }

    /// `setenv NAME VALUE`.
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.changed
            .insert(name.to_string(), Some(value.to_string()));
    }

    /// `unsetenv NAME`.
    pub(crate) fn unset(&mut self, name: &str) {
        self.changed.insert(name.to_string(), None);
    }

    /// `resetenv [NAME...]`: everything but the names listed disappears.
    pub(crate) fn reset(&mut self, keep: &[&str]) {
        for (name, value) in &mut self.changed {
            if !keep.contains(&name.as_str()) {
                *value = None;
            }
        }
        let kept = match self.kept.take() {
            Some(before) => before
                .into_iter()
                .filter(|k| keep.contains(&k.as_str()))
                .collect(),
            None => keep.iter().map(|k| k.to_string()).collect(),
        };
        self.kept = Some(kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(name: &str) -> Option<String> {
        match name {
            "A" => Some("a".into()),
            "B" => Some("b".into()),
            _ => None,
        }
    }

    #[test]
    fn inactive_overlay_reads_the_caller_environment() {
        let o = EnvOverlay::default();
        assert!(!o.is_active());
        assert_eq!(o.get(&base, "A").as_deref(), Some("a"));
        assert_eq!(o.get(&base, "C"), None);
    }

    #[test]
    fn set_and_unset_shadow_the_caller_environment() {
        let mut o = EnvOverlay::default();
        o.set("A", "x");
        o.set("C", "c");
        o.unset("B");
        assert!(o.is_active());
        assert_eq!(o.get(&base, "A").as_deref(), Some("x"));
        assert_eq!(o.get(&base, "B"), None);
        assert_eq!(o.get(&base, "C").as_deref(), Some("c"));
    }

    #[test]
    fn reset_keeps_only_the_names_listed() {
        let mut o = EnvOverlay::default();
        o.set("C", "c");
        o.set("D", "d");
        o.reset(&["B", "D"]);
        assert_eq!(o.get(&base, "A"), None);
        assert_eq!(o.get(&base, "B").as_deref(), Some("b"));
        assert_eq!(o.get(&base, "C"), None);
        assert_eq!(o.get(&base, "D").as_deref(), Some("d"));
        o.reset(&["D"]);
        assert_eq!(o.get(&base, "B"), None);
        o.set("A", "again");
        assert_eq!(o.get(&base, "A").as_deref(), Some("again"));
    }
}
