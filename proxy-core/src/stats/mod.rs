//! HAProxy's statistics, rendered from a [`Snapshot`]: the HTML page and
//! its CSV export, `show stat` and `show info` (plain, `typed` and `json`)
//! for the runtime API, and the Prometheus text exposition.
//!
//! Everything here is pure: a snapshot is plain data taken from the engine
//! (see `Engine::snapshot`), and each renderer turns it into bytes. Column
//! names, their order and their tags are HAProxy 2.6's ([`fields`]), so that
//! tools written against HAProxy read ours unchanged.

pub mod fields;
mod html;
mod info;
mod prom;
mod table;

pub use fields::{FIELDS, FieldDef, col};
pub use html::{PageOptions, ServerAction, render_html};
pub use info::{Info, info_fields, render_info, render_info_json, render_info_typed};
pub use prom::render_prometheus;
pub use table::{csv_header, render_csv, render_stat_json, render_stat_typed};

use std::fmt;

/// What a statistics row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjType {
    /// A proxy's frontend half (`FRONTEND`).
    Frontend,
    /// A proxy's backend half (`BACKEND`).
    Backend,
    /// A server of a backend.
    Server,
    /// A listening socket (with `option socket-stats`).
    Listener,
}

impl ObjType {
    /// The `type` column's number (0 frontend, 1 backend, 2 server, 3 listener).
    pub fn number(self) -> u32 {
        match self {
            Self::Frontend => 0,
            Self::Backend => 1,
            Self::Server => 2,
            Self::Listener => 3,
        }
    }

    /// The letter starting a `show stat typed` line.
    pub fn letter(self) -> char {
        match self {
            Self::Frontend => 'F',
            Self::Backend => 'B',
            Self::Server => 'S',
            Self::Listener => 'L',
        }
    }

    /// The `objType` of `show stat json`.
    pub fn json_name(self) -> &'static str {
        match self {
            Self::Frontend => "Frontend",
            Self::Backend => "Backend",
            Self::Server => "Server",
            Self::Listener => "Listener",
        }
    }
}

/// One cell of a statistics row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// Not applicable to this kind of row: an empty CSV cell, absent from
    /// typed and JSON output.
    #[default]
    Empty,
    /// A 32-bit unsigned number.
    U32(u32),
    /// A 64-bit unsigned number.
    U64(u64),
    /// A 32-bit signed number.
    S32(i32),
    /// Text.
    Str(String),
}

impl Value {
    /// The type name `show stat typed` prints.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Empty => "",
            Self::U32(_) => "u32",
            Self::U64(_) => "u64",
            Self::S32(_) => "s32",
            Self::Str(_) => "str",
        }
    }

    /// The value as a number, if it is one.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::U32(v) => Some(u64::from(*v)),
            Self::U64(v) => Some(*v),
            Self::S32(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => Ok(()),
            Self::U32(v) => write!(f, "{v}"),
            Self::U64(v) => write!(f, "{v}"),
            Self::S32(v) => write!(f, "{v}"),
            Self::Str(s) => f.write_str(s),
        }
    }
}

/// One statistics row: a frontend, a backend, a server or a listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// What the row describes.
    pub obj: ObjType,
    /// The proxy's id (`iid`).
    pub proxy_id: u32,
    /// The server's id (`sid`), 0 for frontends and backends.
    pub id: u32,
    /// One value per column of [`FIELDS`].
    pub values: Vec<Value>,
}

impl Row {
    /// A row with HAProxy's columns for its kind at zero and its key columns (`pxname`, `svname`, `pid`, `iid`,
    /// `sid`, `type`) filled in.
    pub fn new(obj: ObjType, pxname: &str, svname: &str, proxy_id: u32, id: u32) -> Row {
        let mut r = Row {
            obj,
            proxy_id,
            id,
            values: fields::zero_row(obj),
        };
        r.set(col::PXNAME, Value::Str(pxname.into()));
        r.set(col::SVNAME, Value::Str(svname.into()));
        r.set(col::PID, Value::U32(1));
        r.set(col::IID, Value::U32(proxy_id));
        r.set(col::SID, Value::U32(id));
        r.set(col::TYPE, Value::U32(obj.number()));
        r
    }

    /// Sets column `c` (a [`col`] constant); out-of-range columns are ignored.
    pub fn set(&mut self, c: usize, v: Value) {
        if let Some(slot) = self.values.get_mut(c) {
            *slot = v;
        }
    }

    /// Column `c`.
    pub fn get(&self, c: usize) -> &Value {
        static EMPTY: Value = Value::Empty;
        self.values.get(c).unwrap_or(&EMPTY)
    }

    /// Column `c` as a number (0 when empty or text).
    pub fn num(&self, c: usize) -> u64 {
        self.get(c).as_u64().unwrap_or(0)
    }

    /// Column `c` as text ("" when empty or a number).
    pub fn text(&self, c: usize) -> &str {
        self.get(c).as_str().unwrap_or("")
    }

    /// The proxy name.
    pub fn pxname(&self) -> &str {
        self.text(col::PXNAME)
    }

    /// The service name (`FRONTEND`, `BACKEND` or the server's name).
    pub fn svname(&self) -> &str {
        self.text(col::SVNAME)
    }

    /// The tags of column `c` for this row's kind (a few columns are tagged
    /// differently on backends and servers).
    pub fn tags(&self, c: usize) -> &'static str {
        match (self.obj, c) {
            (ObjType::Server, col::ACT | col::BCK) => "SGP",
            (ObjType::Backend, col::RATE | col::RATE_MAX) => "MGP",
            _ => FIELDS.get(c).map_or("", |f| f.tags),
        }
    }
}

/// Everything the statistics renderers show, taken at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Process-wide information (`show info`).
    pub info: Info,
    /// Rows in HAProxy's order: per proxy in declaration order, its
    /// frontend, listeners, servers, then its backend.
    pub rows: Vec<Row>,
}

impl Snapshot {
    /// Rows matching `show stat`'s filter: proxy id (`-1` all), type mask
    /// (1 frontends, 2 backends, 4 servers, 8 listeners; `-1` all) and server
    /// id (`-1` all).
    pub fn filtered(&self, proxy: i64, types: i64, server: i64) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| {
            let bit = 1i64
                << match r.obj {
                    ObjType::Frontend => 0,
                    ObjType::Backend => 1,
                    ObjType::Server => 2,
                    ObjType::Listener => 3,
                };
            (proxy < 0 || i64::from(r.proxy_id) == proxy)
                && (types < 0 || types & bit != 0)
                && (server < 0 || r.obj != ObjType::Server || i64::from(r.id) == server)
        })
    }
}

/// Escapes text for HTML.
pub(crate) fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Escapes text for a JSON string.
pub(crate) fn json_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// The long names of the tag letters, as `show stat json` prints them.
pub(crate) fn tag_names(tags: &str) -> (&'static str, &'static str, &'static str) {
    let mut it = tags.chars();
    let origin = match it.next() {
        Some('M') => "Metric",
        Some('S') => "Status",
        Some('K') => "Key",
        Some('C') => "Config",
        Some('P') => "Product",
        _ => "",
    };
    let nature = match it.next() {
        Some('A') => "Age",
        Some('a') => "Avg",
        Some('C') => "Counter",
        Some('D') => "Duration",
        Some('G') => "Gauge",
        Some('L') => "Limit",
        Some('M') => "Max",
        Some('N') => "Name",
        Some('O') => "Output",
        Some('R') => "Rate",
        Some('T') => "Time",
        _ => "",
    };
    let scope = match it.next() {
        Some('C') => "Cluster",
        Some('P') => "Process",
        Some('S') => "Service",
        Some('s') => "System",
        _ => "",
    };
    (origin, nature, scope)
}
