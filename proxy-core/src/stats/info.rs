//! `show info`: process-wide information, plain, `typed` and `json`.

use std::fmt::Write;
use std::time::Duration;

use super::table::json_value;
use super::{Value, json_escape, tag_names};

/// Process-wide figures shown by `show info` and the page's header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Info {
    /// Product version shown (`Version`).
    pub version: String,
    /// Release date shown (`Release_date`).
    pub release_date: String,
    /// Worker threads.
    pub nbthread: u32,
    /// Process id.
    pub pid: u32,
    /// Time since start.
    pub uptime: Duration,
    /// Start time, seconds since the Unix epoch.
    pub start_time_sec: u64,
    /// Descriptor limit.
    pub ulimit_n: u32,
    /// Global `maxconn` in force.
    pub maxconn: u32,
    /// Connections in progress.
    pub curr_conns: u32,
    /// Connections since start.
    pub cum_conns: u64,
    /// HTTP requests since start.
    pub cum_req: u64,
    /// Highest connection rate seen (per second).
    pub max_conn_rate: u32,
    /// Current connection rate (per second).
    pub conn_rate: u32,
    /// Host name (`node`).
    pub node: String,
    /// A soft stop is in progress.
    pub stopping: bool,
    /// Listening sockets.
    pub listeners: u32,
    /// Bytes sent to clients since start.
    pub total_bytes_out: u64,
    /// Log lines dropped because a target could not take them.
    pub dropped_logs: u64,
}

/// `Uptime` as HAProxy writes it: `0d 0h00m20s`.
fn uptime_text(d: Duration) -> String {
    let s = d.as_secs();
    format!(
        "{}d {}h{:02}m{:02}s",
        s / 86400,
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60
    )
}

fn sat32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Every `show info` field in HAProxy 2.6's order: position, name, tags and
/// value. Figures the engine does not keep (memory pools, SSL, pipes,
/// compression, peers) are 0, as on an HAProxy that does not use them.
pub fn info_fields(i: &Info) -> Vec<(usize, &'static str, &'static str, Value)> {
    let u = Value::U32;
    let s = |t: &str| Value::Str(t.to_string());
    let uptime = i.uptime.as_secs();
    vec![
        (0, "Name", "POS", s("HAProxy")),
        (1, "Version", "POS", s(&i.version)),
        (2, "Release_date", "POS", s(&i.release_date)),
        (3, "Nbthread", "CGS", u(i.nbthread)),
        (4, "Nbproc", "CGS", u(1)),
        (5, "Process_num", "KGP", u(1)),
        (6, "Pid", "SGP", u(i.pid)),
        (7, "Uptime", "MDP", s(&uptime_text(i.uptime))),
        (8, "Uptime_sec", "MDP", u(sat32(uptime))),
        (9, "Memmax_MB", "CLP", u(0)),
        (10, "PoolAlloc_MB", "MGP", u(0)),
        (11, "PoolUsed_MB", "MGP", u(0)),
        (12, "PoolFailed", "MCP", u(0)),
        (13, "Ulimit-n", "CLP", u(i.ulimit_n)),
        (14, "Maxsock", "CLP", u(i.ulimit_n)),
        (15, "Maxconn", "CLP", u(i.maxconn)),
        (16, "Hard_maxconn", "CLP", u(i.maxconn)),
        (17, "CurrConns", "MGP", u(i.curr_conns)),
        (18, "CumConns", "MCP", u(sat32(i.cum_conns))),
        (19, "CumReq", "MCP", u(sat32(i.cum_req))),
        (20, "MaxSslConns", "MMP", u(0)),
        (21, "CurrSslConns", "MGP", u(0)),
        (22, "CumSslConns", "MCP", u(0)),
        (23, "Maxpipes", "CLP", u(0)),
        (24, "PipesUsed", "MGP", u(0)),
        (25, "PipesFree", "MGP", u(0)),
        (26, "ConnRate", "MRP", u(i.conn_rate)),
        (27, "ConnRateLimit", "CLP", u(0)),
        (28, "MaxConnRate", "MMP", u(i.max_conn_rate)),
        (29, "SessRate", "MRP", u(i.conn_rate)),
        (30, "SessRateLimit", "CLP", u(0)),
        (31, "MaxSessRate", "MRP", u(i.max_conn_rate)),
        (32, "SslRate", "MRP", u(0)),
        (33, "SslRateLimit", "CLP", u(0)),
        (34, "MaxSslRate", "MMP", u(0)),
        (35, "SslFrontendKeyRate", "MGP", u(0)),
        (36, "SslFrontendMaxKeyRate", "MMP", u(0)),
        (37, "SslFrontendSessionReuse_pct", "MGP", u(0)),
        (38, "SslBackendKeyRate", "MRP", u(0)),
        (39, "SslBackendMaxKeyRate", "MMP", u(0)),
        (40, "SslCacheLookups", "MCP", u(0)),
        (41, "SslCacheMisses", "MCP", u(0)),
        (42, "CompressBpsIn", "MRP", u(0)),
        (43, "CompressBpsOut", "MRP", u(0)),
        (44, "CompressBpsRateLim", "CLP", u(0)),
        (47, "Tasks", "MGP", u(0)),
        (48, "Run_queue", "MGP", u(0)),
        (49, "Idle_pct", "MaP", u(100)),
        (50, "node", "COS", s(&i.node)),
        (52, "Stopping", "MGP", u(u32::from(i.stopping))),
        (
            53,
            "Jobs",
            "MGP",
            u(i.curr_conns.saturating_add(i.listeners)),
        ),
        (54, "Unstoppable Jobs", "MGP", u(0)),
        (55, "Listeners", "MGP", u(i.listeners)),
        (56, "ActivePeers", "MGP", u(0)),
        (57, "ConnectedPeers", "MGP", u(0)),
        (58, "DroppedLogs", "MGP", u(sat32(i.dropped_logs))),
        (59, "BusyPolling", "MGP", u(0)),
        (60, "FailedResolutions", "MGP", u(0)),
        (61, "TotalBytesOut", "MGP", Value::U64(i.total_bytes_out)),
        (62, "TotalSplicdedBytesOut", "MGP", Value::U64(0)),
        (63, "BytesOutRate", "MRP", Value::U64(0)),
        (64, "DebugCommandsIssued", "MGP", u(0)),
        (65, "CumRecvLogs", "MCP", u(0)),
        (66, "Build info", "POS", s(&i.version)),
        (67, "Memmax_bytes", "CLP", u(0)),
        (68, "PoolAlloc_bytes", "MGP", Value::U64(0)),
        (69, "PoolUsed_bytes", "MGP", Value::U64(0)),
        (70, "Start_time_sec", "MDP", u(sat32(i.start_time_sec))),
        (71, "Tainted", "SGP", s("0")),
    ]
}

/// `show info`: `Name: value` lines.
pub fn render_info(i: &Info) -> String {
    let mut out = String::new();
    for (_, name, _, v) in info_fields(i) {
        let _ = writeln!(out, "{name}: {v}");
    }
    out
}

/// `show info typed`: `<pos>.<name>.1:<tags>:<type>:<value>` lines.
pub fn render_info_typed(i: &Info) -> String {
    let mut out = String::new();
    for (pos, name, tags, v) in info_fields(i) {
        let _ = writeln!(out, "{pos}.{name}.1:{tags}:{}:{v}", v.type_name());
    }
    out
}

/// `show info json`: one array of field objects on one line.
pub fn render_info_json(i: &Info) -> String {
    let mut out = String::from("[");
    for (n, (pos, name, tags, v)) in info_fields(i).into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let (origin, nature, scope) = tag_names(tags);
        let _ = write!(
            out,
            "{{\"field\":{{\"pos\":{pos},\"name\":\"{}\"}},\"processNum\":1,\"tags\":{{\"origin\":\"{origin}\",\"nature\":\"{nature}\",\"scope\":\"{scope}\"}},\"value\":{}}}",
            json_escape(name),
            json_value(&v)
        );
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_written_as_haproxy_does() {
        assert_eq!(uptime_text(Duration::from_secs(20)), "0d 0h00m20s");
        assert_eq!(uptime_text(Duration::from_secs(90061)), "1d 1h01m01s");
    }
}
