//! The simulated cluster's clock: wall time scaled by a speed that can change while it runs
//! (`PUT /sim/speed`), so tests can fast-forward the workload and then freeze it.

use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// `start` plus `seconds` (negative goes back), saturating at the ends of time.
pub fn after(start: Timestamp, seconds: f64) -> Timestamp {
    start.saturating_add(SignedDuration::from_secs_f64(seconds)).unwrap_or(start)
}

/// A shared clock: clones tell the same time.
#[derive(Clone, Debug)]
pub struct SimClock(Arc<Mutex<Origin>>);

#[derive(Debug)]
struct Origin {
    wall: Instant,
    sim: Timestamp,
    speed: f64,
}

impl Origin {
    fn now(&self) -> Timestamp {
        after(self.sim, self.wall.elapsed().as_secs_f64() * self.speed)
    }
}

impl SimClock {
    /// Starts now, running `speed` simulated seconds per real second.
    pub fn new(speed: f64) -> SimClock {
        SimClock(Arc::new(Mutex::new(Origin { wall: Instant::now(), sim: Timestamp::now(), speed: speed.max(0.0) })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Origin> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> Timestamp {
        self.lock().now()
    }

    pub fn speed(&self) -> f64 {
        self.lock().speed
    }

    /// From now on, run at `speed` (0 freezes the cluster); time so far is kept.
    pub fn set_speed(&self, speed: f64) {
        let mut origin = self.lock();
        origin.sim = origin.now();
        origin.wall = Instant::now();
        origin.speed = speed.max(0.0);
    }

    /// Moves the clock `seconds` forward at once.
    pub fn jump(&self, seconds: f64) {
        let mut origin = self.lock();
        origin.sim = after(origin.now(), seconds);
        origin.wall = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_stands_still_and_jumps() {
        let clock = SimClock::new(1.0);
        clock.set_speed(0.0);
        let t = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(clock.now(), t);
        clock.jump(60.0);
        assert_eq!(clock.now(), after(t, 60.0));
        let shared = clock.clone();
        shared.set_speed(100.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > after(t, 61.0));
    }
}
