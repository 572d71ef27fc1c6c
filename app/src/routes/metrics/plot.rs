//! One chart drawn with leptos-chartistry: SVG that fills the panel's width, values with their
//! units on the axis and in the hover tooltip, the legend underneath. Lines keep a fixed
//! meaning by colour: the driver blue, executors from one palette, the folded executors grey,
//! requests amber, limits red, OOM kills red crosses.

use crate::api::{Aggregate, MetricUnit};
use crate::format;
use crate::metrics::chart::{ChartData, ChartKind, LineKind, Row};
use chrono::{DateTime, Utc};
use jiff::Timestamp;
use leptos::prelude::*;
use leptos_chartistry::{
    AspectRatio, AxisMarker, Chart, Colour, IntoEdge, IntoInner, Legend, Line, Marker, MarkerShape, Series, Step, TickLabels, Tooltip,
    TooltipPlacement, XGridLine, XGuideLine, YGridLine,
};

/// Executors' colours, in turn (Tailwind's 600s, minus the blue, amber and red that mean
/// driver, request and limit).
const EXECUTOR_COLOURS: [Colour; 8] = [
    Colour::from_rgb(0x05, 0x96, 0x69),
    Colour::from_rgb(0x79, 0x3b, 0xed),
    Colour::from_rgb(0xdb, 0x27, 0x77),
    Colour::from_rgb(0x08, 0x91, 0xb2),
    Colour::from_rgb(0x65, 0xa3, 0x0d),
    Colour::from_rgb(0xc0, 0x26, 0xd3),
    Colour::from_rgb(0x0d, 0x94, 0x88),
    Colour::from_rgb(0x4f, 0x46, 0xe5),
];

fn colour(kind: LineKind, executor: usize) -> Colour {
    match kind {
        LineKind::Driver | LineKind::Count => Colour::from_rgb(0x25, 0x63, 0xeb),
        LineKind::Executor => EXECUTOR_COLOURS[executor % EXECUTOR_COLOURS.len()],
        LineKind::Summary(Aggregate::Max) => Colour::from_rgb(0x37, 0x41, 0x51),
        LineKind::Summary(Aggregate::Median) => Colour::from_rgb(0x6b, 0x72, 0x80),
        LineKind::Summary(Aggregate::Min) => Colour::from_rgb(0x9c, 0xa3, 0xaf),
        LineKind::Request => Colour::from_rgb(0xd9, 0x77, 0x06),
        LineKind::Limit | LineKind::OomKill => Colour::from_rgb(0xdc, 0x26, 0x26),
    }
}

fn chrono_time(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().max(0) as u32).unwrap_or_default()
}

/// How a value of `kind` reads on the axis and in the tooltip.
fn value_text(kind: ChartKind, value: f64) -> String {
    match kind {
        // Whole executors only; the axis' halves read as the same number twice otherwise.
        ChartKind::Executors if value.fract() == 0.0 => format!("{value:.0}"),
        ChartKind::Executors => String::new(),
        _ if kind.unit() == MetricUnit::Cores => format!("{value:.2}"),
        _ => format::quantity(value, kind.unit()),
    }
}

#[component]
pub fn Plot(chart: ChartData, from: Timestamp, to: Timestamp) -> impl IntoView {
    let kind = chart.kind;
    let mut series = Series::new(|r: &Row| chrono_time(r.t)).with_x_range(chrono_time(from), chrono_time(to)).with_min_y(0.0);
    let mut executors = 0;
    for (i, spec) in chart.lines.iter().enumerate() {
        let mut line = Line::new(move |r: &Row| r.y.get(i).copied().unwrap_or(f64::NAN))
            .with_name(spec.label.clone())
            .with_colour(colour(spec.kind, executors))
            .with_width(match spec.kind {
                LineKind::Summary(Aggregate::Max) | LineKind::Driver | LineKind::Count => 2.0,
                _ => 1.5,
            });
        match spec.kind {
            LineKind::Executor => executors += 1,
            LineKind::OomKill => line = line.with_marker(Marker::from_shape(MarkerShape::Cross).with_scale(2.5)),
            LineKind::Count => line = line.with_interpolation(Step::Horizontal),
            _ => {}
        }
        series = series.line(line);
    }
    let lines = chart.lines.iter().map(|l| l.label.clone()).collect::<Vec<_>>().join("|");
    let data = Signal::stored(chart.rows);
    let y_ticks = move || TickLabels::aligned_floats().with_format(move |v: &f64, _| value_text(kind, *v));
    let tooltip = Tooltip::new(TooltipPlacement::LeftCursor, TickLabels::timestamps(), y_ticks()).skip_missing(true);
    view! {
        <div class="w-full" data-testid="plot" data-lines=lines>
            <Chart
                aspect_ratio=AspectRatio::from_env_width(280.0)
                font_height=12.0
                font_width=7.0
                series=series
                data=data
                left=y_ticks().with_min_chars(8)
                bottom=vec![TickLabels::timestamps().into_edge(), Legend::start().into_edge()]
                inner=vec![
                    AxisMarker::left_edge().into_inner(),
                    AxisMarker::bottom_edge().into_inner(),
                    XGridLine::default().into_inner(),
                    YGridLine::default().into_inner(),
                    XGuideLine::over_mouse().into_inner(),
                ]
                tooltip=tooltip
            />
        </div>
    }
}
