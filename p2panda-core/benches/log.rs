//! Costs of publishing and verifying Bamboo entries, against the bare ed25519 check inside them.
//!
//! `cargo bench -p p2panda-core --bench log` prints the figures; `cargo test --benches` runs each
//! benchmark once. The target: full `Entry::verify` within 1.2× of the bare `verify_strict`.
//!
//! The `breakdown` group splits decoding into its parts: `Entry::decode` reads the canonical layout
//! in one pass and decompresses the author key once; with a [`KeyCache`] that knows the author (as
//! a store does) it decompresses nothing. bamboo-rs-core's decode and re-encode, which the log
//! used before (decompressing the key twice), are timed beside it.

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use p2panda_core::hash::Hash;
use p2panda_core::identity::{KeyCache, KeyPair, PublicKey};
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
    let mut keys = KeyCache::new();
    keys.insert(entry.author());
    c.bench_function("breakdown/Entry::decode_with_keys (author cached)", |b| {
        b.iter(|| Entry::decode_with_keys(black_box(&bytes), &keys).unwrap())
    });
    c.bench_function("breakdown/decode_with_keys + verify_with_keys", |b| {
        b.iter(|| {
            Entry::decode_with_keys(black_box(&bytes), &keys)
                .unwrap()
                .verify_with_keys(
                    Some(&setup.payload),
                    Some(setup.backlink()),
                    Some(setup.lipmaa()),
                    &keys,
                )
                .unwrap()
        })
    });
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
    let mut keys = KeyCache::new();
    keys.insert(author);
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
        ("the same, author key cached (as a store does)", &|| {
            Entry::decode_with_keys(black_box(&bytes), &keys)
                .unwrap()
                .verify_with_keys(Some(payload), links.0, links.1, &keys)
                .unwrap()
        }),
        ("Entry::verify_with_keys (decoded, key cached)", &|| {
            black_box(entry)
                .verify_with_keys(Some(payload), links.0, links.1, &keys)
                .unwrap()
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
