//! Restoring a node's replica from its store when it opens, and where the time of an open goes.
//!
//! Entries are restored batch by batch as the store reads them (`Store::restore_into`):
//! IndexedDB reads the next batch while wasm restores the current one, and no list of all
//! entries is ever built. The split of an open is recorded as a User Timing measure named
//! [`MEASURE`] in the worker (its `detail` holds the phases in ms), for benchmarks and DevTools.

use js_sys::{Function, Object, Reflect};
use p2panda_core::replica::Replica;
use wasm_bindgen::{JsCast, JsValue};

use super::NodeError;
use crate::store::{Clock, Store};

/// Name of the User Timing measure of an open.
pub(crate) const MEASURE: &str = "p2panda:open";

/// Times the phases of one open.
pub(super) struct OpenTimer {
    clock: Clock,
    started: f64,
    last: f64,
    phases: Vec<(&'static str, f64)>,
}

impl OpenTimer {
    pub(super) fn start() -> OpenTimer {
        let clock = Clock::new();
        let started = clock.now();
        OpenTimer {
            clock,
            started,
            last: started,
            phases: Vec::new(),
        }
    }

    /// Record the time since the previous lap as `phase`.
    pub(super) fn lap(&mut self, phase: &'static str) {
        let now = self.clock.now();
        self.phases.push((phase, now - self.last));
        self.last = now;
    }

    /// Record a figure that is not a lap (a part of one, a count).
    fn note(&mut self, name: &'static str, value: f64) {
        self.phases.push((name, value));
    }

    /// Record the whole open as the measure [`MEASURE`] (nothing happens where User Timing is
    /// missing: timing must never fail an open).
    pub(super) fn finish(mut self) {
        let end = self.clock.now();
        self.note("total", end - self.started);
        let detail = Object::new();
        for (name, value) in &self.phases {
            let _ = Reflect::set(&detail, &(*name).into(), &(*value).into());
        }
        let options = Object::new();
        let _ = Reflect::set(&options, &"start".into(), &self.started.into());
        let _ = Reflect::set(&options, &"end".into(), &end.into());
        let _ = Reflect::set(&options, &"detail".into(), &detail);
        let performance = Reflect::get(&js_sys::global(), &"performance".into());
        let measure = performance
            .as_ref()
            .ok()
            .and_then(|p| Reflect::get(p, &"measure".into()).ok())
            .and_then(|m| m.dyn_into::<Function>().ok());
        if let (Ok(performance), Some(measure)) = (performance, measure) {
            let _ = measure.call2(&performance, &JsValue::from_str(MEASURE), &options);
        }
    }
}

/// Restore every stored entry into `replica` (see [`Store::restore_into`]) and note the
/// split: `read` (time spent waiting for IndexedDB that restoring did not hide), `copy` (values
/// into wasm memory), `restore` (`Replica::restore`: decoding, checks, store and views) and
/// `index` (the views' indexes, brought up to date once at the end).
pub(super) async fn entries(
    store: &Store,
    replica: &mut Replica,
    timer: &mut OpenTimer,
) -> Result<(), NodeError> {
    let timings = store.restore_into(replica).await?;
    timer.lap("entries");
    timer.note("read", timings.read.wait_ms);
    timer.note("copy", timings.read.copy_ms);
    timer.note("restore", timings.restore_ms);
    timer.note("index", timings.index_ms);
    timer.note("batches", timings.read.batches.into());
    timer.note("count", timings.read.entries as f64);
    timer.note("bytes", timings.read.bytes as f64);
    Ok(())
}
