//! Canonical text: `Display for Config` writes every value of the model in
//! keepalived syntax, one statement per line, so that parsing the output
//! gives back an equal [`Config`].

use std::fmt::{self, Display, Formatter, Write as _};
use std::time::Duration;

use crate::model::{
    AuthType, Config, Host, InitialState, Notify, ScriptUser, VirtualAddress, VrrpVersion,
};

/// A word as keepalived reads it back: bare when it can be, quoted otherwise.
///
/// Text containing `"` or a newline cannot be written in keepalived syntax;
/// such text is written quoted up to the first such character.
fn word(s: &str) -> String {
    let s = s.split(['"', '\n', '\r']).next().unwrap_or("");
    let bare = !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '{' | '}' | '#' | '!' | '"'));
    if bare {
        s.to_string()
    } else {
        format!("\"{s}\"")
    }
}

fn secs(d: Duration) -> String {
    let micros = d.subsec_micros();
    if micros == 0 {
        return d.as_secs().to_string();
    }
    let frac = format!("{micros:06}");
    format!("{}.{}", d.as_secs(), frac.trim_end_matches('0'))
}

fn user(u: &ScriptUser) -> String {
    match &u.group {
        Some(g) => format!("{} {}", word(&u.user), word(g)),
        None => word(&u.user),
    }
}

fn weight(w: i32, reverse: bool) -> String {
    if reverse {
        format!("weight {w} reverse")
    } else {
        format!("weight {w}")
    }
}

fn vip(v: &VirtualAddress) -> String {
    let mut s = format!("{}/{}", v.addr, v.prefix);
    if let Some(b) = v.broadcast {
        let _ = write!(s, " brd {b}");
    }
    if let Some(d) = &v.dev {
        let _ = write!(s, " dev {}", word(d));
    }
    if let Some(sc) = v.scope {
        let _ = write!(s, " scope {}", sc.as_str());
    }
    if let Some(l) = &v.label {
        let _ = write!(s, " label {}", word(l));
    }
    s
}

fn notify(f: &mut Formatter<'_>, n: &Notify) -> fmt::Result {
    let all = [
        ("notify_master", &n.master),
        ("notify_backup", &n.backup),
        ("notify_fault", &n.fault),
        ("notify_stop", &n.stop),
        ("notify", &n.any),
    ];
    for (kw, v) in all {
        if let Some(cmd) = v {
            writeln!(f, "    {kw} \"{}\"", word(cmd).trim_matches('"'))?;
        }
    }
    Ok(())
}

impl Display for Config {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let g = &self.global;
        writeln!(f, "global_defs {{")?;
        if !g.notification_email.is_empty() {
            writeln!(f, "    notification_email {{")?;
            for e in &g.notification_email {
                writeln!(f, "        {}", word(e))?;
            }
            writeln!(f, "    }}")?;
        }
        if let Some(v) = &g.notification_email_from {
            writeln!(f, "    notification_email_from {}", word(v))?;
        }
        if let Some(s) = &g.smtp_server {
            let host = match &s.host {
                Host::Ip(ip) => ip.to_string(),
                Host::Name(n) => word(n),
            };
            writeln!(f, "    smtp_server {host} {}", s.port)?;
        }
        if let Some(t) = g.smtp_connect_timeout {
            writeln!(f, "    smtp_connect_timeout {}", t.as_secs())?;
        }
        if let Some(r) = &g.router_id {
            writeln!(f, "    router_id {}", word(r))?;
        }
        if g.enable_script_security {
            writeln!(f, "    enable_script_security")?;
        }
        if let Some(u) = &g.script_user {
            writeln!(f, "    script_user {}", user(u))?;
        }
        writeln!(f, "}}")?;

        for s in &self.scripts {
            writeln!(f, "vrrp_script {} {{", word(&s.name))?;
            writeln!(f, "    script \"{}\"", word(&s.script).trim_matches('"'))?;
            writeln!(f, "    interval {}", s.interval.as_secs())?;
            if let Some(t) = s.timeout {
                writeln!(f, "    timeout {}", t.as_secs())?;
            }
            writeln!(f, "    {}", weight(s.weight, s.weight_reverse))?;
            writeln!(f, "    rise {}", s.rise)?;
            writeln!(f, "    fall {}", s.fall)?;
            if let Some(u) = &s.user {
                writeln!(f, "    user {}", user(u))?;
            }
            writeln!(f, "}}")?;
        }

        for i in &self.instances {
            writeln!(f, "vrrp_instance {} {{", word(&i.name))?;
            let state = match i.state {
                InitialState::Master => "MASTER",
                InitialState::Backup => "BACKUP",
            };
            writeln!(f, "    state {state}")?;
            writeln!(f, "    interface {}", word(&i.interface))?;
            writeln!(f, "    virtual_router_id {}", i.virtual_router_id)?;
            writeln!(f, "    priority {}", i.priority)?;
            let version = match i.version {
                VrrpVersion::V2 => 2,
                VrrpVersion::V3 => 3,
            };
            writeln!(f, "    version {version}")?;
            writeln!(f, "    advert_int {}", secs(i.advert_int))?;
            writeln!(f, "    garp_master_delay {}", i.garp_master_delay.as_secs())?;
            writeln!(f, "    garp_master_repeat {}", i.garp_master_repeat)?;
            if let Some(r) = i.garp_master_refresh {
                writeln!(f, "    garp_master_refresh {}", r.as_secs())?;
            }
            if let Some(a) = &i.authentication {
                let t = match a.auth_type {
                    AuthType::Pass => "PASS",
                    AuthType::Ah => "AH",
                };
                writeln!(f, "    authentication {{")?;
                writeln!(f, "        auth_type {t}")?;
                if !a.auth_pass.is_empty() {
                    writeln!(f, "        auth_pass {}", word(&a.auth_pass))?;
                }
                writeln!(f, "    }}")?;
            }
            for (kw, list) in [
                ("virtual_ipaddress", &i.virtual_ipaddress),
                ("virtual_ipaddress_excluded", &i.virtual_ipaddress_excluded),
            ] {
                if !list.is_empty() {
                    writeln!(f, "    {kw} {{")?;
                    for v in list {
                        writeln!(f, "        {}", vip(v))?;
                    }
                    writeln!(f, "    }}")?;
                }
            }
            if !i.track_script.is_empty() {
                writeln!(f, "    track_script {{")?;
                for t in &i.track_script {
                    match t.weight {
                        Some(w) => {
                            writeln!(f, "        {} {}", word(&t.name), weight(w, t.reverse))?
                        }
                        None => writeln!(f, "        {}", word(&t.name))?,
                    }
                }
                writeln!(f, "    }}")?;
            }
            if !i.track_interface.is_empty() {
                writeln!(f, "    track_interface {{")?;
                for t in &i.track_interface {
                    match t.weight {
                        Some(w) => {
                            writeln!(f, "        {} {}", word(&t.name), weight(w, t.reverse))?
                        }
                        None => writeln!(f, "        {}", word(&t.name))?,
                    }
                }
                writeln!(f, "    }}")?;
            }
            if i.nopreempt {
                writeln!(f, "    nopreempt")?;
            }
            if let Some(d) = i.preempt_delay {
                writeln!(f, "    preempt_delay {}", secs(d))?;
            }
            if let Some(ip) = i.unicast_src_ip {
                writeln!(f, "    unicast_src_ip {ip}")?;
            }
            if !i.unicast_peer.is_empty() {
                writeln!(f, "    unicast_peer {{")?;
                for p in &i.unicast_peer {
                    writeln!(f, "        {p}")?;
                }
                writeln!(f, "    }}")?;
            }
            notify(f, &i.notify)?;
            if i.smtp_alert {
                writeln!(f, "    smtp_alert")?;
            }
            if i.native_ipv6 {
                writeln!(f, "    native_ipv6")?;
            }
            if i.dont_track_primary {
                writeln!(f, "    dont_track_primary")?;
            }
            writeln!(f, "}}")?;
        }

        for g in &self.sync_groups {
            writeln!(f, "vrrp_sync_group {} {{", word(&g.name))?;
            writeln!(f, "    group {{")?;
            for m in &g.group {
                writeln!(f, "        {}", word(m))?;
            }
            writeln!(f, "    }}")?;
            notify(f, &g.notify)?;
            if g.smtp_alert {
                writeln!(f, "    smtp_alert")?;
            }
            writeln!(f, "}}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_quote_when_needed() {
        assert_eq!(word("eth0"), "eth0");
        assert_eq!(word("a b"), "\"a b\"");
        assert_eq!(word("x#y"), "\"x#y\"");
        assert_eq!(word(""), "\"\"");
    }

    #[test]
    fn seconds_keep_fractions() {
        assert_eq!(secs(Duration::from_secs(3)), "3");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5");
        assert_eq!(secs(Duration::from_micros(10_000)), "0.01");
    }
}
