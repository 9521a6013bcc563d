//! Who is calling: the bearer token read from `Authorization`, compared with the configured
//! tokens in constant time (both hashed with SHA-256 first, so neither contents nor lengths show
//! in the timing), or else a Cloudflare Access identity (`access`). The digest also keys the rate
//! limiter without keeping a token around.

use crate::callers::CallerTable;
use crate::model::Access;

/// A secret string: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(super) String);

impl Secret {
    /// The value (only for comparing and for sending upstream).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Who the caller is, from the `Authorization` header or a Cloudflare Access assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Caller {
    /// `GPUFLEET_TOKEN`.
    Full,
    /// `GPUFLEET_READONLY_TOKEN`.
    ReadOnly,
    /// A caller of `GPUFLEET_CALLERS`, by its index there.
    Named {
        index: usize,
        access: Access,
    },
    /// A Cloudflare Access identity, its assertion checked: the name it gives and what
    /// `CF_ACCESS_WRITERS` grants it.
    Access {
        name: String,
        access: Access,
    },
    /// A Cloudflare Access assertion that names no caller: the status to answer and why.
    AccessRefused {
        status: u16,
        message: String,
    },
    Missing,
    Wrong,
}

impl Caller {
    /// Who presents `presented` (the bearer token, if any), given the full-access `token`, the
    /// optional read-only one and the named callers. Every token is always compared.
    pub(super) fn of(
        presented: Option<&str>,
        token: Option<&Secret>,
        readonly: Option<&Secret>,
        callers: &CallerTable,
    ) -> Caller {
        match presented {
            None => Caller::Missing,
            Some(t) => {
                let full = token.is_some_and(|token| constant_time_eq(t, token.expose()));
                let ro = readonly.is_some_and(|r| constant_time_eq(t, r.expose()));
                let named = callers.position(&sha256(t.as_bytes()));
                if full {
                    Caller::Full
                } else if ro {
                    Caller::ReadOnly
                } else if let Some(index) = named {
                    Caller::Named { index, access: callers.callers()[index].access }
                } else {
                    Caller::Wrong
                }
            }
        }
    }

    /// What the caller may do; `None` when it is not a caller at all (no or a wrong token).
    pub(super) fn access(&self) -> Option<Access> {
        match self {
            Caller::Full => Some(Access::ReadWrite),
            Caller::ReadOnly => Some(Access::ReadOnly),
            Caller::Named { access, .. } | Caller::Access { access, .. } => Some(*access),
            Caller::AccessRefused { .. } | Caller::Missing | Caller::Wrong => None,
        }
    }

    /// The caller's name in the audit log: `token` and `readonly-token` for the shared tokens,
    /// the name `GPUFLEET_CALLERS` gives, or the Access identity's (email or `service:…`).
    pub(super) fn name<'a>(&'a self, callers: &'a CallerTable) -> &'a str {
        match self {
            Caller::Full => "token",
            Caller::ReadOnly => "readonly-token",
            Caller::Named { index, .. } => callers.callers().get(*index).map_or("unknown", |c| c.name.as_str()),
            Caller::Access { name, .. } => name,
            Caller::AccessRefused { .. } | Caller::Missing | Caller::Wrong => "anonymous",
        }
    }
}

/// The token of an `Authorization: Bearer …` header value; `None` without a header, another
/// scheme or an empty token.
pub(super) fn bearer_token(header: Option<&str>) -> Option<&str> {
    header
        .and_then(|v| {
            let v = v.trim();
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
}

/// SHA-256 of `data` (FIPS 180-4). Used to compare tokens in constant time and to key the rate
/// limiter without keeping a token around.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
        0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
        0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
        0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    let mut h: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Compares two secrets in time that depends on neither their contents nor their lengths: both
/// are hashed first, then every byte of the digests is compared.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (x, y) = (sha256(a.as_bytes()), sha256(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

/// Lowercase hex digits of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_vectors() {
        assert_eq!(hex(&sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            hex(&sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(hex(&sha256(&vec![b'a'; 1_000])), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
    }
}
