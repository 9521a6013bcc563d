//! SSH public keys as `authorized_keys` takes them: `<type> <base64 body> [comment]`, checked
//! before any request, so a key the instance could never use (`not-a-key`, a truncated paste, a
//! private key) is refused with the same words in Rust, JavaScript and the console.
//!
//! The body is the key in SSH wire format (RFC 4253 §6.6): a 4-byte big-endian length and the
//! key type's name, then the key itself. A key is accepted when its type is one OpenSSH accepts
//! for users, the body is canonical base64 (RFC 4648, padded) and names that same type.
//! Leaf module: nothing of the crate is imported; callers attach the field name.

/// The key types accepted (OpenSSH's user key types; DSA is gone from OpenSSH 9.8, so it is not
/// here).
pub const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Checks one public key line. `Err` is the rule broken, in words, for the caller to attach to
/// its field (e.g. `sshKey: must be an SSH public key …`).
pub fn check(key: &str) -> Result<(), String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("must not be empty (an SSH public key, e.g. ssh-ed25519 AAAA…)".into());
    }
    if key.contains("PRIVATE KEY") {
        return Err("is a private key: paste the public key (the .pub file), never the private one".into());
    }
    if key.contains(['\n', '\r']) {
        return Err("must be one line (one public key)".into());
    }
    let mut parts = key.split_ascii_whitespace();
    let kind = parts.next().unwrap_or_default();
    let Some(body) = parts.next() else {
        return Err(format!(
            "must be an SSH public key: a key type ({}) and its base64 body, e.g. ssh-ed25519 AAAA…",
            KEY_TYPES[..2].join(", ")
        ));
    };
    if !KEY_TYPES.contains(&kind) {
        return Err(format!("must start with an SSH key type ({}); got another word", KEY_TYPES.join(", ")));
    }
    let Some(blob) = decode_base64(body) else {
        return Err(format!("has a key body that is not valid base64 (after {kind}); paste the whole .pub line"));
    };
    match wire_key_type(&blob) {
        Some(named) if named == kind.as_bytes() => Ok(()),
        Some(_) => Err(format!("has a key body of another type than {kind}; paste the whole .pub line unchanged")),
        None => Err(format!("has a key body too short to be a {kind} key; paste the whole .pub line")),
    }
}

/// The key type named at the start of a wire-format key blob, if the blob has one.
fn wire_key_type(blob: &[u8]) -> Option<&[u8]> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4usize.checked_add(len)?)?;
    // The key material follows the name: a blob that is only a name is no key.
    (blob.len() > 4 + len && !name.is_empty()).then_some(name)
}

/// Decodes canonical padded base64 (RFC 4648 §4): length a multiple of 4, `=` only as the last
/// one or two characters, and unused bits of the last character zero. `None` for anything else.
/// Hand-written to keep a dependency out of the wasm; checked against the `base64` crate in
/// `tests/oracles.rs`.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() % 4 != 0 {
        return None;
    }
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let data = &bytes[..bytes.len() - padding];
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in data {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero (canonical encoding).
    if acc != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 gpufleet-test";

    #[test]
    fn a_real_key_passes_with_or_without_a_comment() {
        assert_eq!(check(ED25519), Ok(()));
        assert_eq!(check(ED25519.trim_end_matches(" gpufleet-test")), Ok(()));
        assert_eq!(check(&format!("  {ED25519}\n")), Ok(()));
    }

    #[test]
    fn each_rule_has_its_words() {
        let cases: &[(&str, &str)] = &[
            ("", "must not be empty"),
            ("not-a-key", "must be an SSH public key"),
            ("ssh-dss AAAAB3NzaC1kc3M=", "must start with an SSH key type"),
            ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIProxyTestKey", "not valid base64"),
            ("ssh-ed25519 AAAA", "too short"),
            ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", "another type than ssh-rsa"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "is a private key"),
            ("ssh-ed25519 AAAA\nssh-ed25519 AAAA", "one line"),
        ];
        for (key, words) in cases {
            let err = check(key).expect_err(key);
            assert!(err.contains(words), "{key:?}: {err}");
        }
    }

    #[test]
    fn base64_is_canonical() {
        assert_eq!(decode_base64("TWFu").as_deref(), Some(&b"Man"[..]));
        assert_eq!(decode_base64("TWE=").as_deref(), Some(&b"Ma"[..]));
        assert_eq!(decode_base64("TQ==").as_deref(), Some(&b"M"[..]));
        for bad in ["", "TWF", "TQ=", "T===", "TR==", "TW-u", "TW=u", "TQ==TQ=="] {
            assert_eq!(decode_base64(bad), None, "{bad}");
        }
    }
}
