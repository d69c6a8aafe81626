//! HAProxy 2.6's statistics columns, in `show stat` order, with the tags
//! `show stat typed` prints for them (origin, nature, scope). Taken from a
//! running HAProxy 2.6.12 (`proxy-core/tests/data/stats/show_stat_json.txt`).

/// One statistics column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// CSV column name.
    pub name: &'static str,
    /// Origin, nature and scope letters as `show stat typed` prints them.
    pub tags: &'static str,
}

/// Every column, in order.
pub const FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "pxname",
        tags: "KNS",
    },
    FieldDef {
        name: "svname",
        tags: "KNS",
    },
    FieldDef {
        name: "qcur",
        tags: "MGP",
    },
    FieldDef {
        name: "qmax",
        tags: "MMP",
    },
    FieldDef {
        name: "scur",
        tags: "MGP",
    },
    FieldDef {
        name: "smax",
        tags: "MMP",
    },
    FieldDef {
        name: "slim",
        tags: "CLP",
    },
    FieldDef {
        name: "stot",
        tags: "MCP",
    },
    FieldDef {
        name: "bin",
        tags: "MCP",
    },
    FieldDef {
        name: "bout",
        tags: "MCP",
    },
    FieldDef {
        name: "dreq",
        tags: "MCP",
    },
    FieldDef {
        name: "dresp",
        tags: "MCP",
    },
    FieldDef {
        name: "ereq",
        tags: "MCP",
    },
    FieldDef {
        name: "econ",
        tags: "MCP",
    },
    FieldDef {
        name: "eresp",
        tags: "MCP",
    },
    FieldDef {
        name: "wretr",
        tags: "MCP",
    },
    FieldDef {
        name: "wredis",
        tags: "MCP",
    },
    FieldDef {
        name: "status",
        tags: "SGP",
    },
    FieldDef {
        name: "weight",
        tags: "MaP",
    },
    FieldDef {
        name: "act",
        tags: "MGP",
    },
    FieldDef {
        name: "bck",
        tags: "MGP",
    },
    FieldDef {
        name: "chkfail",
        tags: "MCP",
    },
    FieldDef {
        name: "chkdown",
        tags: "MCP",
    },
    FieldDef {
        name: "lastchg",
        tags: "MAP",
    },
    FieldDef {
        name: "downtime",
        tags: "MCP",
    },
    FieldDef {
        name: "qlimit",
        tags: "CLP",
    },
    FieldDef {
        name: "pid",
        tags: "KGP",
    },
    FieldDef {
        name: "iid",
        tags: "KGS",
    },
    FieldDef {
        name: "sid",
        tags: "KGS",
    },
    FieldDef {
        name: "throttle",
        tags: "MaP",
    },
    FieldDef {
        name: "lbtot",
        tags: "MCP",
    },
    FieldDef {
        name: "tracked",
        tags: "CNS",
    },
    FieldDef {
        name: "type",
        tags: "CGS",
    },
    FieldDef {
        name: "rate",
        tags: "MRP",
    },
    FieldDef {
        name: "rate_lim",
        tags: "CLP",
    },
    FieldDef {
        name: "rate_max",
        tags: "MMP",
    },
    FieldDef {
        name: "check_status",
        tags: "MOP",
    },
    FieldDef {
        name: "check_code",
        tags: "MOP",
    },
    FieldDef {
        name: "check_duration",
        tags: "MDP",
    },
    FieldDef {
        name: "hrsp_1xx",
        tags: "MCP",
    },
    FieldDef {
        name: "hrsp_2xx",
        tags: "MCP",
    },
    FieldDef {
        name: "hrsp_3xx",
        tags: "MCP",
    },
    FieldDef {
        name: "hrsp_4xx",
        tags: "MCP",
    },
    FieldDef {
        name: "hrsp_5xx",
        tags: "MCP",
    },
    FieldDef {
        name: "hrsp_other",
        tags: "MCP",
    },
    FieldDef {
        name: "hanafail",
        tags: "MCP",
    },
    FieldDef {
        name: "req_rate",
        tags: "MRP",
    },
    FieldDef {
        name: "req_rate_max",
        tags: "MMP",
    },
    FieldDef {
        name: "req_tot",
        tags: "MCP",
    },
    FieldDef {
        name: "cli_abrt",
        tags: "MCP",
    },
    FieldDef {
        name: "srv_abrt",
        tags: "MCP",
    },
    FieldDef {
        name: "comp_in",
        tags: "MCP",
    },
    FieldDef {
        name: "comp_out",
        tags: "MCP",
    },
    FieldDef {
        name: "comp_byp",
        tags: "MCP",
    },
    FieldDef {
        name: "comp_rsp",
        tags: "MCP",
    },
    FieldDef {
        name: "lastsess",
        tags: "MAP",
    },
    FieldDef {
        name: "last_chk",
        tags: "MOP",
    },
    FieldDef {
        name: "last_agt",
        tags: "MOP",
    },
    FieldDef {
        name: "qtime",
        tags: "MaP",
    },
    FieldDef {
        name: "ctime",
        tags: "MaP",
    },
    FieldDef {
        name: "rtime",
        tags: "MaP",
    },
    FieldDef {
        name: "ttime",
        tags: "MaP",
    },
    FieldDef {
        name: "agent_status",
        tags: "MOP",
    },
    FieldDef {
        name: "agent_code",
        tags: "MOP",
    },
    FieldDef {
        name: "agent_duration",
        tags: "MDP",
    },
    FieldDef {
        name: "check_desc",
        tags: "MOP",
    },
    FieldDef {
        name: "agent_desc",
        tags: "MOP",
    },
    FieldDef {
        name: "check_rise",
        tags: "CGS",
    },
    FieldDef {
        name: "check_fall",
        tags: "CGS",
    },
    FieldDef {
        name: "check_health",
        tags: "CGS",
    },
    FieldDef {
        name: "agent_rise",
        tags: "CGS",
    },
    FieldDef {
        name: "agent_fall",
        tags: "CGS",
    },
    FieldDef {
        name: "agent_health",
        tags: "CGS",
    },
    FieldDef {
        name: "addr",
        tags: "CGS",
    },
    FieldDef {
        name: "cookie",
        tags: "CNS",
    },
    FieldDef {
        name: "mode",
        tags: "CGS",
    },
    FieldDef {
        name: "algo",
        tags: "CGS",
    },
    FieldDef {
        name: "conn_rate",
        tags: "MRP",
    },
    FieldDef {
        name: "conn_rate_max",
        tags: "MMP",
    },
    FieldDef {
        name: "conn_tot",
        tags: "MCP",
    },
    FieldDef {
        name: "intercepted",
        tags: "MCP",
    },
    FieldDef {
        name: "dcon",
        tags: "MCP",
    },
    FieldDef {
        name: "dses",
        tags: "MCP",
    },
    FieldDef {
        name: "wrew",
        tags: "MCP",
    },
    FieldDef {
        name: "connect",
        tags: "MCP",
    },
    FieldDef {
        name: "reuse",
        tags: "MCP",
    },
    FieldDef {
        name: "cache_lookups",
        tags: "MCP",
    },
    FieldDef {
        name: "cache_hits",
        tags: "MCP",
    },
    FieldDef {
        name: "srv_icur",
        tags: "MGP",
    },
    FieldDef {
        name: "src_ilim",
        tags: "CLP",
    },
    FieldDef {
        name: "qtime_max",
        tags: "MMP",
    },
    FieldDef {
        name: "ctime_max",
        tags: "MMP",
    },
    FieldDef {
        name: "rtime_max",
        tags: "MMP",
    },
    FieldDef {
        name: "ttime_max",
        tags: "MMP",
    },
    FieldDef {
        name: "eint",
        tags: "MCP",
    },
    FieldDef {
        name: "idle_conn_cur",
        tags: "MGP",
    },
    FieldDef {
        name: "safe_conn_cur",
        tags: "MGP",
    },
    FieldDef {
        name: "used_conn_cur",
        tags: "MGP",
    },
    FieldDef {
        name: "need_conn_est",
        tags: "MGP",
    },
    FieldDef {
        name: "uweight",
        tags: "MaP",
    },
    FieldDef {
        name: "agg_server_status",
        tags: "MGP",
    },
    FieldDef {
        name: "agg_server_check_status",
        tags: "MGP",
    },
    FieldDef {
        name: "agg_check_status",
        tags: "MGP",
    },
    FieldDef {
        name: "-",
        tags: "MGP",
    },
    FieldDef {
        name: "ssl_sess",
        tags: "MCP",
    },
    FieldDef {
        name: "ssl_reused_sess",
        tags: "MCP",
    },
    FieldDef {
        name: "ssl_failed_handshake",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_headers_rcvd",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_data_rcvd",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_settings_rcvd",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_rst_stream_rcvd",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_goaway_rcvd",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_detected_conn_protocol_errors",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_detected_strm_protocol_errors",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_rst_stream_resp",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_goaway_resp",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_open_connections",
        tags: "MGP",
    },
    FieldDef {
        name: "h2_backend_open_streams",
        tags: "MGP",
    },
    FieldDef {
        name: "h2_total_connections",
        tags: "MCP",
    },
    FieldDef {
        name: "h2_backend_total_streams",
        tags: "MCP",
    },
    FieldDef {
        name: "h1_open_connections",
        tags: "MGP",
    },
    FieldDef {
        name: "h1_open_streams",
        tags: "MGP",
    },
    FieldDef {
        name: "h1_total_connections",
        tags: "MCP",
    },
    FieldDef {
        name: "h1_total_streams",
        tags: "MCP",
    },
    FieldDef {
        name: "h1_bytes_in",
        tags: "MCP",
    },
    FieldDef {
        name: "h1_bytes_out",
        tags: "MCP",
    },
    FieldDef {
        name: "h1_spliced_bytes_in",
        tags: "MCP",
    },
    FieldDef {
        name: "h1_spliced_bytes_out",
        tags: "MCP",
    },
];

/// Column positions, by name.
#[allow(missing_docs)]
pub mod col {
    pub const PXNAME: usize = 0;
    pub const SVNAME: usize = 1;
    pub const QCUR: usize = 2;
    pub const QMAX: usize = 3;
    pub const SCUR: usize = 4;
    pub const SMAX: usize = 5;
    pub const SLIM: usize = 6;
    pub const STOT: usize = 7;
    pub const BIN: usize = 8;
    pub const BOUT: usize = 9;
    pub const DREQ: usize = 10;
    pub const DRESP: usize = 11;
    pub const EREQ: usize = 12;
    pub const ECON: usize = 13;
    pub const ERESP: usize = 14;
    pub const WRETR: usize = 15;
    pub const WREDIS: usize = 16;
    pub const STATUS: usize = 17;
    pub const WEIGHT: usize = 18;
    pub const ACT: usize = 19;
    pub const BCK: usize = 20;
    pub const CHKFAIL: usize = 21;
    pub const CHKDOWN: usize = 22;
    pub const LASTCHG: usize = 23;
    pub const DOWNTIME: usize = 24;
    pub const QLIMIT: usize = 25;
    pub const PID: usize = 26;
    pub const IID: usize = 27;
    pub const SID: usize = 28;
    pub const THROTTLE: usize = 29;
    pub const LBTOT: usize = 30;
    pub const TRACKED: usize = 31;
    pub const TYPE: usize = 32;
    pub const RATE: usize = 33;
    pub const RATE_LIM: usize = 34;
    pub const RATE_MAX: usize = 35;
    pub const CHECK_STATUS: usize = 36;
    pub const CHECK_CODE: usize = 37;
    pub const CHECK_DURATION: usize = 38;
    pub const HRSP_1XX: usize = 39;
    pub const HRSP_2XX: usize = 40;
    pub const HRSP_3XX: usize = 41;
    pub const HRSP_4XX: usize = 42;
    pub const HRSP_5XX: usize = 43;
    pub const HRSP_OTHER: usize = 44;
    pub const HANAFAIL: usize = 45;
    pub const REQ_RATE: usize = 46;
    pub const REQ_RATE_MAX: usize = 47;
    pub const REQ_TOT: usize = 48;
    pub const CLI_ABRT: usize = 49;
    pub const SRV_ABRT: usize = 50;
    pub const COMP_IN: usize = 51;
    pub const COMP_OUT: usize = 52;
    pub const COMP_BYP: usize = 53;
    pub const COMP_RSP: usize = 54;
    pub const LASTSESS: usize = 55;
    pub const LAST_CHK: usize = 56;
    pub const LAST_AGT: usize = 57;
    pub const QTIME: usize = 58;
    pub const CTIME: usize = 59;
    pub const RTIME: usize = 60;
    pub const TTIME: usize = 61;
    pub const AGENT_STATUS: usize = 62;
    pub const AGENT_CODE: usize = 63;
    pub const AGENT_DURATION: usize = 64;
    pub const CHECK_DESC: usize = 65;
    pub const AGENT_DESC: usize = 66;
    pub const CHECK_RISE: usize = 67;
    pub const CHECK_FALL: usize = 68;
    pub const CHECK_HEALTH: usize = 69;
    pub const AGENT_RISE: usize = 70;
    pub const AGENT_FALL: usize = 71;
    pub const AGENT_HEALTH: usize = 72;
    pub const ADDR: usize = 73;
    pub const COOKIE: usize = 74;
    pub const MODE: usize = 75;
    pub const ALGO: usize = 76;
    pub const CONN_RATE: usize = 77;
    pub const CONN_RATE_MAX: usize = 78;
    pub const CONN_TOT: usize = 79;
    pub const INTERCEPTED: usize = 80;
    pub const DCON: usize = 81;
    pub const DSES: usize = 82;
    pub const WREW: usize = 83;
    pub const CONNECT: usize = 84;
    pub const REUSE: usize = 85;
    pub const CACHE_LOOKUPS: usize = 86;
    pub const CACHE_HITS: usize = 87;
    pub const SRV_ICUR: usize = 88;
    pub const SRC_ILIM: usize = 89;
    pub const QTIME_MAX: usize = 90;
    pub const CTIME_MAX: usize = 91;
    pub const RTIME_MAX: usize = 92;
    pub const TTIME_MAX: usize = 93;
    pub const EINT: usize = 94;
    pub const IDLE_CONN_CUR: usize = 95;
    pub const SAFE_CONN_CUR: usize = 96;
    pub const USED_CONN_CUR: usize = 97;
    pub const NEED_CONN_EST: usize = 98;
    pub const UWEIGHT: usize = 99;
    pub const AGG_SERVER_STATUS: usize = 100;
    pub const AGG_SERVER_CHECK_STATUS: usize = 101;
    pub const AGG_CHECK_STATUS: usize = 102;
    pub const DASH: usize = 103;
    pub const SSL_SESS: usize = 104;
    pub const SSL_REUSED_SESS: usize = 105;
    pub const SSL_FAILED_HANDSHAKE: usize = 106;
    pub const H2_HEADERS_RCVD: usize = 107;
    pub const H2_DATA_RCVD: usize = 108;
    pub const H2_SETTINGS_RCVD: usize = 109;
    pub const H2_RST_STREAM_RCVD: usize = 110;
    pub const H2_GOAWAY_RCVD: usize = 111;
    pub const H2_DETECTED_CONN_PROTOCOL_ERRORS: usize = 112;
    pub const H2_DETECTED_STRM_PROTOCOL_ERRORS: usize = 113;
    pub const H2_RST_STREAM_RESP: usize = 114;
    pub const H2_GOAWAY_RESP: usize = 115;
    pub const H2_OPEN_CONNECTIONS: usize = 116;
    pub const H2_BACKEND_OPEN_STREAMS: usize = 117;
    pub const H2_TOTAL_CONNECTIONS: usize = 118;
    pub const H2_BACKEND_TOTAL_STREAMS: usize = 119;
    pub const H1_OPEN_CONNECTIONS: usize = 120;
    pub const H1_OPEN_STREAMS: usize = 121;
    pub const H1_TOTAL_CONNECTIONS: usize = 122;
    pub const H1_TOTAL_STREAMS: usize = 123;
    pub const H1_BYTES_IN: usize = 124;
    pub const H1_BYTES_OUT: usize = 125;
    pub const H1_SPLICED_BYTES_IN: usize = 126;
    pub const H1_SPLICED_BYTES_OUT: usize = 127;
}

/// Columns HAProxy 2.6 fills for a kind of row, with their value type,
/// as a row of zeros (text columns empty strings); the others stay empty.
pub fn zero_row(obj: super::ObjType) -> Vec<super::Value> {
    use super::Value;
    let cols: &[(usize, u8)] = match obj {
        super::ObjType::Frontend | super::ObjType::Listener => &[
            (0, 3),
            (1, 3),
            (4, 0),
            (5, 0),
            (6, 0),
            (7, 1),
            (8, 1),
            (9, 1),
            (10, 1),
            (11, 1),
            (12, 1),
            (17, 3),
            (26, 0),
            (27, 0),
            (28, 0),
            (32, 0),
            (33, 0),
            (34, 0),
            (35, 0),
            (39, 1),
            (40, 1),
            (41, 1),
            (42, 1),
            (43, 1),
            (44, 1),
            (46, 0),
            (47, 0),
            (48, 1),
            (51, 1),
            (52, 1),
            (53, 1),
            (54, 1),
            (75, 3),
            (77, 0),
            (78, 0),
            (79, 1),
            (80, 1),
            (81, 1),
            (82, 1),
            (83, 1),
            (86, 1),
            (87, 1),
            (94, 1),
            (104, 1),
            (105, 1),
            (106, 1),
            (107, 1),
            (108, 1),
            (109, 1),
            (110, 1),
            (111, 1),
            (112, 1),
            (113, 1),
            (114, 1),
            (115, 1),
            (116, 1),
            (117, 1),
            (118, 1),
            (119, 1),
            (120, 1),
            (121, 1),
            (122, 1),
            (123, 1),
            (124, 1),
            (125, 1),
            (126, 1),
            (127, 1),
        ],
        super::ObjType::Backend => &[
            (0, 3),
            (1, 3),
            (2, 0),
            (3, 0),
            (4, 0),
            (5, 0),
            (6, 0),
            (7, 1),
            (8, 1),
            (9, 1),
            (10, 1),
            (11, 1),
            (13, 1),
            (14, 1),
            (15, 1),
            (16, 1),
            (17, 3),
            (18, 0),
            (19, 0),
            (20, 0),
            (22, 1),
            (23, 0),
            (26, 0),
            (27, 0),
            (28, 0),
            (30, 1),
            (32, 0),
            (33, 0),
            (35, 0),
            (39, 1),
            (40, 1),
            (41, 1),
            (42, 1),
            (43, 1),
            (44, 1),
            (48, 1),
            (49, 1),
            (50, 1),
            (51, 1),
            (52, 1),
            (53, 1),
            (54, 1),
            (55, 2),
            (58, 0),
            (59, 0),
            (60, 0),
            (61, 0),
            (75, 3),
            (76, 3),
            (83, 1),
            (84, 1),
            (85, 1),
            (86, 1),
            (87, 1),
            (90, 0),
            (91, 0),
            (92, 0),
            (93, 0),
            (94, 1),
            (99, 0),
            (100, 0),
            (101, 0),
            (102, 0),
            (104, 1),
            (105, 1),
            (106, 1),
            (107, 1),
            (108, 1),
            (109, 1),
            (110, 1),
            (111, 1),
            (112, 1),
            (113, 1),
            (114, 1),
            (115, 1),
            (116, 1),
            (117, 1),
            (118, 1),
            (119, 1),
            (120, 1),
            (121, 1),
            (122, 1),
            (123, 1),
            (124, 1),
            (125, 1),
            (126, 1),
            (127, 1),
        ],
        super::ObjType::Server => &[
            (0, 3),
            (1, 3),
            (2, 0),
            (3, 0),
            (4, 0),
            (5, 0),
            (6, 0),
            (7, 1),
            (8, 1),
            (9, 1),
            (11, 1),
            (13, 1),
            (14, 1),
            (15, 1),
            (16, 1),
            (17, 3),
            (18, 0),
            (19, 0),
            (20, 0),
            (23, 0),
            (26, 0),
            (27, 0),
            (28, 0),
            (30, 1),
            (32, 0),
            (33, 0),
            (35, 0),
            (39, 1),
            (40, 1),
            (41, 1),
            (42, 1),
            (43, 1),
            (44, 1),
            (48, 1),
            (49, 1),
            (50, 1),
            (55, 2),
            (58, 0),
            (59, 0),
            (60, 0),
            (61, 0),
            (73, 3),
            (75, 3),
            (83, 1),
            (84, 1),
            (85, 1),
            (88, 0),
            (90, 0),
            (91, 0),
            (92, 0),
            (93, 0),
            (94, 1),
            (95, 0),
            (96, 0),
            (97, 0),
            (98, 0),
            (99, 0),
            (104, 1),
            (105, 1),
            (106, 1),
        ],
    };
    let mut v = vec![Value::Empty; FIELDS.len()];
    if let Some(slot) = v.get_mut(col::DASH) {
        *slot = Value::Str("-".into());
    }
    for &(c, ty) in cols {
        if let Some(slot) = v.get_mut(c) {
            *slot = match ty {
                0 => Value::U32(0),
                1 => Value::U64(0),
                2 => Value::S32(0),
                _ => Value::Str(String::new()),
            };
        }
    }
    v
}

/// The position `show stat typed` and `json` give column `c`: the CSV's `-`
/// separator before the per-module columns is not a field there.
pub fn typed_pos(c: usize) -> usize {
    if c > col::DASH { c - 1 } else { c }
}
