//! Costs of publishing and verifying Bamboo entries, against the bare ed25519 check inside them.
//!
//! `cargo bench -p p2panda-core --bench log` prints the figures; `cargo test --benches` runs each
//! benchmark once. The target: full `Entry::verify` within 1.2× of the bare `verify_strict`.
//!
//! The `breakdown` group splits `Entry::decode` into its parts, and `decode_single_pass` times a
//! prototype decoder (parse the canonical layout directly, decompress the author key once) to size
//! the saving of replacing bamboo-rs-core's decode + re-encode.

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use p2panda_core::hash::Hash;
use p2panda_core::identity::{KeyPair, PublicKey};
use p2panda_core::log::{lipmaa_seq, Entry, MAX_ENTRY_SIZE};

/// The position of the measured entry: lipmaa(1000) = 996, so it carries both links (the largest
/// entry layout, 298 bytes).
const SEQ: u64 = 1000;
const PAYLOAD_LEN: usize = 200;
const LOG_ID: u64 = 3;

struct Setup {
    key_pair: KeyPair,
    /// `log[i]` has seq i + 1; the last one is entry `SEQ`.
    log: Vec<Entry>,
    payload: Vec<u8>,
}

impl Setup {
    fn new() -> Self {
        let key_pair = KeyPair::from_secret_hex(
            "ce6c89f6153619ee4964eb46059f85a3c855a6f9375b5de798eee0b3e85687ad",
        )
        .unwrap();
        let mut log: Vec<Entry> = Vec::with_capacity(SEQ as usize);
        for seq in 1..SEQ {
            let payload = seq.to_be_bytes();
            let entry = Entry::publish(
                &key_pair,
                LOG_ID,
                &payload,
                log.last(),
                Self::at(&log, lipmaa_seq(seq)),
            )
            .unwrap();
            log.push(entry);
        }
        let payload: Vec<u8> = (0..PAYLOAD_LEN).map(|i| (i * 7) as u8).collect();
        let entry = Entry::publish(
            &key_pair,
            LOG_ID,
            &payload,
            log.last(),
            Self::at(&log, lipmaa_seq(SEQ)),
        )
        .unwrap();
        assert!(entry.needs_lipmaa_entry());
        log.push(entry);
        Setup {
            key_pair,
            log,
            payload,
        }
    }

    fn at(log: &[Entry], seq: u64) -> Option<&Entry> {
        (seq as usize).checked_sub(1).map(|i| &log[i])
    }

    fn entry(&self) -> &Entry {
        &self.log[SEQ as usize - 1]
    }
    fn backlink(&self) -> &Entry {
        &self.log[SEQ as usize - 2]
    }
    fn lipmaa(&self) -> &Entry {
        Self::at(&self.log, lipmaa_seq(SEQ)).unwrap()
    }
}

fn bench_log(c: &mut Criterion) {
    let setup = Setup::new();
    let entry = setup.entry();
    let bytes = entry.bytes().to_vec();
    let (signed, signature) = bytes.split_at(bytes.len() - 64);
    let author = entry.author();
    let payload = &setup.payload[..];

    c.bench_function("log/publish (seq 1000, 200-byte payload)", |b| {
        b.iter(|| {
            Entry::publish(
                &setup.key_pair,
                LOG_ID,
                black_box(payload),
                Some(setup.backlink()),
                Some(setup.lipmaa()),
            )
            .unwrap()
        })
    });
    c.bench_function("log/verify (decoded entries)", |b| {
        b.iter(|| {
            black_box(entry)
                .verify(Some(payload), Some(setup.backlink()), Some(setup.lipmaa()))
                .unwrap()
        })
    });
    c.bench_function("log/decode + verify (from bytes)", |b| {
        b.iter(|| {
            Entry::decode(black_box(&bytes))
                .unwrap()
                .verify(Some(payload), Some(setup.backlink()), Some(setup.lipmaa()))
                .unwrap()
        })
    });
    c.bench_function("log/bare ed25519 verify_strict", |b| {
        b.iter(|| {
            black_box(&author)
                .verify(black_box(signed), black_box(signature))
                .unwrap()
        })
    });
}

fn bench_breakdown(c: &mut Criterion) {
    let setup = Setup::new();
    let entry = setup.entry();
    let bytes = entry.bytes().to_vec();
    let author_bytes: [u8; 32] = bytes[1..33].try_into().unwrap();

    c.bench_function("breakdown/Entry::decode", |b| {
        b.iter(|| Entry::decode(black_box(&bytes)).unwrap())
    });
    c.bench_function("breakdown/bamboo-rs-core decode (dalek 1 key)", |b| {
        b.iter(|| bamboo_rs_core::decode(black_box(&bytes)).unwrap().seq_num)
    });
    c.bench_function("breakdown/bamboo-rs-core re-encode", |b| {
        let decoded = bamboo_rs_core::decode(&bytes).unwrap();
        b.iter(|| {
            let mut out = [0u8; MAX_ENTRY_SIZE];
            black_box(&decoded).encode(&mut out).unwrap()
        })
    });
    c.bench_function("breakdown/dalek 1 key decompression", |b| {
        b.iter(|| bamboo_rs_core::PublicKey::from_bytes(black_box(&author_bytes)).unwrap())
    });
    c.bench_function("breakdown/dalek 2 key decompression", |b| {
        b.iter(|| PublicKey::from_bytes(black_box(&author_bytes)).unwrap())
    });
    c.bench_function("breakdown/BLAKE2b of the entry (298 bytes)", |b| {
        b.iter(|| Hash::digest(black_box(&bytes)))
    });
    c.bench_function("breakdown/verify_payload (200 bytes)", |b| {
        b.iter(|| entry.verify_payload(black_box(&setup.payload)).unwrap())
    });
    c.bench_function("breakdown/decode_single_pass (prototype)", |b| {
        b.iter(|| single_pass::decode(black_box(&bytes)).unwrap())
    });
    c.bench_function("breakdown/decode_single_pass + verify (prototype)", |b| {
        b.iter(|| {
            let decoded = single_pass::decode(black_box(&bytes)).unwrap();
            // What `Entry::verify` does after decoding: payload, links, signature.
            assert_eq!(decoded.payload_hash, Hash::digest(&setup.payload));
            assert_eq!(decoded.backlink, Some(setup.backlink().hash()));
            assert_eq!(decoded.lipmaa_link, Some(setup.lipmaa().hash()));
            let (signed, signature) = bytes.split_at(bytes.len() - 64);
            decoded.author.verify(signed, signature).unwrap()
        })
    });

    // The prototype must agree with `Entry::decode` on the entry it is timed on, and refuse the
    // same single-bit flips and truncations of it.
    for bit in 0..bytes.len() * 8 {
        let mut flipped = bytes.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            single_pass::decode(&flipped).is_some(),
            Entry::decode(&flipped).is_ok(),
            "bit {bit}"
        );
    }
    for len in 0..bytes.len() {
        assert!(single_pass::decode(&bytes[..len]).is_none());
    }
    let decoded = single_pass::decode(&bytes).unwrap();
    assert_eq!(decoded.author, entry.author());
    assert_eq!(decoded.log_id, entry.log_id());
    assert_eq!(decoded.is_end_of_feed, entry.is_end_of_feed());
    assert_eq!(decoded.seq_num, entry.seq_num());
    assert_eq!(decoded.backlink, entry.backlink());
    assert_eq!(decoded.lipmaa_link, entry.lipmaa_link());
    assert_eq!(decoded.payload_hash, entry.payload_hash());
    assert_eq!(decoded.payload_size, entry.payload_size());
    assert_eq!(decoded.hash, entry.hash());
}

/// A prototype of a one-pass canonical decoder: reads the Bamboo layout (tag, author, log id, seq,
/// lipmaa link when required, backlink, payload size, payload hash, signature), refuses anything
/// but the canonical encoding while reading (tag 0 or 1, YAMF BLAKE2b type 0 and length 64,
/// minimal varu64s, no trailing bytes), and decompresses the author key once, with dalek 2. Not a
/// drop-in (no error detail), only to time the approach.
mod single_pass {
    use super::*;

    pub struct Decoded {
        pub author: PublicKey,
        pub log_id: u64,
        pub seq_num: u64,
        pub backlink: Option<Hash>,
        pub lipmaa_link: Option<Hash>,
        pub payload_hash: Hash,
        pub payload_size: u64,
        pub is_end_of_feed: bool,
        pub hash: Hash,
    }

    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if bytes.len() < n {
            return None;
        }
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        Some(head)
    }

    /// varu64, minimal encodings only.
    fn varu64(bytes: &mut &[u8]) -> Option<u64> {
        let first = take(bytes, 1)?[0];
        if first < 248 {
            return Some(first as u64);
        }
        let len = (first - 247) as usize;
        let rest = take(bytes, len)?;
        if rest[0] == 0 {
            return None;
        }
        let value = rest.iter().fold(0u64, |v, &b| (v << 8) | b as u64);
        (value >= 248).then_some(value)
    }

    fn yamf(bytes: &mut &[u8]) -> Option<Hash> {
        if take(bytes, 2)? != [0, 64] {
            return None;
        }
        Hash::from_bytes(take(bytes, 64)?).ok()
    }

    pub fn decode(input: &[u8]) -> Option<Decoded> {
        decode_known(input, None)
    }

    /// As [`decode`], taking the author key already decompressed when its bytes are `known`'s
    /// (as a store can: it holds the key of every log it has).
    pub fn decode_known(input: &[u8], known: Option<&PublicKey>) -> Option<Decoded> {
        let mut bytes = input;
        let is_end_of_feed = match take(&mut bytes, 1)?[0] {
            0 => false,
            1 => true,
            _ => return None,
        };
        let author_bytes = take(&mut bytes, 32)?;
        let author = match known {
            Some(known) if known.as_bytes()[..] == *author_bytes => *known,
            _ => PublicKey::from_bytes(author_bytes).ok()?,
        };
        let log_id = varu64(&mut bytes)?;
        let seq_num = varu64(&mut bytes)?;
        if seq_num == 0 {
            return None;
        }
        let (lipmaa_link, backlink) = if seq_num == 1 {
            (None, None)
        } else if lipmaa_seq(seq_num) != seq_num - 1 {
            (Some(yamf(&mut bytes)?), Some(yamf(&mut bytes)?))
        } else {
            (None, Some(yamf(&mut bytes)?))
        };
        let payload_size = varu64(&mut bytes)?;
        let payload_hash = yamf(&mut bytes)?;
        take(&mut bytes, 64)?;
        if !bytes.is_empty() {
            return None;
        }
        Some(Decoded {
            author,
            log_id,
            seq_num,
            backlink,
            lipmaa_link,
            payload_hash,
            payload_size,
            is_end_of_feed,
            hash: Hash::digest(input),
        })
    }
}

/// Ratios to the bare `verify_strict`, measured interleaved: each round times a batch of each
/// candidate back to back, and the median of the per-round ratios is reported. Other load on the
/// machine then slows numerator and denominator alike, which separate criterion runs cannot
/// promise. Only when benchmarking (not under `cargo test --benches`).
fn paired_ratios() {
    const ROUNDS: usize = 300;
    const BATCH: u32 = 40;
    let setup = Setup::new();
    let entry = setup.entry();
    let bytes = entry.bytes().to_vec();
    let (signed, signature) = bytes.split_at(bytes.len() - 64);
    let author = entry.author();
    let payload = &setup.payload[..];
    let links = (Some(setup.backlink()), Some(setup.lipmaa()));

    let time = |f: &dyn Fn()| {
        let start = std::time::Instant::now();
        for _ in 0..BATCH {
            f();
        }
        start.elapsed().as_secs_f64() / BATCH as f64
    };
    let bare = || {
        author
            .verify(black_box(signed), black_box(signature))
            .unwrap()
    };
    let candidates: [(&str, &dyn Fn()); 4] = [
        ("Entry::verify (decoded entries)", &|| {
            black_box(entry)
                .verify(Some(payload), links.0, links.1)
                .unwrap()
        }),
        ("Entry::decode + Entry::verify", &|| {
            Entry::decode(black_box(&bytes))
                .unwrap()
                .verify(Some(payload), links.0, links.1)
                .unwrap()
        }),
        ("single-pass decode + verify (prototype)", &|| {
            let decoded = single_pass::decode(black_box(&bytes)).unwrap();
            assert_eq!(decoded.payload_hash, Hash::digest(payload));
            assert_eq!(decoded.backlink, Some(links.0.unwrap().hash()));
            assert_eq!(decoded.lipmaa_link, Some(links.1.unwrap().hash()));
            decoded.author.verify(signed, signature).unwrap()
        }),
        ("same, author key known (no decompression)", &|| {
            let decoded = single_pass::decode_known(black_box(&bytes), Some(&author)).unwrap();
            assert_eq!(decoded.payload_hash, Hash::digest(payload));
            assert_eq!(decoded.backlink, Some(links.0.unwrap().hash()));
            assert_eq!(decoded.lipmaa_link, Some(links.1.unwrap().hash()));
            decoded.author.verify(signed, signature).unwrap()
        }),
    ];
    let mut ratios = vec![Vec::with_capacity(ROUNDS); candidates.len()];
    let mut fastest = vec![f64::INFINITY; candidates.len()];
    let mut bare_times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let base = time(&bare);
        bare_times.push(base);
        for (i, (_, f)) in candidates.iter().enumerate() {
            let t = time(*f);
            ratios[i].push(t / base);
            fastest[i] = fastest[i].min(t);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let bare_fastest = bare_times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "\nRatios to bare verify_strict, {ROUNDS} interleaved rounds of {BATCH} (bare: median \
         {:.2} µs, fastest batch {:.2} µs); median of per-round ratios | ratio of fastest batches:",
        median(&mut bare_times) * 1e6,
        bare_fastest * 1e6,
    );
    for (((name, _), ratios), fastest) in candidates.iter().zip(&mut ratios).zip(&fastest) {
        println!(
            "  {name:<42} {:.3}× | {:.3}×  ({:.2} µs)  (target ≤ 1.2×)",
            median(ratios),
            fastest / bare_fastest,
            fastest * 1e6
        );
    }
}

criterion_group!(benches, bench_log, bench_breakdown);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    // Skipped when criterion is given a filter that leaves the paired measurement out.
    const TAKE_VALUES: [&str; 15] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--profile-time",
        "--output-format",
        "--format",
        "--color",
    ];
    let mut filter = None;
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        if TAKE_VALUES.contains(&arg.as_str()) || arg == "-s" || arg == "-b" || arg == "-c" {
            rest.next();
        } else if !arg.starts_with('-') {
            filter = Some(arg.as_str());
        }
    }
    let filtered_out = filter.is_some_and(|f| !"log/paired ratios".contains(f));
    if benchmarking && !filtered_out {
        paired_ratios();
    }
}
