//! Hand-written parts checked against the well-kept libraries they stand in for (the libraries
//! are dev-dependencies only; the wasm stays small): the proxy's SHA-256 against `sha2`.
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
