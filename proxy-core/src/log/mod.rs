//! Logging as HAProxy does it: syslog framing and senders, custom
//! `log-format` lines, and the httplog and tcplog line formats (kept as fast
//! writers, byte-identical to their `log-format` strings). No sockets are
//! opened here beyond the senders' own, and nothing here blocks.

pub mod format;
pub mod httplog;
pub mod syslog;
pub mod time;

/// Appends `v` in decimal, at least `width` digits (zero-padded): the
/// integers of every log line, without the formatting machinery.
pub(crate) fn push_num(out: &mut String, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        // `v % 10` is below 10: the cast keeps it.
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = i.min(buf.len().saturating_sub(width));
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[start..]).unwrap_or("0"));
}

#[cfg(test)]
mod tests {
    use super::push_num;

    #[test]
    fn numbers_as_format_writes_them() {
        for v in [0u64, 7, 10, 99, 100, 12345, u64::from(u32::MAX), u64::MAX] {
            for width in [0, 1, 2, 3, 4, 6, 25] {
                let mut out = String::from("x");
                push_num(&mut out, v, width.min(20));
                assert_eq!(out, format!("x{v:0w$}", w = width.min(20)));
            }
        }
    }
}
