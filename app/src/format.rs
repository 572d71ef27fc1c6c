//! How values read on screen. Pure functions, so the server's render and the browser's hydration
//! produce the same text.

use crate::api::{JobState, MetricUnit};
use jiff::Timestamp;

/// A timestamp as `2026-11-21 05:52:03` (UTC): stable between server and browser, sortable by eye.
pub fn timestamp(t: Option<Timestamp>) -> String {
    match t {
        Some(t) => t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        None => "—".to_string(),
    }
}

/// A duration in seconds as `1h 02m`, `3m 05s` or `42s`.
pub fn duration(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds.filter(|s| s.is_finite() && *s >= 0.0) else {
        return "—".to_string();
    };
    let s = seconds.round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m {sec:02}s"),
        (h, min, _) => format!("{h}h {min:02}m"),
    }
}

/// Tailwind classes of a state badge: colour says how the job is doing at a glance.
pub fn state_badge_class(state: JobState) -> &'static str {
    match state {
        JobState::Running | JobState::Succeeding => "bg-blue-100 text-blue-800 ring-blue-300",
        JobState::Completed => "bg-green-100 text-green-800 ring-green-300",
        JobState::Failed | JobState::SubmissionFailed | JobState::Failing => "bg-red-100 text-red-800 ring-red-300",
        JobState::Submitted | JobState::New | JobState::PendingRerun | JobState::Resuming => "bg-amber-100 text-amber-800 ring-amber-300",
        _ => "bg-gray-100 text-gray-700 ring-gray-300",
    }
}

/// A measured value in its unit: bytes in binary units as Kubernetes writes limits (`1.5 GiB`),
/// cores (`0.25 cores`), a ratio as a percentage.
pub fn quantity(value: f64, unit: MetricUnit) -> String {
    if !value.is_finite() {
        return "—".to_string();
    }
    match unit {
        MetricUnit::Bytes => {
            const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
            let mut v = value;
            let mut i = 0;
            while v.abs() >= 1024.0 && i < UNITS.len() - 1 {
                v /= 1024.0;
                i += 1;
            }
            match i {
                0 => format!("{v:.0} B"),
                _ if v.abs() >= 100.0 => format!("{v:.0} {}", UNITS[i]),
                _ => format!("{v:.1} {}", UNITS[i]),
            }
        }
        MetricUnit::Cores if value.abs() < 10.0 => format!("{value:.2} cores"),
        MetricUnit::Cores => format!("{value:.1} cores"),
        MetricUnit::Ratio => format!("{:.0} %", value * 100.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_in_their_units() {
        assert_eq!(quantity(512.0, MetricUnit::Bytes), "512 B");
        assert_eq!(quantity(1.5 * 1024.0 * 1024.0 * 1024.0, MetricUnit::Bytes), "1.5 GiB");
        assert_eq!(quantity(300.0 * 1024.0 * 1024.0, MetricUnit::Bytes), "300 MiB");
        assert_eq!(quantity(0.25, MetricUnit::Cores), "0.25 cores");
        assert_eq!(quantity(0.873, MetricUnit::Ratio), "87 %");
        assert_eq!(quantity(f64::NAN, MetricUnit::Cores), "—");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Some(42.4)), "42s");
        assert_eq!(duration(Some(185.0)), "3m 05s");
        assert_eq!(duration(Some(3720.0)), "1h 02m");
        assert_eq!(duration(None), "—");
        assert_eq!(duration(Some(f64::NAN)), "—");
        assert_eq!(duration(Some(-3.0)), "—");
    }

    #[test]
    fn timestamps_are_utc_to_the_second() {
        let t: Timestamp = "2026-11-21T05:52:03.123Z".parse().unwrap();
        assert_eq!(timestamp(Some(t)), "2026-11-21 05:52:03");
    }
}
