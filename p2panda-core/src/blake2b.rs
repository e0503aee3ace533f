//! BLAKE2b (RFC 7693), written for size: one compression function whose twelve rounds loop over
//! the message schedule instead of being unrolled (`blake2b_simd` unrolls them, 12 KB of wasm;
//! this is about 1.3 KB). Measured against `blake2b_simd`'s portable code: ≈1.2× the time
//! natively, ≈2–3× in wasm under V8 (about 1 µs for a 298-byte entry), which ingest does not
//! notice: an entry's signature check takes ≈220 µs there.
//!
//! The builder mirrors the part of `blake2b_simd` the crate used (`Params::new().hash_length(n)
//! .key(k).personal(p).hash(input)`, or `.to_state().update(a).update(b).finalize()`), and the
//! tests compare the two on random inputs.

/// Bytes in a block.
const BLOCK: usize = 128;
/// The longest digest and key, in bytes.
const MAX_LEN: usize = 64;
/// The length of a personalization, in bytes.
const PERSONAL_LEN: usize = 16;

const IV: [u64; 8] = [
    0x6a09_e667_f3bc_c908,
    0xbb67_ae85_84ca_a73b,
    0x3c6e_f372_fe94_f82b,
    0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1,
    0x9b05_688c_2b3e_6c1f,
    0x1f83_d9ab_fb41_bd6b,
    0x5be0_cd19_137e_2179,
];

/// The message word order of each round (rounds 10 and 11 repeat rounds 0 and 1).
const SIGMA: [[u8; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/// The mixing function G on the state words `[a, b, c, d]`, with the message words the round's
/// schedule `s` names at `i` and `i + 1`.
#[inline(always)]
fn g(v: &mut [u64; 16], [a, b, c, d]: [usize; 4], m: &[u64; 16], s: &[u8; 16], i: usize) {
    let (x, y) = (m[usize::from(s[i])], m[usize::from(s[i + 1])]);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(32);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(24);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(63);
}

/// The compression function F: mixes one block into `h`. `count` is the number of message bytes
/// hashed so far, this block included; `last` marks the final block.
fn compress(h: &mut [u64; 8], block: &[u8; BLOCK], count: u128, last: bool) {
    let mut m = [0u64; 16];
    for (word, bytes) in m.iter_mut().zip(block.chunks_exact(8)) {
        let mut le = [0; 8];
        le.copy_from_slice(bytes);
        *word = u64::from_le_bytes(le);
    }
    let mut v = [0u64; 16];
    v[..8].copy_from_slice(h);
    v[8..].copy_from_slice(&IV);
    v[12] ^= count as u64;
    v[13] ^= (count >> 64) as u64;
    if last {
        v[14] = !v[14];
    }
    for round in 0..12 {
        let s = &SIGMA[round % 10];
        // Columns, then diagonals. Written out (not looped) so the state stays in registers.
        g(&mut v, [0, 4, 8, 12], &m, s, 0);
        g(&mut v, [1, 5, 9, 13], &m, s, 2);
        g(&mut v, [2, 6, 10, 14], &m, s, 4);
        g(&mut v, [3, 7, 11, 15], &m, s, 6);
        g(&mut v, [0, 5, 10, 15], &m, s, 8);
        g(&mut v, [1, 6, 11, 12], &m, s, 10);
        g(&mut v, [2, 7, 8, 13], &m, s, 12);
        g(&mut v, [3, 4, 9, 14], &m, s, 14);
    }
    for (i, word) in h.iter_mut().enumerate() {
        *word ^= v[i] ^ v[i + 8];
    }
}

/// How to hash: digest length (64 bytes unless set), key (none unless set) and personalization
/// (zeros unless set). Kept as the state before any input, so starting a hash is a copy.
#[derive(Clone)]
pub struct Params(State);

impl Default for Params {
    fn default() -> Self {
        Self::new()
    }
}

impl Params {
    pub fn new() -> Self {
        let mut params = Params(State {
            h: IV,
            buf: [0; BLOCK],
            buf_len: 0,
            count: 0,
            hash_length: MAX_LEN as u8,
            key_length: 0,
        });
        params.set_parameter_word();
        params
    }

    /// The digest length in bytes. Panics unless it is 1..=64 (callers pass constants).
    pub fn hash_length(&mut self, length: usize) -> &mut Self {
        assert!((1..=MAX_LEN).contains(&length), "BLAKE2b digest length");
        self.0.hash_length = length as u8;
        self.set_parameter_word();
        self
    }

    /// Keyed hashing (a MAC) with a key of up to 64 bytes; an empty key means none. Panics if it
    /// is longer.
    pub fn key(&mut self, key: &[u8]) -> &mut Self {
        assert!(key.len() <= MAX_LEN, "BLAKE2b key length");
        // A key is hashed as a first block of its own, zero-padded.
        let state = &mut self.0;
        state.buf = [0; BLOCK];
        state.buf[..key.len()].copy_from_slice(key);
        state.buf_len = if key.is_empty() { 0 } else { BLOCK };
        state.key_length = key.len() as u8;
        self.set_parameter_word();
        self
    }

    /// A personalization of up to 16 bytes, padded with zeros. Panics if it is longer.
    pub fn personal(&mut self, personal: &[u8]) -> &mut Self {
        assert!(
            personal.len() <= PERSONAL_LEN,
            "BLAKE2b personalization length"
        );
        let mut padded = [0; PERSONAL_LEN];
        padded[..personal.len()].copy_from_slice(personal);
        for (i, bytes) in padded.chunks_exact(8).enumerate() {
            let mut le = [0; 8];
            le.copy_from_slice(bytes);
            self.0.h[6 + i] = IV[6 + i] ^ u64::from_le_bytes(le);
        }
        self
    }

    /// The digest of `input`.
    pub fn hash(&self, input: &[u8]) -> Digest {
        self.to_state().update(input).finalize()
    }

    /// A state to feed input in parts.
    pub fn to_state(&self) -> State {
        self.0.clone()
    }

    /// The first word of the parameter block: digest length, key length, fanout 1, depth 1.
    fn set_parameter_word(&mut self) {
        let state = &mut self.0;
        state.h[0] =
            IV[0] ^ 0x0101_0000 ^ (u64::from(state.key_length) << 8) ^ u64::from(state.hash_length);
    }
}

/// An incremental hash: [`State::update`] with each part, then [`State::finalize`].
#[derive(Clone)]
pub struct State {
    h: [u64; 8],
    /// Input not yet compressed. A full block stays here until more input shows it is not the
    /// last one (the last block is compressed differently).
    buf: [u8; BLOCK],
    buf_len: usize,
    /// Bytes compressed so far.
    count: u128,
    hash_length: u8,
    key_length: u8,
}

impl State {
    pub fn update(&mut self, mut input: &[u8]) -> &mut Self {
        while !input.is_empty() {
            if self.buf_len == BLOCK {
                self.count += BLOCK as u128;
                compress(&mut self.h, &self.buf, self.count, false);
                self.buf_len = 0;
            }
            let take = (BLOCK - self.buf_len).min(input.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&input[..take]);
            self.buf_len += take;
            input = &input[take..];
        }
        self
    }

    /// The digest of everything fed in so far (the state stays usable).
    pub fn finalize(&self) -> Digest {
        let mut h = self.h;
        let mut block = self.buf;
        block[self.buf_len..].fill(0);
        compress(&mut h, &block, self.count + self.buf_len as u128, true);
        let mut bytes = [0; MAX_LEN];
        for (out, word) in bytes.chunks_exact_mut(8).zip(h) {
            out.copy_from_slice(&word.to_le_bytes());
        }
        Digest {
            bytes,
            len: self.hash_length,
        }
    }
}

/// A digest of the length its [`Params`] asked for.
#[derive(Clone, Copy)]
pub struct Digest {
    bytes: [u8; MAX_LEN],
    len: u8,
}

impl Digest {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn reference(
        length: usize,
        key: &[u8],
        personal: &[u8],
        parts: &[&[u8]],
    ) -> blake2b_simd::Hash {
        let mut state = blake2b_simd::Params::new()
            .hash_length(length)
            .key(key)
            .personal(personal)
            .to_state();
        for part in parts {
            state.update(part);
        }
        state.finalize()
    }

    #[test]
    fn rfc_7693_appendix_a() {
        let expected = "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1\
                        7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
        assert_eq!(hex::encode(Params::new().hash(b"abc").as_bytes()), expected);
    }

    #[test]
    fn block_boundaries_with_and_without_key() {
        let input: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [
            0, 1, 63, 64, 127, 128, 129, 255, 256, 257, 383, 384, 385, 600,
        ] {
            for key in [&[][..], &[9; 1][..], &[7; 32][..], &[5; 64][..]] {
                let ours = Params::new().key(key).hash(&input[..len]);
                let theirs = reference(64, key, &[], &[&input[..len]]);
                assert_eq!(ours.as_bytes(), theirs.as_bytes(), "len {len} key {key:?}");
            }
        }
    }

    #[test]
    fn the_state_stays_usable_after_finalize() {
        let mut state = Params::new().hash_length(32).to_state();
        state.update(b"p2panda");
        let first = state.finalize();
        assert_eq!(first.as_bytes(), state.finalize().as_bytes());
        state.update(b" festival");
        let whole = Params::new().hash_length(32).hash(b"p2panda festival");
        assert_eq!(state.finalize().as_bytes(), whole.as_bytes());
    }

    #[test]
    fn the_order_of_the_settings_does_not_matter() {
        let expected = reference(20, b"key", b"person", &[b"input"]);
        let orders = [
            Params::new()
                .hash_length(20)
                .key(b"key")
                .personal(b"person")
                .hash(b"input"),
            Params::new()
                .personal(b"person")
                .key(b"key")
                .hash_length(20)
                .hash(b"input"),
            Params::new()
                .key(b"other key")
                .personal(b"p")
                .key(b"key")
                .personal(b"person")
                .hash_length(64)
                .hash_length(20)
                .hash(b"input"),
        ];
        for digest in orders {
            assert_eq!(digest.as_bytes(), expected.as_bytes());
        }
        // An empty key is no key.
        let unkeyed = Params::new().key(b"key").key(b"").hash(b"input");
        assert_eq!(unkeyed.as_bytes(), Params::new().hash(b"input").as_bytes());
    }

    #[test]
    #[should_panic(expected = "BLAKE2b digest length")]
    fn a_digest_longer_than_64_bytes_is_refused() {
        Params::new().hash_length(65);
    }

    /// Lengths around the block boundaries (127/128/129, 255/256/257) turn up often.
    fn input() -> impl Strategy<Value = Vec<u8>> {
        let len = prop_oneof![
            0usize..1000,
            prop::sample::select(vec![127usize, 128, 129, 255, 256, 257, 383, 384, 385]),
        ];
        len.prop_flat_map(|n| prop::collection::vec(any::<u8>(), n))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn equals_blake2b_simd(
            data in input(),
            length in 1usize..=64,
            key in prop::collection::vec(any::<u8>(), 0..=64),
            personal in prop::collection::vec(any::<u8>(), 0..=16),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            // One-shot, and the same input fed in parts split at random points.
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
            at.sort_unstable();
            let mut parts = Vec::new();
            let mut start = 0;
            for cut in at {
                parts.push(&data[start..cut]);
                start = cut;
            }
            parts.push(&data[start..]);
            let expected = reference(length, &key, &personal, &[&data]);

            let mut params = Params::new();
            params.hash_length(length).key(&key).personal(&personal);
            let one_shot = params.hash(&data);
            prop_assert_eq!(one_shot.as_bytes(), expected.as_bytes());
            let mut state = params.to_state();
            for part in &parts {
                state.update(part);
            }
            let in_parts = state.finalize();
            prop_assert_eq!(in_parts.as_bytes(), expected.as_bytes());
        }
    }
}
