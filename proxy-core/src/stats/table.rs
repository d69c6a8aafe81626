//! `show stat` in its three forms: CSV (also the page's `;csv` export),
//! `typed` and `json`.

use std::fmt::Write;

use super::fields::typed_pos;
use super::{FIELDS, Row, Value, col, json_escape, tag_names};

/// The CSV header line, `# pxname,svname,...,` with its newline.
pub fn csv_header() -> String {
    let mut out = String::from("# ");
    for f in FIELDS {
        out.push_str(f.name);
        out.push(',');
    }
    out.push('\n');
    out
}

fn csv_cell(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) if s.contains([',', '"', '\n']) => {
            out.push('"');
            out.push_str(&s.replace('"', "\"\""));
            out.push('"');
        }
        v => {
            let _ = write!(out, "{v}");
        }
    }
}

/// The header and one CSV line per row, each ending with `,` and a newline.
pub fn render_csv<'a>(rows: impl IntoIterator<Item = &'a Row>) -> String {
    let mut out = csv_header();
    for r in rows {
        for v in &r.values {
            csv_cell(&mut out, v);
            out.push(',');
        }
        out.push('\n');
    }
    out
}

/// `show stat typed`: one line per non-empty field,
/// `F.<iid>.<sid>.<pos>.<name>.1:<tags>:<type>:<value>`.
pub fn render_stat_typed<'a>(rows: impl IntoIterator<Item = &'a Row>) -> String {
    let mut out = String::new();
    for r in rows {
        for (c, (f, v)) in FIELDS.iter().zip(&r.values).enumerate() {
            if *v == Value::Empty || c == col::DASH {
                continue;
            }
            let _ = writeln!(
                out,
                "{}.{}.{}.{}.{}.1:{}:{}:{}",
                r.obj.letter(),
                r.proxy_id,
                r.id,
                typed_pos(c),
                f.name,
                r.tags(c),
                v.type_name(),
                v
            );
        }
    }
    out
}

/// One JSON value object: `{"type":"u32","value":5}`.
pub(crate) fn json_value(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{{\"type\":\"str\",\"value\":\"{}\"}}", json_escape(s)),
        v => format!("{{\"type\":\"{}\",\"value\":{}}}", v.type_name(), v),
    }
}

/// `show stat json`: an array of rows, each an array of field objects, on
/// one line.
pub fn render_stat_json<'a>(rows: impl IntoIterator<Item = &'a Row>) -> String {
    let mut out = String::from("[");
    for (i, r) in rows.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        let mut first = true;
        for (c, (f, v)) in FIELDS.iter().zip(&r.values).enumerate() {
            if *v == Value::Empty || c == col::DASH {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            let (origin, nature, scope) = tag_names(r.tags(c));
            let _ = write!(
                out,
                "{{\"objType\":\"{}\",\"proxyId\":{},\"id\":{},\"field\":{{\"pos\":{},\"name\":\"{}\"}},\"processNum\":1,\"tags\":{{\"origin\":\"{}\",\"nature\":\"{}\",\"scope\":\"{}\"}},\"value\":{}}}",
                r.obj.json_name(),
                r.proxy_id,
                r.id,
                typed_pos(c),
                json_escape(f.name),
                origin,
                nature,
                scope,
                json_value(v)
            );
        }
        out.push(']');
    }
    out.push_str("]\n");
    out
}
