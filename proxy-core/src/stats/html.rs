//! The statistics page: a header with process information, then per proxy
//! the table an HAProxy operator knows (queue, session rate, sessions,
//! bytes, denied, errors, warnings, server status), with the same column
//! groups, row classes and status colours, and for `stats admin` a form to
//! act on the checked servers. The markup and style are this project's own.

use std::fmt::Write;
use std::time::Duration;

use super::{ObjType, Row, Snapshot, col, html_escape};

/// What the page shows, from the proxy's `stats` lines and the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOptions {
    /// `stats uri`: the page's own address, for links and the form.
    pub uri: String,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats refresh`, unless the request said `;norefresh`.
    pub refresh: Option<Duration>,
    /// `stats show-legends`.
    pub show_legends: bool,
    /// `stats show-node`: the node name to show.
    pub node: Option<String>,
    /// `stats show-desc`.
    pub desc: Option<String>,
    /// The admin form is shown (authenticated and `stats admin` matched).
    pub admin: bool,
    /// The outcome of a previous admin action (`;st=DONE` and the like).
    pub status: Option<String>,
}

/// An action of the admin form, by its `action` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerAction {
    /// `ready`: set state to READY.
    Ready,
    /// `drain`: set state to DRAIN.
    Drain,
    /// `maint`: set state to MAINT.
    Maint,
    /// `dhlth`: disable health checks.
    DisableHealth,
    /// `ehlth`: enable health checks.
    EnableHealth,
    /// `shutdown`: kill the server's sessions.
    Shutdown,
}

impl ServerAction {
    /// Every action, in the order of the form's menu.
    pub const ALL: [ServerAction; 6] = [
        Self::Ready,
        Self::Drain,
        Self::Maint,
        Self::DisableHealth,
        Self::EnableHealth,
        Self::Shutdown,
    ];

    /// The form value.
    pub fn value(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Drain => "drain",
            Self::Maint => "maint",
            Self::DisableHealth => "dhlth",
            Self::EnableHealth => "ehlth",
            Self::Shutdown => "shutdown",
        }
    }

    /// The menu label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ready => "Set state to READY",
            Self::Drain => "Set state to DRAIN",
            Self::Maint => "Set state to MAINT",
            Self::DisableHealth => "Health: disable checks",
            Self::EnableHealth => "Health: enable checks",
            Self::Shutdown => "Kill Sessions",
        }
    }

    /// The action for a form value.
    pub fn from_value(v: &str) -> Option<ServerAction> {
        Self::ALL.into_iter().find(|a| a.value() == v)
    }
}

const STYLE: &str = "
body { font-family: arial, helvetica, sans-serif; font-size: 12px; color: #111; background: #fff; }
h1 { font-size: 18px; margin: 0.2em 0; } h1 .sub { font-size: 12px; font-weight: normal; }
h2 { font-size: 14px; background: #22306a; color: #fff; padding: 2px 6px; }
h3 { font-size: 13px; }
table.tbl { border-collapse: collapse; border: 1px solid #888; margin-bottom: 4px; }
table.tbl th, table.tbl td { border: 1px solid #bbb; padding: 1px 3px; text-align: right; white-space: nowrap; }
table.tbl th.pxname { background: #b00040; color: #ffff40; text-align: left; font-size: 13px; }
table.tbl th.empty { border: none; background: #fff; }
tr.titre th { background: #20307a; color: #fff; text-align: center; }
tr.frontend td { background: #f4f4c8; }
tr.backend td { background: #d8d8f0; font-weight: bold; }
tr.active_up td { background: #a8f0a0; }
tr.active_down td { background: #ff8c8c; }
tr.active_going_up td { background: #e0f8b0; }
tr.active_going_down td { background: #ffcf8c; }
tr.active_draining td { background: #9cd0ff; }
tr.active_nolb td { background: #9cd0ff; }
tr.active_no_check td { background: #e6e6e6; }
tr.backup_up td { background: #b8d8ff; }
tr.backup_down td { background: #ff8c8c; }
tr.maintain td { background: #c89858; }
td.name, td.ac { text-align: left; }
table.lgd td { padding: 1px 6px; border: 1px solid #888; }
div.msg { padding: 4px; margin: 6px 0; border: 1px solid #444; }
";

/// The row class: HAProxy's names, which operators' user styles rely on.
fn row_class(r: &Row) -> &'static str {
    match r.obj {
        ObjType::Frontend | ObjType::Listener => "frontend",
        ObjType::Backend => "backend",
        ObjType::Server => {
            let st = r.text(col::STATUS);
            let backup = r.num(col::BCK) > 0;
            if st.starts_with("MAINT") {
                "maintain"
            } else if st.starts_with("DRAIN") {
                "active_draining"
            } else if st.starts_with("NOLB") {
                "active_nolb"
            } else if st == "no check" {
                "active_no_check"
            } else if st.starts_with("DOWN") && st.contains('/') {
                "active_going_up"
            } else if st.starts_with("UP") && st.contains('/') {
                "active_going_down"
            } else if st.starts_with("DOWN") {
                if backup { "backup_down" } else { "active_down" }
            } else if backup {
                "backup_up"
            } else {
                "active_up"
            }
        }
    }
}

fn cell(out: &mut String, r: &Row, c: usize) {
    let _ = write!(out, "<td>{}</td>", html_escape(&r.get(c).to_string()));
}

fn dash_or(out: &mut String, r: &Row, c: usize) {
    let v = r.get(c).to_string();
    let v = if v.is_empty() { "-".to_string() } else { v };
    let _ = write!(out, "<td>{}</td>", html_escape(&v));
}

/// `1d2h`, `3m4s` and the like, as the page shows ages.
fn age(secs: u64) -> String {
    if secs >= 86400 {
        format!("{}d{}h", secs / 86400, (secs / 3600) % 24)
    } else if secs >= 3600 {
        format!("{}h{}m", secs / 3600, (secs / 60) % 60)
    } else if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

fn proxy_table(out: &mut String, px: &str, iid: u32, rows: &[&Row], opts: &PageOptions) {
    let name = html_escape(px);
    let admin = opts.admin && rows.iter().any(|r| r.obj == ObjType::Server);
    if admin {
        let _ = write!(
            out,
            "<form method=\"post\" action=\"{}\">",
            html_escape(&opts.uri)
        );
    }
    let _ = writeln!(
        out,
        "<table class=\"tbl\" width=\"100%\"><tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{name}\"></a><a class=px href=\"#{name}\">{name}</a></th><th class=\"empty\" width=\"90%\"></th></tr></table>"
    );
    let _ = write!(
        out,
        "<table class=\"tbl\" width=\"100%\" data-proxy=\"{name}\">\n<tr class=\"titre\">"
    );
    if admin {
        out.push_str("<th rowspan=2 width=1></th>");
    }
    out.push_str(
        "<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n<tr class=\"titre\">",
    );
    for h in [
        "Cur", "Max", "Limit", "Cur", "Max", "Limit", "Cur", "Max", "Limit", "Total", "LbTot",
        "Last", "In", "Out", "Req", "Resp", "Req", "Conn", "Resp", "Retr", "Redis", "Status",
        "LastChk", "Wght", "Act", "Bck", "Chk", "Dwn", "Dwntme", "Thrtle",
    ] {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr>\n");
    for r in rows {
        let sv = html_escape(r.svname());
        let _ = write!(out, "<tr class=\"{}\">", row_class(r));
        if admin {
            if r.obj == ObjType::Server {
                let _ = write!(
                    out,
                    "<td><input class=\"{name}-checkbox\" type=\"checkbox\" name=\"s\" value=\"{sv}\"></td>"
                );
            } else {
                out.push_str("<td></td>");
            }
        }
        let label = match r.obj {
            ObjType::Frontend => "Frontend".to_string(),
            ObjType::Backend => "Backend".to_string(),
            _ => sv.clone(),
        };
        let _ = write!(
            out,
            "<td class=ac><a name=\"{name}/{label}\"></a><a class=lfsb href=\"#{name}/{label}\">{label}</a></td>"
        );
        let server = r.obj == ObjType::Server;
        let frontend = r.obj == ObjType::Frontend;
        // Queue: frontends have none.
        if frontend {
            out.push_str("<td></td><td></td><td></td>");
        } else {
            cell(out, r, col::QCUR);
            cell(out, r, col::QMAX);
            if server {
                dash_or(out, r, col::QLIMIT)
            } else {
                out.push_str("<td></td>")
            }
        }
        cell(out, r, col::RATE);
        cell(out, r, col::RATE_MAX);
        cell(out, r, col::RATE_LIM);
        cell(out, r, col::SCUR);
        cell(out, r, col::SMAX);
        if server {
            dash_or(out, r, col::SLIM)
        } else {
            cell(out, r, col::SLIM)
        }
        cell(out, r, col::STOT);
        cell(out, r, col::LBTOT);
        match r.get(col::LASTSESS).as_u64() {
            Some(v) if !frontend && r.get(col::LASTSESS) != &super::Value::S32(-1) => {
                let _ = write!(out, "<td>{}</td>", age(v));
            }
            _ => out.push_str("<td></td>"),
        }
        cell(out, r, col::BIN);
        cell(out, r, col::BOUT);
        cell(out, r, col::DREQ);
        cell(out, r, col::DRESP);
        cell(out, r, col::EREQ);
        cell(out, r, col::ECON);
        cell(out, r, col::ERESP);
        cell(out, r, col::WRETR);
        cell(out, r, col::WREDIS);
        let st = r.text(col::STATUS);
        let status = match r.obj {
            ObjType::Server | ObjType::Backend => {
                let since = r.num(col::LASTCHG);
                if st == "no check" {
                    format!("{} {}", age(since), "no check")
                } else {
                    format!("{} {st}", age(since))
                }
            }
            _ => st.to_string(),
        };
        let _ = write!(
            out,
            "<td class=ac data-status=\"{}\">{}</td>",
            html_escape(st),
            html_escape(&status)
        );
        let chk = r.text(col::CHECK_STATUS);
        let _ = write!(out, "<td class=ac>{}</td>", html_escape(chk));
        if frontend {
            out.push_str("<td></td><td></td><td></td><td></td><td></td><td></td>");
        } else {
            let _ = write!(
                out,
                "<td class=ac>{}/{}</td>",
                r.get(col::WEIGHT),
                r.get(col::UWEIGHT)
            );
            if server {
                let backup = r.num(col::BCK) > 0;
                let _ = write!(
                    out,
                    "<td class=ac>{}</td><td class=ac>{}</td>",
                    if backup { "-" } else { "Y" },
                    if backup { "Y" } else { "-" }
                );
            } else {
                cell(out, r, col::ACT);
                cell(out, r, col::BCK);
            }
            cell(out, r, col::CHKFAIL);
            cell(out, r, col::CHKDOWN);
            match r.get(col::DOWNTIME).as_u64() {
                Some(d) => {
                    let _ = write!(out, "<td>{}</td>", age(d));
                }
                None => out.push_str("<td></td>"),
            }
        }
        if server {
            dash_or(out, r, col::THROTTLE)
        } else {
            out.push_str("<td></td>")
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    if admin {
        out.push_str("Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option>");
        for a in ServerAction::ALL {
            let _ = write!(
                out,
                "<option value=\"{}\">{}</option>",
                a.value(),
                a.label()
            );
        }
        let _ = writeln!(
            out,
            "</select><input type=\"hidden\" name=\"b\" value=\"#{iid}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>"
        );
    }
    out.push_str("<p>\n");
}

/// The whole page.
pub fn render_html(s: &Snapshot, opts: &PageOptions) -> String {
    let mut out = String::with_capacity(32 * 1024);
    out.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n");
    if let Some(r) = opts.refresh {
        let _ = writeln!(
            out,
            "<meta http-equiv=\"refresh\" content=\"{}\">",
            r.as_secs().max(1)
        );
    }
    out.push_str("<title>Statistics Report for HAProxy");
    if let Some(n) = &opts.node {
        let _ = write!(out, " on {}", html_escape(n));
    }
    let _ = write!(
        out,
        "</title>\n<style>{STYLE}</style></head>\n<body>\n<h1>HAProxy"
    );
    if !opts.hide_version {
        let _ = write!(
            out,
            " <span class=sub>version {}, released {}</span>",
            html_escape(&s.info.version),
            html_escape(&s.info.release_date)
        );
    }
    out.push_str("</h1>\n<h2>Statistics Report for pid ");
    let _ = write!(out, "{}", s.info.pid);
    if let Some(n) = &opts.node {
        let _ = write!(out, " on {}", html_escape(n));
    }
    out.push_str("</h2>\n");
    if let Some(d) = &opts.desc {
        let _ = writeln!(out, "<p>{}</p>", html_escape(d));
    }
    let i = &s.info;
    let up = i.uptime.as_secs();
    let _ = write!(
        out,
        "<h3>&gt; General process information</h3>\n<table class=\"lgd\" id=\"info\"><tr><td><p><b>pid = </b>{} (process #1, nbproc = 1, nbthread = {})<br>\n<b>uptime = </b>{}d {}h{:02}m{:02}s<br>\n<b>system limits:</b> ulimit-n = {}; maxsock = {}; maxconn = {}<br>\n<b>current conns = </b>{}; current pipes = 0/0; conn rate = {}/sec<br>\n</td>",
        i.pid,
        i.nbthread,
        up / 86400,
        (up / 3600) % 24,
        (up / 60) % 60,
        up % 60,
        i.ulimit_n,
        i.ulimit_n,
        i.maxconn,
        i.curr_conns,
        i.conn_rate
    );
    if opts.show_legends {
        out.push_str("<td><table class=\"lgd\"><tr class=\"active_up\"><td>active UP</td></tr><tr class=\"active_going_down\"><td>active UP, going down</td></tr><tr class=\"active_going_up\"><td>active DOWN, going up</td></tr><tr class=\"active_down\"><td>active or backup DOWN</td></tr><tr class=\"active_no_check\"><td>not checked</td></tr><tr class=\"maintain\"><td>active or backup DOWN for maintenance (MAINT)</td></tr><tr class=\"active_draining\"><td>active or backup SOFT STOPPED for maintenance</td></tr><tr class=\"backup_up\"><td>backup UP</td></tr></table>Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td>");
    }
    let _ = writeln!(
        out,
        "<td><b>Display option:</b><ul><li><a href=\"{u};up\">Hide 'DOWN' servers</a></li><li><a href=\"{u};norefresh\">Disable refresh</a></li><li><a href=\"{u}\">Refresh now</a></li><li><a href=\"{u};csv\">CSV export</a></li></ul></td></tr></table>",
        u = html_escape(&opts.uri)
    );
    if let Some(st) = &opts.status {
        let (class, text) = match st.as_str() {
            "DONE" => ("active_up", "Action processed successfully."),
            "NONE" => ("active_going_up", "Nothing has changed."),
            "PART" => (
                "active_going_down",
                "Action not processed for all the selected servers.",
            ),
            "DENY" => ("active_down", "Action denied."),
            "ERRP" => (
                "active_down",
                "Action not processed because of invalid parameters.",
            ),
            _ => ("active_down", "Unexpected result."),
        };
        let _ = writeln!(
            out,
            "<div class=\"msg {class}\" id=\"status\"><a href=\"{}\" title=\"Remove this message\">[X]</a> {text}</div>",
            html_escape(&opts.uri)
        );
    }
    let mut k = 0;
    while let Some(first) = s.rows.get(k) {
        let px = first.pxname();
        let iid = first.proxy_id;
        let group: Vec<&Row> = s.rows[k..]
            .iter()
            .take_while(|r| r.proxy_id == iid)
            .collect();
        k += group.len();
        proxy_table(&mut out, px, iid, &group, opts);
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_the_page() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(65), "1m5s");
        assert_eq!(age(3700), "1h1m");
        assert_eq!(age(90000), "1d1h");
    }

    #[test]
    fn actions_round_trip_their_form_values() {
        for a in ServerAction::ALL {
            assert_eq!(ServerAction::from_value(a.value()), Some(a));
        }
        assert_eq!(ServerAction::from_value("bogus"), None);
    }
}
