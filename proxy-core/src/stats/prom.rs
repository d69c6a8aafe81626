//! The Prometheus text exposition of HAProxy 2.6's built-in exporter
//! (`http-request use-service prometheus-exporter`): the same metric names,
//! help texts, types and labels, computed from a [`Snapshot`].

use std::fmt::Write;

use super::{ObjType, Row, Snapshot, Value, col, info_fields};

/// How a metric's value comes from its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// The column as is.
    Plain,
    /// Milliseconds, shown in seconds.
    Millis,
    /// The status column, one sample per state label.
    Status,
    /// The five `hrsp_*` columns and `hrsp_other`, one sample per code label.
    Codes,
}

/// One frontend, backend or server metric.
struct M {
    obj: ObjType,
    name: &'static str,
    help: &'static str,
    counter: bool,
    col: usize,
    how: How,
}

const METRICS: &[M] = &[
    M {
        obj: ObjType::Frontend,
        name: "current_sessions",
        help: "Number of current sessions on the frontend, backend or server",
        counter: false,
        col: col::SCUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "max_sessions",
        help: "Highest value of current sessions encountered since process started",
        counter: false,
        col: col::SMAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "limit_sessions",
        help: "Frontend/listener/server's maxconn, backend's fullconn",
        counter: false,
        col: col::SLIM,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "sessions_total",
        help: "Total number of sessions since process started",
        counter: true,
        col: col::STOT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "bytes_in_total",
        help: "Total number of request bytes since process started",
        counter: true,
        col: col::BIN,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "bytes_out_total",
        help: "Total number of response bytes since process started",
        counter: true,
        col: col::BOUT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "requests_denied_total",
        help: "Total number of denied requests since process started",
        counter: true,
        col: col::DREQ,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "responses_denied_total",
        help: "Total number of denied responses since process started",
        counter: true,
        col: col::DRESP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "request_errors_total",
        help: "Total number of invalid requests since process started",
        counter: true,
        col: col::EREQ,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "status",
        help: "Current status of the service, per state label value.",
        counter: false,
        col: col::STATUS,
        how: How::Status,
    },
    M {
        obj: ObjType::Frontend,
        name: "limit_session_rate",
        help: "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)",
        counter: false,
        col: col::RATE_LIM,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "max_session_rate",
        help: "Highest value of sessions per second observed since the worker process started",
        counter: false,
        col: col::RATE_MAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_responses_total",
        help: "Total number of HTTP responses with status 100-199 returned by this object since the worker process started",
        counter: true,
        col: col::HRSP_1XX,
        how: How::Codes,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_requests_rate_max",
        help: "Highest value of http requests observed since the worker process started",
        counter: false,
        col: col::REQ_RATE_MAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_requests_total",
        help: "Total number of HTTP requests processed by this object since the worker process started",
        counter: true,
        col: col::REQ_TOT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_comp_bytes_in_total",
        help: "Total number of bytes submitted to the HTTP compressor for this object since the worker process started",
        counter: true,
        col: col::COMP_IN,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_comp_bytes_out_total",
        help: "Total number of bytes emitted by the HTTP compressor for this object since the worker process started",
        counter: true,
        col: col::COMP_OUT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_comp_bytes_bypassed_total",
        help: "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)",
        counter: true,
        col: col::COMP_BYP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_comp_responses_total",
        help: "Total number of HTTP responses that were compressed for this object since the worker process started",
        counter: true,
        col: col::COMP_RSP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "connections_rate_max",
        help: "Highest value of connections per second observed since the worker process started",
        counter: false,
        col: col::CONN_RATE_MAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "connections_total",
        help: "Total number of new connections accepted on this frontend since the worker process started",
        counter: true,
        col: col::CONN_TOT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "intercepted_requests_total",
        help: "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started",
        counter: true,
        col: col::INTERCEPTED,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "denied_connections_total",
        help: "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started",
        counter: true,
        col: col::DCON,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "denied_sessions_total",
        help: "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started",
        counter: true,
        col: col::DSES,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "failed_header_rewriting_total",
        help: "Total number of failed HTTP header rewrites since the worker process started",
        counter: true,
        col: col::WREW,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_cache_lookups_total",
        help: "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started",
        counter: true,
        col: col::CACHE_LOOKUPS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "http_cache_hits_total",
        help: "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started",
        counter: true,
        col: col::CACHE_HITS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Frontend,
        name: "internal_errors_total",
        help: "Total number of internal errors since process started",
        counter: true,
        col: col::EINT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "current_queue",
        help: "Number of current queued connections",
        counter: false,
        col: col::QCUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "max_queue",
        help: "Highest value of queued connections encountered since process started",
        counter: false,
        col: col::QMAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "current_sessions",
        help: "Number of current sessions on the frontend, backend or server",
        counter: false,
        col: col::SCUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "max_sessions",
        help: "Highest value of current sessions encountered since process started",
        counter: false,
        col: col::SMAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "limit_sessions",
        help: "Frontend/listener/server's maxconn, backend's fullconn",
        counter: false,
        col: col::SLIM,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "sessions_total",
        help: "Total number of sessions since process started",
        counter: true,
        col: col::STOT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "bytes_in_total",
        help: "Total number of request bytes since process started",
        counter: true,
        col: col::BIN,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "bytes_out_total",
        help: "Total number of response bytes since process started",
        counter: true,
        col: col::BOUT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "requests_denied_total",
        help: "Total number of denied requests since process started",
        counter: true,
        col: col::DREQ,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "responses_denied_total",
        help: "Total number of denied responses since process started",
        counter: true,
        col: col::DRESP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "connection_errors_total",
        help: "Total number of failed connections to server since the worker process started",
        counter: true,
        col: col::ECON,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "response_errors_total",
        help: "Total number of invalid responses since the worker process started",
        counter: true,
        col: col::ERESP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "retry_warnings_total",
        help: "Total number of server connection retries since the worker process started",
        counter: true,
        col: col::WRETR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "redispatch_warnings_total",
        help: "Total number of server redispatches due to connection failures since the worker process started",
        counter: true,
        col: col::WREDIS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "status",
        help: "Current status of the service, per state label value.",
        counter: false,
        col: col::STATUS,
        how: How::Status,
    },
    M {
        obj: ObjType::Backend,
        name: "weight",
        help: "Server's effective weight, or sum of active servers' effective weights for a backend",
        counter: false,
        col: col::WEIGHT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "active_servers",
        help: "Total number of active UP servers with a non-zero weight",
        counter: false,
        col: col::ACT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "backup_servers",
        help: "Total number of backup UP servers with a non-zero weight",
        counter: false,
        col: col::BCK,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "check_up_down_total",
        help: "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started",
        counter: true,
        col: col::CHKDOWN,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "check_last_change_seconds",
        help: "How long ago the last server state changed, in seconds",
        counter: false,
        col: col::LASTCHG,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "downtime_seconds_total",
        help: "Total time spent in DOWN state, for server or backend",
        counter: true,
        col: col::DOWNTIME,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "loadbalanced_total",
        help: "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)",
        counter: true,
        col: col::LBTOT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "max_session_rate",
        help: "Highest value of sessions per second observed since the worker process started",
        counter: false,
        col: col::RATE_MAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "http_responses_total",
        help: "Total number of HTTP responses with status 100-199 returned by this object since the worker process started",
        counter: true,
        col: col::HRSP_1XX,
        how: How::Codes,
    },
    M {
        obj: ObjType::Backend,
        name: "http_requests_total",
        help: "Total number of HTTP requests processed by this object since the worker process started",
        counter: true,
        col: col::REQ_TOT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "client_aborts_total",
        help: "Total number of requests or connections aborted by the client since the worker process started",
        counter: true,
        col: col::CLI_ABRT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "server_aborts_total",
        help: "Total number of requests or connections aborted by the server since the worker process started",
        counter: true,
        col: col::SRV_ABRT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "http_comp_bytes_in_total",
        help: "Total number of bytes submitted to the HTTP compressor for this object since the worker process started",
        counter: true,
        col: col::COMP_IN,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "http_comp_bytes_out_total",
        help: "Total number of bytes emitted by the HTTP compressor for this object since the worker process started",
        counter: true,
        col: col::COMP_OUT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "http_comp_bytes_bypassed_total",
        help: "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)",
        counter: true,
        col: col::COMP_BYP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "http_comp_responses_total",
        help: "Total number of HTTP responses that were compressed for this object since the worker process started",
        counter: true,
        col: col::COMP_RSP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "last_session_seconds",
        help: "How long ago some traffic was seen on this object on this worker process, in seconds",
        counter: false,
        col: col::LASTSESS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "queue_time_average_seconds",
        help: "Avg. queue time for last 1024 successful connections.",
        counter: false,
        col: col::QTIME,
        how: How::Millis,
    },
    M {
        obj: ObjType::Backend,
        name: "connect_time_average_seconds",
        help: "Avg. connect time for last 1024 successful connections.",
        counter: false,
        col: col::CTIME,
        how: How::Millis,
    },
    M {
        obj: ObjType::Backend,
        name: "response_time_average_seconds",
        help: "Avg. response time for last 1024 successful connections.",
        counter: false,
        col: col::RTIME,
        how: How::Millis,
    },
    M {
        obj: ObjType::Backend,
        name: "total_time_average_seconds",
        help: "Avg. total time for last 1024 successful connections.",
        counter: false,
        col: col::TTIME,
        how: How::Millis,
    },
    M {
        obj: ObjType::Backend,
        name: "failed_header_rewriting_total",
        help: "Total number of failed HTTP header rewrites since the worker process started",
        counter: true,
        col: col::WREW,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "connection_attempts_total",
        help: "Total number of outgoing connection attempts on this backend/server since the worker process started",
        counter: true,
        col: col::CONNECT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "connection_reuses_total",
        help: "Total number of reused connection on this backend/server since the worker process started",
        counter: true,
        col: col::REUSE,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "http_cache_lookups_total",
        help: "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started",
        counter: true,
        col: col::CACHE_LOOKUPS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "http_cache_hits_total",
        help: "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started",
        counter: true,
        col: col::CACHE_HITS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "max_queue_time_seconds",
        help: "Maximum observed time spent in the queue",
        counter: false,
        col: col::QTIME_MAX,
        how: How::Millis,
    },
    M {
        obj: ObjType::Backend,
        name: "max_connect_time_seconds",
        help: "Maximum observed time spent waiting for a connection to complete",
        counter: false,
        col: col::CTIME_MAX,
        how: How::Millis,
    },
    M {
        obj: ObjType::Backend,
        name: "max_response_time_seconds",
        help: "Maximum observed time spent waiting for a server response",
        counter: false,
        col: col::RTIME_MAX,
        how: How::Millis,
    },
    M {
        obj: ObjType::Backend,
        name: "max_total_time_seconds",
        help: "Maximum observed total request+response time (request+queue+connect+response+processing)",
        counter: false,
        col: col::TTIME_MAX,
        how: How::Millis,
    },
    M {
        obj: ObjType::Backend,
        name: "internal_errors_total",
        help: "Total number of internal errors since process started",
        counter: true,
        col: col::EINT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "uweight",
        help: "Server's user weight, or sum of active servers' user weights for a backend",
        counter: false,
        col: col::UWEIGHT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "agg_server_status",
        help: "Backend's aggregated gauge of servers' status",
        counter: false,
        col: col::AGG_SERVER_STATUS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "agg_server_check_status",
        help: "Backend's aggregated gauge of servers' state check status",
        counter: false,
        col: col::AGG_SERVER_CHECK_STATUS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Backend,
        name: "agg_check_status",
        help: "Backend's aggregated gauge of servers' state check status",
        counter: false,
        col: col::AGG_CHECK_STATUS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "current_queue",
        help: "Number of current queued connections",
        counter: false,
        col: col::QCUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "max_queue",
        help: "Highest value of queued connections encountered since process started",
        counter: false,
        col: col::QMAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "current_sessions",
        help: "Number of current sessions on the frontend, backend or server",
        counter: false,
        col: col::SCUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "max_sessions",
        help: "Highest value of current sessions encountered since process started",
        counter: false,
        col: col::SMAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "limit_sessions",
        help: "Frontend/listener/server's maxconn, backend's fullconn",
        counter: false,
        col: col::SLIM,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "sessions_total",
        help: "Total number of sessions since process started",
        counter: true,
        col: col::STOT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "bytes_in_total",
        help: "Total number of request bytes since process started",
        counter: true,
        col: col::BIN,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "bytes_out_total",
        help: "Total number of response bytes since process started",
        counter: true,
        col: col::BOUT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "responses_denied_total",
        help: "Total number of denied responses since process started",
        counter: true,
        col: col::DRESP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "connection_errors_total",
        help: "Total number of failed connections to server since the worker process started",
        counter: true,
        col: col::ECON,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "response_errors_total",
        help: "Total number of invalid responses since the worker process started",
        counter: true,
        col: col::ERESP,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "retry_warnings_total",
        help: "Total number of server connection retries since the worker process started",
        counter: true,
        col: col::WRETR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "redispatch_warnings_total",
        help: "Total number of server redispatches due to connection failures since the worker process started",
        counter: true,
        col: col::WREDIS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "status",
        help: "Current status of the service, per state label value.",
        counter: false,
        col: col::STATUS,
        how: How::Status,
    },
    M {
        obj: ObjType::Server,
        name: "weight",
        help: "Server's effective weight, or sum of active servers' effective weights for a backend",
        counter: false,
        col: col::WEIGHT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "check_failures_total",
        help: "Total number of failed individual health checks per server/backend, since the worker process started",
        counter: true,
        col: col::CHKFAIL,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "check_up_down_total",
        help: "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started",
        counter: true,
        col: col::CHKDOWN,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "check_last_change_seconds",
        help: "How long ago the last server state changed, in seconds",
        counter: false,
        col: col::LASTCHG,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "downtime_seconds_total",
        help: "Total time spent in DOWN state, for server or backend",
        counter: true,
        col: col::DOWNTIME,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "queue_limit",
        help: "Limit on the number of connections in queue, for servers only (maxqueue argument)",
        counter: false,
        col: col::QLIMIT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "current_throttle",
        help: "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)",
        counter: false,
        col: col::THROTTLE,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "loadbalanced_total",
        help: "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)",
        counter: true,
        col: col::LBTOT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "max_session_rate",
        help: "Highest value of sessions per second observed since the worker process started",
        counter: false,
        col: col::RATE_MAX,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "http_responses_total",
        help: "Total number of HTTP responses with status 100-199 returned by this object since the worker process started",
        counter: true,
        col: col::HRSP_1XX,
        how: How::Codes,
    },
    M {
        obj: ObjType::Server,
        name: "client_aborts_total",
        help: "Total number of requests or connections aborted by the client since the worker process started",
        counter: true,
        col: col::CLI_ABRT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "server_aborts_total",
        help: "Total number of requests or connections aborted by the server since the worker process started",
        counter: true,
        col: col::SRV_ABRT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "last_session_seconds",
        help: "How long ago some traffic was seen on this object on this worker process, in seconds",
        counter: false,
        col: col::LASTSESS,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "queue_time_average_seconds",
        help: "Avg. queue time for last 1024 successful connections.",
        counter: false,
        col: col::QTIME,
        how: How::Millis,
    },
    M {
        obj: ObjType::Server,
        name: "connect_time_average_seconds",
        help: "Avg. connect time for last 1024 successful connections.",
        counter: false,
        col: col::CTIME,
        how: How::Millis,
    },
    M {
        obj: ObjType::Server,
        name: "response_time_average_seconds",
        help: "Avg. response time for last 1024 successful connections.",
        counter: false,
        col: col::RTIME,
        how: How::Millis,
    },
    M {
        obj: ObjType::Server,
        name: "total_time_average_seconds",
        help: "Avg. total time for last 1024 successful connections.",
        counter: false,
        col: col::TTIME,
        how: How::Millis,
    },
    M {
        obj: ObjType::Server,
        name: "failed_header_rewriting_total",
        help: "Total number of failed HTTP header rewrites since the worker process started",
        counter: true,
        col: col::WREW,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "connection_attempts_total",
        help: "Total number of outgoing connection attempts on this backend/server since the worker process started",
        counter: true,
        col: col::CONNECT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "connection_reuses_total",
        help: "Total number of reused connection on this backend/server since the worker process started",
        counter: true,
        col: col::REUSE,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "idle_connections_current",
        help: "Current number of idle connections available for reuse on this server",
        counter: false,
        col: col::SRV_ICUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "idle_connections_limit",
        help: "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)",
        counter: false,
        col: col::SRC_ILIM,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "max_queue_time_seconds",
        help: "Maximum observed time spent in the queue",
        counter: false,
        col: col::QTIME_MAX,
        how: How::Millis,
    },
    M {
        obj: ObjType::Server,
        name: "max_connect_time_seconds",
        help: "Maximum observed time spent waiting for a connection to complete",
        counter: false,
        col: col::CTIME_MAX,
        how: How::Millis,
    },
    M {
        obj: ObjType::Server,
        name: "max_response_time_seconds",
        help: "Maximum observed time spent waiting for a server response",
        counter: false,
        col: col::RTIME_MAX,
        how: How::Millis,
    },
    M {
        obj: ObjType::Server,
        name: "max_total_time_seconds",
        help: "Maximum observed total request+response time (request+queue+connect+response+processing)",
        counter: false,
        col: col::TTIME_MAX,
        how: How::Millis,
    },
    M {
        obj: ObjType::Server,
        name: "internal_errors_total",
        help: "Total number of internal errors since process started",
        counter: true,
        col: col::EINT,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "unsafe_idle_connections_current",
        help: "Current number of unsafe idle connections",
        counter: false,
        col: col::IDLE_CONN_CUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "safe_idle_connections_current",
        help: "Current number of safe idle connections",
        counter: false,
        col: col::SAFE_CONN_CUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "used_connections_current",
        help: "Current number of connections in use",
        counter: false,
        col: col::USED_CONN_CUR,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "need_connections_current",
        help: "Estimated needed number of connections",
        counter: false,
        col: col::NEED_CONN_EST,
        how: How::Plain,
    },
    M {
        obj: ObjType::Server,
        name: "uweight",
        help: "Server's user weight, or sum of active servers' user weights for a backend",
        counter: false,
        col: col::UWEIGHT,
        how: How::Plain,
    },
];

/// Process metrics: name, help, counter, and the `show info` field they show.
const PROCESS: &[(&str, &str, bool)] = &[
    (
        "nbthread",
        "Number of started threads (global.nbthread)",
        false,
    ),
    (
        "nbproc",
        "Number of started worker processes (historical, always 1)",
        false,
    ),
    (
        "relative_process_id",
        "Relative worker process number (1)",
        false,
    ),
    (
        "uptime_seconds",
        "How long ago this worker process was started (seconds)",
        false,
    ),
    (
        "pool_failures_total",
        "Number of failed pool allocations since this worker was started",
        true,
    ),
    (
        "max_fds",
        "Hard limit on the number of per-process file descriptors",
        false,
    ),
    (
        "max_sockets",
        "Hard limit on the number of per-process sockets",
        false,
    ),
    (
        "max_connections",
        "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)",
        false,
    ),
    (
        "hard_max_connections",
        "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)",
        false,
    ),
    (
        "current_connections",
        "Current number of connections on this worker process",
        false,
    ),
    (
        "connections_total",
        "Total number of connections on this worker process since started",
        true,
    ),
    (
        "requests_total",
        "Total number of requests on this worker process since started",
        true,
    ),
    (
        "max_ssl_connections",
        "Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited",
        false,
    ),
    (
        "current_ssl_connections",
        "Current number of SSL endpoints on this worker process (front+back)",
        false,
    ),
    (
        "ssl_connections_total",
        "Total number of SSL endpoints on this worker process since started (front+back)",
        true,
    ),
    (
        "max_pipes",
        "Hard limit on the number of pipes for splicing, 0=unlimited",
        false,
    ),
    (
        "pipes_used_total",
        "Current number of pipes in use in this worker process",
        true,
    ),
    (
        "pipes_free_total",
        "Current number of allocated and available pipes in this worker process",
        true,
    ),
    (
        "current_connection_rate",
        "Number of front connections created on this worker process over the last second",
        false,
    ),
    (
        "limit_connection_rate",
        "Hard limit for ConnRate (global.maxconnrate)",
        false,
    ),
    (
        "max_connection_rate",
        "Highest ConnRate reached on this worker process since started (in connections per second)",
        false,
    ),
    (
        "current_session_rate",
        "Number of sessions created on this worker process over the last second",
        false,
    ),
    (
        "limit_session_rate",
        "Hard limit for SessRate (global.maxsessrate)",
        false,
    ),
    (
        "max_session_rate",
        "Highest SessRate reached on this worker process since started (in sessions per second)",
        false,
    ),
    (
        "current_ssl_rate",
        "Number of SSL connections created on this worker process over the last second",
        false,
    ),
    (
        "limit_ssl_rate",
        "Hard limit for SslRate (global.maxsslrate)",
        false,
    ),
    (
        "max_ssl_rate",
        "Highest SslRate reached on this worker process since started (in connections per second)",
        false,
    ),
    (
        "current_frontend_ssl_key_rate",
        "Number of SSL keys created on frontends in this worker process over the last second",
        false,
    ),
    (
        "max_frontend_ssl_key_rate",
        "Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)",
        false,
    ),
    (
        "frontend_ssl_reuse",
        "Percent of frontend SSL connections which did not require a new key",
        false,
    ),
    (
        "current_backend_ssl_key_rate",
        "Number of SSL keys created on backends in this worker process over the last second",
        false,
    ),
    (
        "max_backend_ssl_key_rate",
        "Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)",
        false,
    ),
    (
        "ssl_cache_lookups_total",
        "Total number of SSL session ID lookups in the SSL session cache on this worker since started",
        true,
    ),
    (
        "ssl_cache_misses_total",
        "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started",
        true,
    ),
    (
        "http_comp_bytes_in_total",
        "Number of bytes submitted to the HTTP compressor in this worker process over the last second",
        true,
    ),
    (
        "http_comp_bytes_out_total",
        "Number of bytes emitted by the HTTP compressor in this worker process over the last second",
        true,
    ),
    (
        "limit_http_comp",
        "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled",
        false,
    ),
    (
        "current_zlib_memory",
        "Amount of memory currently used by HTTP compression on the current worker process (in bytes)",
        false,
    ),
    (
        "max_zlib_memory",
        "Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)",
        false,
    ),
    (
        "current_tasks",
        "Total number of tasks in the current worker process (active + sleeping)",
        false,
    ),
    (
        "current_run_queue",
        "Total number of active tasks+tasklets in the current worker process",
        false,
    ),
    (
        "idle_time_percent",
        "Percentage of last second spent waiting in the current worker thread",
        false,
    ),
    (
        "stopping",
        "1 if the worker process is currently stopping, otherwise zero",
        false,
    ),
    (
        "jobs",
        "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)",
        false,
    ),
    (
        "unstoppable_jobs",
        "Current number of unstoppable jobs on the current worker process (master connections)",
        false,
    ),
    (
        "listeners",
        "Current number of active listeners on the current worker process",
        false,
    ),
    (
        "active_peers",
        "Current number of verified active peers connections on the current worker process",
        false,
    ),
    (
        "connected_peers",
        "Current number of peers having passed the connection step on the current worker process",
        false,
    ),
    (
        "dropped_logs_total",
        "Total number of dropped logs for current worker process since started",
        true,
    ),
    (
        "busy_polling_enabled",
        "1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)",
        false,
    ),
    (
        "failed_resolutions",
        "Total number of failed DNS resolutions in current worker process since started",
        true,
    ),
    (
        "bytes_out_total",
        "Total number of bytes emitted by current worker process since started",
        true,
    ),
    (
        "spliced_bytes_out_total",
        "Total number of bytes emitted by current worker process through a kernel pipe since started",
        true,
    ),
    (
        "bytes_out_rate",
        "Number of bytes emitted by current worker process over the last second",
        false,
    ),
    (
        "recv_logs_total",
        "Total number of log messages received by log-forwarding listeners on this worker process since started",
        true,
    ),
    ("build_info", "Build info", false),
    (
        "max_memory_bytes",
        "Worker process's hard limit on memory usage in byes (-m on command line)",
        false,
    ),
    (
        "pool_allocated_bytes",
        "Amount of memory allocated in pools (in bytes)",
        false,
    ),
    (
        "pool_used_bytes",
        "Amount of pool memory currently used (in bytes)",
        false,
    ),
    ("start_time_seconds", "Start time in seconds", false),
];

/// The `show info` field behind a process metric.
fn info_name(metric: &str) -> Option<&'static str> {
    Some(match metric {
        "nbthread" => "Nbthread",
        "nbproc" => "Nbproc",
        "relative_process_id" => "Process_num",
        "uptime_seconds" => "Uptime_sec",
        "pool_failures_total" => "PoolFailed",
        "max_fds" => "Ulimit-n",
        "max_sockets" => "Maxsock",
        "max_connections" => "Maxconn",
        "hard_max_connections" => "Hard_maxconn",
        "current_connections" => "CurrConns",
        "connections_total" => "CumConns",
        "requests_total" => "CumReq",
        "max_ssl_connections" => "MaxSslConns",
        "current_ssl_connections" => "CurrSslConns",
        "ssl_connections_total" => "CumSslConns",
        "max_pipes" => "Maxpipes",
        "pipes_used_total" => "PipesUsed",
        "pipes_free_total" => "PipesFree",
        "current_connection_rate" => "ConnRate",
        "limit_connection_rate" => "ConnRateLimit",
        "max_connection_rate" => "MaxConnRate",
        "current_session_rate" => "SessRate",
        "limit_session_rate" => "SessRateLimit",
        "max_session_rate" => "MaxSessRate",
        "current_ssl_rate" => "SslRate",
        "limit_ssl_rate" => "SslRateLimit",
        "max_ssl_rate" => "MaxSslRate",
        "ssl_cache_lookups_total" => "SslCacheLookups",
        "ssl_cache_misses_total" => "SslCacheMisses",
        "http_comp_bytes_in_total" => "CompressBpsIn",
        "http_comp_bytes_out_total" => "CompressBpsOut",
        "limit_http_comp" => "CompressBpsRateLim",
        "current_tasks" => "Tasks",
        "current_run_queue" => "Run_queue",
        "idle_time_percent" => "Idle_pct",
        "stopping" => "Stopping",
        "jobs" => "Jobs",
        "unstoppable_jobs" => "Unstoppable Jobs",
        "listeners" => "Listeners",
        "active_peers" => "ActivePeers",
        "connected_peers" => "ConnectedPeers",
        "dropped_logs_total" => "DroppedLogs",
        "busy_polling_enabled" => "BusyPolling",
        "failed_resolutions" => "FailedResolutions",
        "bytes_out_total" => "TotalBytesOut",
        "spliced_bytes_out_total" => "TotalSplicdedBytesOut",
        "bytes_out_rate" => "BytesOutRate",
        "recv_logs_total" => "CumRecvLogs",
        "max_memory_bytes" => "Memmax_bytes",
        "pool_allocated_bytes" => "PoolAlloc_bytes",
        "pool_used_bytes" => "PoolUsed_bytes",
        "start_time_seconds" => "Start_time_sec",
        _ => return None,
    })
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(r: &Row) -> String {
    match r.obj {
        ObjType::Server => format!(
            "proxy=\"{}\",server=\"{}\"",
            label(r.pxname()),
            label(r.svname())
        ),
        _ => format!("proxy=\"{}\"", label(r.pxname())),
    }
}

fn sample(out: &mut String, name: &str, labels: &str, v: &Value, how: How) {
    let text = match (v, how) {
        (Value::Empty | Value::Str(_), _) => "NaN".to_string(),
        (v, How::Millis) => format!("{:.6}", v.as_u64().unwrap_or(0) as f64 / 1000.0),
        (v, _) => v.to_string(),
    };
    let _ = writeln!(out, "{name}{{{labels}}} {text}");
}

/// The states a status metric is split into, and whether the row's status
/// column means that state.
fn states(obj: ObjType) -> &'static [&'static str] {
    match obj {
        ObjType::Server => &["DOWN", "UP", "MAINT", "DRAIN", "NOLB"],
        _ => &["DOWN", "UP"],
    }
}

fn status_is(status: &str, state: &str) -> bool {
    let base = status.split_whitespace().next().unwrap_or("");
    match state {
        "UP" => matches!(base, "UP" | "OPEN" | "no") || status == "no check",
        "DOWN" => matches!(base, "DOWN" | "STOP"),
        "MAINT" => base == "MAINT",
        "DRAIN" => base == "DRAIN",
        "NOLB" => base == "NOLB",
        _ => false,
    }
}

/// The whole exposition.
pub fn render_prometheus(s: &Snapshot) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let info = info_fields(&s.info);
    for (name, help, counter) in PROCESS {
        let full = format!("haproxy_process_{name}");
        let ty = if *counter { "counter" } else { "gauge" };
        if *name == "build_info" {
            let _ = writeln!(out, "# HELP {full} {help}\n# TYPE {full} {ty}");
            let _ = writeln!(out, "{full}{{version=\"{}\"}} 1", label(&s.info.version));
            continue;
        }
        let value = info_name(name)
            .and_then(|n| info.iter().find(|f| f.1 == n))
            .map_or_else(|| "0".to_string(), |f| f.3.to_string());
        let _ = writeln!(
            out,
            "# HELP {full} {help}\n# TYPE {full} {ty}\n{full} {value}"
        );
    }
    for scope in [ObjType::Frontend, ObjType::Backend, ObjType::Server] {
        let prefix = match scope {
            ObjType::Frontend => "haproxy_frontend_",
            ObjType::Backend => "haproxy_backend_",
            _ => "haproxy_server_",
        };
        let rows: Vec<&Row> = s.rows.iter().filter(|r| r.obj == scope).collect();
        for m in METRICS.iter().filter(|m| m.obj == scope) {
            if rows.is_empty() {
                break;
            }
            let full = format!("{prefix}{}", m.name);
            let ty = if m.counter { "counter" } else { "gauge" };
            let _ = writeln!(out, "# HELP {full} {}\n# TYPE {full} {ty}", m.help);
            match m.how {
                How::Plain | How::Millis => {
                    for r in &rows {
                        sample(&mut out, &full, &labels(r), r.get(m.col), m.how);
                    }
                }
                How::Status => {
                    for r in &rows {
                        let st = r.text(col::STATUS);
                        for state in states(scope) {
                            let _ = writeln!(
                                out,
                                "{full}{{{},state=\"{state}\"}} {}",
                                labels(r),
                                u8::from(status_is(st, state))
                            );
                        }
                    }
                }
                How::Codes => {
                    let codes = [
                        ("1xx", col::HRSP_1XX),
                        ("2xx", col::HRSP_2XX),
                        ("3xx", col::HRSP_3XX),
                        ("4xx", col::HRSP_4XX),
                        ("5xx", col::HRSP_5XX),
                        ("other", col::HRSP_OTHER),
                    ];
                    for (code, c) in codes {
                        for r in &rows {
                            let l = format!("{},code=\"{code}\"", labels(r));
                            sample(&mut out, &full, &l, r.get(c), How::Plain);
                        }
                    }
                }
            }
        }
    }
    out
}
