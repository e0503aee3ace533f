//! Deterministic simulation: 8 peers write while the network delays and reorders frames, drops
//! connections, partitions and heals, and peers crash and restart. After healing, all must agree.
//!
//! `SEEDS=5000 cargo test -p p2panda-tests --release --test simulation` runs more seeds;
//! `SEED=1234 SIM_TRACE=1 cargo test -p p2panda-tests --test simulation -- --nocapture` replays one
//! with a trace of every step.

use p2panda_tests::sim::{run, SimConfig};

fn env(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")),
    )
}

#[test]
fn peers_converge_whatever_the_network_does() {
    let config = SimConfig {
        trace: std::env::var_os("SIM_TRACE").is_some(),
        ..SimConfig::default()
    };
    let seeds: Vec<u64> = match env("SEED") {
        Some(seed) => vec![seed],
        None => (0..env("SEEDS").unwrap_or(300)).collect(),
    };
    let started = std::time::Instant::now();
    // Seeds are independent: spread them over the cores.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (seeds, config) = (&seeds, &config);
                scope.spawn(move || {
                    seeds
                        .iter()
                        .skip(t)
                        .step_by(threads)
                        .map(|seed| (*seed, run(*seed, config)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("no panic"))
            .collect()
    });

    let failures: Vec<_> = results
        .iter()
        .filter_map(|(seed, r)| r.as_ref().err().map(|e| (seed, e)))
        .collect();
    for (seed, error) in &failures {
        eprintln!(
            "seed {seed} FAILED: {error}\n  replay: SEED={seed} SIM_TRACE=1 cargo test -p p2panda-tests \
             --test simulation -- --nocapture"
        );
    }
    let reports: Vec<_> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .collect();
    let (slowest, slowest_seed) = results
        .iter()
        .filter_map(|(seed, r)| Some((r.as_ref().ok()?.converged_after, *seed)))
        .max()
        .unwrap_or_default();
    let sum = |f: fn(&p2panda_tests::sim::Report) -> u64| reports.iter().map(|r| f(r)).sum::<u64>();
    eprintln!(
        "{} seeds × {} peers in {:.1} s: {} entries, {} frames ({} lost in dropped connections), \
         {} connections ({} dropped), {} partitions, {} crashes, {} timeouts; \
         slowest convergence {} ms after healing (seed {})",
        seeds.len(),
        config.peers,
        started.elapsed().as_secs_f64(),
        sum(|r| r.entries as u64),
        sum(|r| r.frames),
        sum(|r| r.frames_lost),
        sum(|r| r.connections),
        sum(|r| r.dropped_connections),
        sum(|r| r.partitions),
        sum(|r| r.crashes),
        sum(|r| r.timeouts),
        slowest,
        slowest_seed,
    );
    assert!(
        failures.is_empty(),
        "{} of {} seeds failed",
        failures.len(),
        seeds.len()
    );
}
