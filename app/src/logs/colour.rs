//! Colours the viewer paints with: one per source (stable for its label, so `exec-3` looks the
//! same tomorrow), one per level, and the 16 ANSI colours. Tailwind finds these class names
//! here, in the source, so they must stay whole strings.

use crate::api::LogLevel;

/// A source's colours: its label's text, and the bar at the left of its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceColour {
    pub text: &'static str,
    pub bar: &'static str,
    pub swatch: &'static str,
}

pub const PALETTE: [SourceColour; 12] = [
    SourceColour { text: "text-sky-700", bar: "border-sky-500", swatch: "bg-sky-500" },
    SourceColour { text: "text-emerald-700", bar: "border-emerald-500", swatch: "bg-emerald-500" },
    SourceColour { text: "text-violet-700", bar: "border-violet-500", swatch: "bg-violet-500" },
    SourceColour { text: "text-rose-700", bar: "border-rose-500", swatch: "bg-rose-500" },
    SourceColour { text: "text-amber-700", bar: "border-amber-500", swatch: "bg-amber-500" },
    SourceColour { text: "text-teal-700", bar: "border-teal-500", swatch: "bg-teal-500" },
    SourceColour { text: "text-indigo-700", bar: "border-indigo-500", swatch: "bg-indigo-500" },
    SourceColour { text: "text-lime-700", bar: "border-lime-600", swatch: "bg-lime-600" },
    SourceColour { text: "text-fuchsia-700", bar: "border-fuchsia-500", swatch: "bg-fuchsia-500" },
    SourceColour { text: "text-cyan-700", bar: "border-cyan-500", swatch: "bg-cyan-500" },
    SourceColour { text: "text-orange-700", bar: "border-orange-500", swatch: "bg-orange-500" },
    SourceColour { text: "text-pink-700", bar: "border-pink-500", swatch: "bg-pink-500" },
];

/// The palette index for a source label: drivers always sky blue, the others by FNV-1a over the
/// rest of the palette, so a label has the same colour in every browser and build.
pub fn for_label(label: &str) -> usize {
    if label == "driver" {
        return 0;
    }
    let mut hash: u32 = 0x811c_9dc5;
    for b in label.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    1 + hash as usize % (PALETTE.len() - 1)
}

/// The level column's classes.
pub fn level_text(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Fatal => "font-bold text-red-800",
        LogLevel::Error => "font-semibold text-red-700",
        LogLevel::Warn => "font-semibold text-amber-700",
        LogLevel::Info => "text-sky-700",
        LogLevel::Debug | LogLevel::Trace => "text-gray-500",
        LogLevel::Unknown => "text-gray-400",
        LogLevel::Marker => "font-semibold text-violet-800",
    }
}

/// A row's background by level: errors and warnings stand out while scrolling.
pub fn level_row(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Fatal | LogLevel::Error => "bg-red-50",
        LogLevel::Warn => "bg-amber-50/60",
        LogLevel::Marker => "bg-violet-50",
        _ => "",
    }
}

/// The level filter's button when it is on.
pub fn level_chip(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Fatal | LogLevel::Error => "bg-red-100 text-red-800 ring-red-300",
        LogLevel::Warn => "bg-amber-100 text-amber-800 ring-amber-300",
        LogLevel::Info => "bg-sky-100 text-sky-800 ring-sky-300",
        LogLevel::Marker => "bg-violet-100 text-violet-800 ring-violet-300",
        _ => "bg-gray-100 text-gray-700 ring-gray-300",
    }
}

/// ANSI foreground colours 0-7 (30-37) and their bright forms 8-15 (90-97), readable on white.
pub const ANSI: [&str; 16] = [
    "text-gray-900",
    "text-red-700",
    "text-green-700",
    "text-yellow-700",
    "text-blue-700",
    "text-fuchsia-700",
    "text-cyan-700",
    "text-gray-500",
    "text-gray-600",
    "text-red-500",
    "text-green-600",
    "text-yellow-600",
    "text-blue-500",
    "text-fuchsia-500",
    "text-cyan-600",
    "text-gray-400",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_always_gets_the_same_colour() {
        assert_eq!(for_label("exec-3"), for_label("exec-3"));
        // Pinned: a change would repaint every user's logs.
        assert_eq!(for_label(""), 1 + 0x811c_9dc5_usize % 11);
        assert_eq!(for_label("driver"), 0);
        assert!((1..100).all(|i| for_label(&format!("exec-{i}")) != 0));
        let spread: std::collections::HashSet<usize> = (1..40).map(|i| for_label(&format!("exec-{i}"))).collect();
        assert!(spread.len() >= 8, "{spread:?}");
    }
}
