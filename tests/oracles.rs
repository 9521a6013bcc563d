//! Hand-written parts checked against the well-kept libraries they stand in for (the libraries
//! are dev-dependencies only; the wasm stays small): the proxy's SHA-256 against `sha2`, the SSH
//! key check's base64 against `base64`.
#![cfg(not(target_arch = "wasm32"))]

use sha2::{Digest, Sha256};

#[test]
fn sha256_is_what_sha2_computes_for_every_length_and_content() {
    // Every length around the block and padding boundaries (55/56/63/64 bytes), then longer,
    // with bytes from a simple generator so every value appears.
    let mut x: u32 = 0x1234_5678;
    let mut data = Vec::new();
    for len in 0..=1100usize {
        while data.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            data.push((x >> 7) as u8);
        }
        let ours = gpufleet::proxy::sha256(&data[..len]);
        let theirs: [u8; 32] = Sha256::digest(&data[..len]).into();
        assert_eq!(ours, theirs, "length {len}");
    }
    // A token's typical shapes.
    for token in ["", "a", "Bearer x", &"0123456789abcdef".repeat(8), "é😀"] {
        assert_eq!(gpufleet::proxy::sha256(token.as_bytes()), <[u8; 32]>::from(Sha256::digest(token.as_bytes())), "{token}");
    }
}

/// The SSH key check's base64 decoder against the `base64` crate (standard alphabet, canonical
/// padding, no trailing bits): the same bytes for every encoding, and the same refusals for
/// mutated text.
#[test]
fn ssh_key_base64_is_what_the_base64_crate_decodes() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let mut x: u32 = 0x9e37_79b9;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n";
    for len in 0..300usize {
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let text = STANDARD.encode(&data);
        assert_eq!(gpufleet::ssh_key::decode_base64(&text).unwrap_or_default(), data, "{text}");
        // Mutations: one character replaced, one dropped, one added.
        for _ in 0..20 {
            let mut bytes = text.clone().into_bytes();
            match next() % 3 {
                0 if !bytes.is_empty() => {
                    let i = next() as usize % bytes.len();
                    bytes[i] = ALPHABET[next() as usize % ALPHABET.len()];
                }
                1 if !bytes.is_empty() => {
                    bytes.remove(next() as usize % bytes.len());
                }
                _ => {
                    let i = next() as usize % (bytes.len() + 1);
                    bytes.insert(i, ALPHABET[next() as usize % ALPHABET.len()]);
                }
            }
            let mutated = String::from_utf8(bytes).unwrap();
            let theirs = STANDARD.decode(&mutated).ok().filter(|_| !mutated.is_empty());
            assert_eq!(gpufleet::ssh_key::decode_base64(&mutated), theirs, "{mutated:?}");
        }
    }
}
