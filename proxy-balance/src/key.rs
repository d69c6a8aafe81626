//! What a request offers to the balancer, and the pure extraction helpers that
//! turn request text into the exact bytes HAProxy hashes.
//!
//! Nothing here parses a whole request: the engine hands over the request
//! target, the client address and the one header or cookie value an algorithm
//! names; these functions then cut them the way HAProxy does.

use std::net::IpAddr;

use crate::algo::UriOptions;

/// The parts of a request a balancing algorithm may need.
///
/// Only the field the backend's algorithm uses is read; the rest may stay
/// `None`. When that field is missing (no `url_param` in the query, no such
/// header), hash-based algorithms fall back to round robin, as HAProxy does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestKey<'a> {
    /// The client's address (`balance source`).
    pub client_ip: Option<IpAddr>,
    /// The request target as received, e.g. `/a/b?c=d` or
    /// `http://host/a/b?c=d` (`balance uri`, `balance url_param`).
    pub uri: Option<&'a str>,
    /// The value of the header named by `balance hdr(<name>)`: the first
    /// comma-separated value of its first occurrence, as HAProxy takes it.
    pub header: Option<&'a str>,
    /// The value of the RDP cookie named by `balance rdp-cookie(<name>)`.
    pub rdp_cookie: Option<&'a str>,
    /// Caller-supplied randomness for `balance random`: each draw is derived
    /// from it deterministically, so the caller owns the generator.
    pub random: u32,
}

impl<'a> RequestKey<'a> {
    /// A key carrying only the client address.
    pub fn source(ip: IpAddr) -> Self {
        Self {
            client_ip: Some(ip),
            ..Self::default()
        }
    }

    /// A key carrying only the request target.
    pub fn uri(uri: &'a str) -> Self {
        Self {
            uri: Some(uri),
            ..Self::default()
        }
    }

    /// A key carrying only a header value.
    pub fn header(value: &'a str) -> Self {
        Self {
            header: Some(value),
            ..Self::default()
        }
    }

    /// A key carrying only random input.
    pub fn random(random: u32) -> Self {
        Self {
            random,
            ..Self::default()
        }
    }
}

/// The hash input of `balance source`: the address's 32-bit big-endian words
/// XORed together (one word for IPv4, four for IPv6). HAProxy ignores the
/// configured hash function here and only applies `avalanche` if asked.
pub fn source_hash_input(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => {
            let b = u128::from(v6);
            // Truncating casts pick each 32-bit word of the address.
            (b >> 96) as u32 ^ (b >> 64) as u32 ^ (b >> 32) as u32 ^ b as u32
        }
    }
}

/// The path part of an absolute-form request target: `http://host/p?q` gives
/// `/p?q`; an origin-form target is returned unchanged; an authority without a
/// path gives the empty string, as HAProxy's `path-only` does.
pub fn path_of_target(uri: &str) -> &str {
    if uri.starts_with('/') || uri == "*" {
        return uri;
    }
    // absolute-form: scheme "://" authority [path]
    let Some(scheme_end) = uri.find("://") else {
        return uri;
    };
    let rest = uri.get(scheme_end + 3..).unwrap_or("");
    match rest.find(['/', '?']) {
        Some(i) => rest.get(i..).unwrap_or(""),
        None => "",
    }
}

/// The slice of `uri` that `balance uri` hashes under `opts`:
/// with `path-only` the scheme and authority are dropped first, then at most
/// `len` bytes are considered, the slice stops before the `depth+1`-th `/`,
/// and stops at `?` unless `whole` is set.
pub fn uri_hash_input<'u>(uri: &'u str, opts: &UriOptions) -> &'u [u8] {
    let uri = if opts.path_only {
        path_of_target(uri)
    } else {
        uri
    };
    let bytes = uri.as_bytes();
    let limit = match opts.len {
        Some(len) if (len as usize) < bytes.len() => len as usize,
        _ => bytes.len(),
    };
    let bytes = bytes.get(..limit).unwrap_or(bytes);
    let mut slashes = 0u32;
    let mut end = bytes.len();
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'/' {
            slashes += 1;
            if opts.depth.is_some_and(|d| slashes == d.saturating_add(1)) {
                end = i;
                break;
            }
        } else if c == b'?' && !opts.whole {
            end = i;
            break;
        }
    }
    bytes.get(..end).unwrap_or(bytes)
}

/// The value of query parameter `name` in `uri` as `balance url_param` finds
/// it: the first `name=` that starts a parameter after the first `?`, up to the
/// next `&`. Returns `None` without a query or without that parameter. An empty
/// `name` never matches.
pub fn url_param_value<'u>(uri: &'u str, name: &str) -> Option<&'u str> {
    if name.is_empty() {
        return None;
    }
    let (_, query) = uri.split_once('?')?;
    query.split('&').find_map(|param| {
        let value = param.strip_prefix(name)?.strip_prefix('=')?;
        Some(value)
    })
}

/// The part of a host name that `hdr(<name>) use_domain_only` hashes: the
/// label just before the last dot (`www.haproxy.org` gives `haproxy`). A value
/// without a dot is hashed whole; like HAProxy's backward scan, a dot in the
/// first byte is not taken as the one before the top-level domain.
pub fn domain_only(value: &str) -> &str {
    let last_dot = value.get(1..).and_then(|v| v.rfind('.')).map(|i| i + 1);
    match last_dot {
        None => value,
        Some(last_dot) => {
            let head = value.get(..last_dot).unwrap_or("");
            match head.rfind('.') {
                Some(prev) => head.get(prev + 1..).unwrap_or(""),
                None => head,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> UriOptions {
        UriOptions::default()
    }

    #[test]
    fn uri_stops_at_query_unless_whole() {
        assert_eq!(uri_hash_input("/a/b?x=1", &opts()), b"/a/b");
        let whole = UriOptions {
            whole: true,
            ..opts()
        };
        assert_eq!(uri_hash_input("/a/b?x=1", &whole), b"/a/b?x=1");
    }

    #[test]
    fn uri_depth_and_len() {
        let depth = UriOptions {
            depth: Some(2),
            ..opts()
        };
        assert_eq!(uri_hash_input("/a/b/c/d", &depth), b"/a/b");
        assert_eq!(uri_hash_input("/a", &depth), b"/a");
        let len = UriOptions {
            len: Some(3),
            ..opts()
        };
        assert_eq!(uri_hash_input("/abcdef", &len), b"/ab");
        assert_eq!(uri_hash_input("/a", &len), b"/a");
    }

    #[test]
    fn path_only_strips_scheme_and_authority() {
        let p = UriOptions {
            path_only: true,
            ..opts()
        };
        assert_eq!(uri_hash_input("http://h:80/x/y?q", &p), b"/x/y");
        assert_eq!(uri_hash_input("/x/y", &p), b"/x/y");
        assert_eq!(path_of_target("https://h"), "");
        assert_eq!(path_of_target("https://h?q"), "?q");
    }

    #[test]
    fn url_param_lookup() {
        assert_eq!(url_param_value("/s?a=1&id=42&b", "id"), Some("42"));
        assert_eq!(url_param_value("/s?xid=1&id=", "id"), Some(""));
        assert_eq!(url_param_value("/s?a=1", "id"), None);
        assert_eq!(url_param_value("/s", "id"), None);
        assert_eq!(url_param_value("/s?id", "id"), None);
        assert_eq!(url_param_value("/s?id=1", ""), None);
    }

    #[test]
    fn domain_only_takes_label_before_tld() {
        assert_eq!(domain_only("www.haproxy.org"), "haproxy");
        assert_eq!(domain_only("haproxy.org"), "haproxy");
        assert_eq!(domain_only("localhost"), "localhost");
        assert_eq!(domain_only(".org"), ".org");
        assert_eq!(domain_only(".haproxy.org"), "haproxy");
    }

    #[test]
    fn source_input_xors_words() {
        assert_eq!(source_hash_input("10.0.0.1".parse().unwrap()), 0x0a00_0001);
        let v6: IpAddr = "1::2".parse().unwrap();
        assert_eq!(source_hash_input(v6), 0x0001_0000 ^ 2);
    }
}
