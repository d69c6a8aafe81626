//! HAProxy's hash functions (`hash-type ... <function> [avalanche]`) and the
//! integer mixer it uses for consistent-hash points and the `avalanche` modifier.
//!
//! Each function matches HAProxy's definition bit for bit, because the server a
//! key lands on depends on the exact value.

/// How hash results are mapped onto servers (`hash-type map-based|consistent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashMethod {
    /// A static table with one slot per unit of weight: `hash % total_weight`.
    /// Cheap, but any change in the usable server set remaps most keys.
    #[default]
    MapBased,
    /// A ring of points (16 per unit of weight per server); a key goes to the
    /// closest point. Adding or removing a server moves about 1/n of the keys.
    Consistent,
}

/// The function applied to the key's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashFunction {
    /// The sdbm hash (HAProxy's default).
    #[default]
    Sdbm,
    /// Dan Bernstein's djb2 hash.
    Djb2,
    /// Willy Tarreau's wt6 hash.
    Wt6,
    /// The IEEE 802.3 CRC-32.
    Crc32,
}

impl HashFunction {
    /// Hashes `input` with this function.
    pub fn hash(self, input: &[u8]) -> u32 {
        match self {
            Self::Sdbm => sdbm(input),
            Self::Djb2 => djb2(input),
            Self::Wt6 => wt6(input),
            Self::Crc32 => crc32(input),
        }
    }

    /// The function's keyword in `hash-type`.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Sdbm => "sdbm",
            Self::Djb2 => "djb2",
            Self::Wt6 => "wt6",
            Self::Crc32 => "crc32",
        }
    }

    /// Parses a `hash-type` function keyword.
    pub fn from_keyword(word: &str) -> Option<Self> {
        match word {
            "sdbm" => Some(Self::Sdbm),
            "djb2" => Some(Self::Djb2),
            "wt6" => Some(Self::Wt6),
            "crc32" => Some(Self::Crc32),
            _ => None,
        }
    }
}

/// A backend's `hash-type`: method, function and the `avalanche` modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HashType {
    /// Map-based or consistent.
    pub method: HashMethod,
    /// The function applied to string keys (uri, url_param, hdr, rdp-cookie).
    /// `balance source` ignores it, as HAProxy does: the address words are XORed.
    pub function: HashFunction,
    /// Whether the result goes through [`avalanche`] before lookup.
    pub avalanche: bool,
}

impl HashType {
    /// Builds a hash type the way HAProxy reads `hash-type <method> [<function>
    /// [avalanche]]`: without a function, sdbm is used, and for `consistent`
    /// the avalanche modifier is then implied (HAProxy 2.6 behaves so; the
    /// captured choices in `tests/data` pin it).
    pub fn new(method: HashMethod, function: Option<HashFunction>, avalanche: bool) -> Self {
        match function {
            Some(function) => Self {
                method,
                function,
                avalanche,
            },
            None => Self {
                method,
                function: HashFunction::Sdbm,
                avalanche: avalanche || method == HashMethod::Consistent,
            },
        }
    }

    /// Hashes a string key: the function, then the modifier if set.
    pub fn hash(&self, input: &[u8]) -> u32 {
        self.finish(self.function.hash(input))
    }

    /// Applies the avalanche modifier if configured.
    pub fn finish(&self, h: u32) -> u32 {
        if self.avalanche { avalanche(h) } else { h }
    }
}

/// sdbm: `hash = c + (hash << 6) + (hash << 16) - hash` over each byte.
pub fn sdbm(input: &[u8]) -> u32 {
    input.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// djb2: `hash = hash * 33 + c`, starting at 5381.
pub fn djb2(input: &[u8]) -> u32 {
    input.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(u32::from(c))
    })
}

/// wt6, HAProxy's own two-lane hash with data-dependent rotations.
pub fn wt6(input: &[u8]) -> u32 {
    let mut h0: u32 = 0xa53c_965a;
    let mut h1: u32 = 0x5ca6_953a;
    let mut step0: u32 = 6;
    let mut step1: u32 = 18;
    for &c in input {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        // Written as shifts rather than rotate_left: a step of 0 gives
        // `x | (x >> 32)`, which in C is undefined but on x86 is `x | x`.
        let t = rot(h1, step0);
        h1 = rot(h0, step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// `(x << s) | (x >> (32 - s))` as HAProxy's wt6 computes it on x86, where a
/// 32-bit shift count is taken modulo 32.
fn rot(x: u32, s: u32) -> u32 {
    x.wrapping_shl(s) | x.wrapping_shr(32u32.wrapping_sub(s))
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320).
pub fn crc32(input: &[u8]) -> u32 {
    let mut h: u32 = !0;
    for &c in input {
        h ^= u32::from(c);
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 != 0 { 0xedb8_8320 } else { 0 };
        }
    }
    !h
}

/// HAProxy's `full_hash`: Bob Jenkins' 6-shift integer mix, then a multiply by
/// a large prime to spread values around the whole ring. Used for the
/// `avalanche` modifier and for the positions of consistent-hash points.
pub fn avalanche(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The catalogue check value for CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn djb2_and_sdbm_small_inputs() {
        assert_eq!(djb2(b""), 5381);
        assert_eq!(djb2(b"a"), 5381 * 33 + 97);
        assert_eq!(sdbm(b""), 0);
        assert_eq!(sdbm(b"a"), 97);
        // 98 + 97 * (64 + 65536 - 1)
        assert_eq!(sdbm(b"ab"), 97u32 * 65599 + 98);
    }

    #[test]
    fn default_consistent_implies_avalanche() {
        let h = HashType::new(HashMethod::Consistent, None, false);
        assert!(h.avalanche);
        let h = HashType::new(HashMethod::Consistent, Some(HashFunction::Sdbm), false);
        assert!(!h.avalanche);
        let h = HashType::new(HashMethod::MapBased, None, false);
        assert!(!h.avalanche);
    }

    #[test]
    fn keywords_round_trip() {
        for f in [
            HashFunction::Sdbm,
            HashFunction::Djb2,
            HashFunction::Wt6,
            HashFunction::Crc32,
        ] {
            assert_eq!(HashFunction::from_keyword(f.keyword()), Some(f));
        }
        assert_eq!(HashFunction::from_keyword("md5"), None);
    }
}
