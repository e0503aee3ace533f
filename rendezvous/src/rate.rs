//! A token bucket: how long a connection must wait before its next message is read.

use tokio::time::{Duration, Instant};

/// Up to `burst` messages at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

pub(crate) struct Bucket {
    limit: Option<RateLimit>,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    pub(crate) fn new(limit: Option<RateLimit>, now: Instant) -> Self {
        Bucket {
            limit,
            tokens: limit.map_or(0.0, |l| f64::from(l.burst)),
            updated: now,
        }
    }

    /// How long until one token is available (zero: now).
    pub(crate) fn wait(&mut self, now: Instant) -> Duration {
        let Some(limit) = self.limit else {
            return Duration::ZERO;
        };
        let rate = f64::from(limit.per_second.max(1));
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(limit.burst.max(1)));
        self.updated = now;
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / rate)
        }
    }

    /// Use one token (call after `wait` returned zero).
    pub(crate) fn take(&mut self) {
        if self.limit.is_some() {
            self.tokens = (self.tokens - 1.0).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let start = Instant::now();
        let limit = RateLimit {
            per_second: 10,
            burst: 3,
        };
        let mut bucket = Bucket::new(Some(limit), start);
        for _ in 0..3 {
            assert_eq!(bucket.wait(start), Duration::ZERO);
            bucket.take();
        }
        let wait = bucket.wait(start);
        assert!(wait > Duration::from_millis(99) && wait <= Duration::from_millis(100));
        assert_eq!(bucket.wait(start + wait), Duration::ZERO);
        // Refill is capped at the burst.
        let later = start + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.wait(later), Duration::ZERO);
            bucket.take();
        }
        assert!(bucket.wait(later) > Duration::ZERO);
    }

    #[test]
    fn no_limit_never_waits() {
        let now = Instant::now();
        let mut bucket = Bucket::new(None, now);
        for _ in 0..1000 {
            bucket.take();
            assert_eq!(bucket.wait(now), Duration::ZERO);
        }
    }
}
