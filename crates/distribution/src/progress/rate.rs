//! When a byte count is worth reporting: Docker's progress-reader rule.

use std::time::{Duration, Instant};

/// Decides which byte counts of a stream are reported.
///
/// An update is due when more than min(512 KiB, 1% of the total) bytes arrived since the last
/// one (512 KiB when the total is unknown) **and** at least 100 ms passed since it. The final
/// count (`current >= total`) is always due, once. The caller passes the time, so the rule can
/// be tested without sleeping.
///
/// ```
/// use std::time::{Duration, Instant};
/// use imgsvc_distribution::progress::RateLimiter;
///
/// let start = Instant::now();
/// let mut limiter = RateLimiter::new(Some(10_000));
/// assert!(!limiter.update(100, start)); // 1% of 10 000 is 100: not exceeded yet
/// assert!(limiter.update(101, start)); // the first update is not delayed
/// assert!(!limiter.update(500, start + Duration::from_millis(50))); // too soon
/// assert!(limiter.update(500, start + Duration::from_millis(100)));
/// assert!(limiter.update(10_000, start + Duration::from_millis(101))); // final, always
/// assert!(!limiter.update(10_000, start + Duration::from_secs(1))); // but once
/// ```
#[derive(Debug, Clone)]
pub struct RateLimiter {
    total: Option<u64>,
    step: u64,
    last: Option<(u64, Instant)>,
    finished: bool,
}

/// The most bytes between two updates, whatever the total.
pub const MAX_STEP: u64 = 512 << 10;

/// The least time between two updates, except the final one.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Construction
impl RateLimiter {
    /// A limiter for a stream of `total` bytes (`None` when unknown).
    pub fn new(total: Option<u64>) -> RateLimiter {
        let step = total.map_or(MAX_STEP, |total| MAX_STEP.min(total / 100));
        RateLimiter {
            total,
            step,
            last: None,
            finished: false,
        }
    }
}

/// Access
impl RateLimiter {
    /// The stream's size, when known.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The bytes that must be exceeded between two updates: min(512 KiB, 1% of the total).
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The byte count of the last update, if there was one.
    pub fn last_reported(&self) -> Option<u64> {
        self.last.map(|(bytes, _)| bytes)
    }

    /// Whether the final count was reported.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// Deciding
impl RateLimiter {
    /// Whether `current` bytes, seen at `now`, should be reported. A `true` answer counts as
    /// reported.
    pub fn update(&mut self, current: u64, now: Instant) -> bool {
        if self.finished {
            return false;
        }
        if self.total.is_some_and(|total| current >= total) {
            self.record(current, now);
            return true;
        }
        let due = match self.last {
            None => current > self.step,
            Some((bytes, at)) => {
                current.saturating_sub(bytes) > self.step
                    && now.saturating_duration_since(at) >= MIN_INTERVAL
            }
        };
        if due {
            self.record(current, now);
        }
        due
    }

    /// Notes that `current` was reported at `now` regardless of the rule (at the end of the
    /// stream, after an error, on close).
    pub fn record(&mut self, current: u64, now: Instant) {
        self.last = Some((current, now));
        if self.total.is_some_and(|total| current >= total) {
            self.finished = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{MAX_STEP, RateLimiter};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn small_totals_step_by_one_percent() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(Some(1_000_000));
        assert_eq!(limiter.step(), 10_000);
        assert!(!limiter.update(10_000, t0));
        assert!(limiter.update(10_001, t0));
        assert!(
            !limiter.update(20_001, t0 + ms(100)),
            "exactly one step is not more than it"
        );
        assert!(limiter.update(20_002, t0 + ms(100)));
    }

    #[test]
    fn large_totals_step_by_512_kib() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(Some(1 << 30));
        assert_eq!(limiter.step(), MAX_STEP);
        assert!(!limiter.update(MAX_STEP, t0));
        assert!(limiter.update(MAX_STEP + 1, t0));
        assert!(!limiter.update(2 * MAX_STEP + 1, t0 + ms(500)));
        assert!(limiter.update(2 * MAX_STEP + 2, t0 + ms(500)));
    }

    #[test]
    fn unknown_totals_step_by_512_kib_and_never_finish() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(None);
        assert_eq!(limiter.step(), MAX_STEP);
        assert!(limiter.update(MAX_STEP + 1, t0));
        assert!(!limiter.is_finished());
    }

    #[test]
    fn updates_are_at_least_100_ms_apart() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(Some(10_000));
        assert!(limiter.update(200, t0));
        assert!(!limiter.update(5_000, t0 + ms(99)));
        assert!(limiter.update(5_000, t0 + ms(100)));
        assert_eq!(limiter.last_reported(), Some(5_000));
        assert!(!limiter.update(9_000, t0 + ms(150)));
        assert!(limiter.update(9_000, t0 + ms(200)));
    }

    #[test]
    fn the_final_update_ignores_both_limits_but_comes_once() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(Some(10_000));
        assert!(limiter.update(9_990, t0));
        assert!(limiter.update(10_000, t0), "10 bytes and 0 ms later");
        assert!(limiter.is_finished());
        assert!(!limiter.update(10_000, t0 + ms(1_000)));
    }

    #[test]
    fn tiny_and_empty_totals_report_every_byte_and_the_end() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(Some(50));
        assert_eq!(limiter.step(), 0);
        assert!(limiter.update(1, t0));
        assert!(limiter.update(50, t0));
        let mut empty = RateLimiter::new(Some(0));
        assert!(empty.update(0, t0));
    }

    #[test]
    fn a_recorded_report_moves_the_baseline() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(Some(10_000));
        limiter.record(5_000, t0);
        assert!(!limiter.update(5_100, t0 + ms(200)));
        assert!(limiter.update(5_101, t0 + ms(200)));
        limiter.record(10_000, t0 + ms(300));
        assert!(limiter.is_finished());
    }
}
