//! The per-executor table of Spark's own metrics ([`crate::metrics::executors`]): peak memory by
//! kind against the container's limit, GC time share, spill, shuffle, tasks; cells far above
//! the other executors' are marked, and a header click sorts by that column.

use crate::api::{JobDetail, JobMetrics, Panel, SparkSource};
use crate::format;
use crate::metrics::executors::{self, Column, Kind, Table};
use leptos::prelude::*;

#[component]
pub fn ExecutorTable(metrics: Signal<Option<JobMetrics>>, detail: RwSignal<JobDetail>, job_path: String) -> impl IntoView {
    let table = Memo::new(move |_| metrics.with(|m| m.as_ref().map(|m| detail.with(|d| executors::table(&m.spark, &d.pods)))));
    let from = Memo::new(move |_| metrics.with(|m| m.as_ref().map(|m| m.spark.from)));
    let errors = Memo::new(move |_| {
        metrics.with(|m| {
            m.as_ref()
                .map(|m| m.errors.iter().filter(|e| e.panel == Panel::Executors).map(|e| e.message.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    // The column sorted by and whether largest first; none: Spark's order.
    let sort = RwSignal::new(None::<(Column, bool)>);
    let source = move || match from.get() {
        Some(SparkSource::Driver) => "From the running driver's REST API, live.",
        Some(SparkSource::HistoryServer) => "From the Spark History Server: the numbers as the job's event log ends.",
        _ => "",
    };
    view! {
        <section class="rounded border border-gray-200 bg-white p-3" data-testid="executors" data-from=move || from.get().map(SparkSource::as_str)>
            <h2 class="font-semibold">"Executors, as Spark measured them"</h2>
            <p class="mb-1 text-sm text-gray-600">{source}</p>
            <For each=move || errors.get() key=|m| m.clone() let:message>
                <p class="mb-1 rounded bg-amber-50 p-1.5 text-sm text-amber-900" role="alert" data-testid="panel-error">{message}</p>
            </For>
            {move || table.get().map(|table| {
                if table.rows.is_empty() {
                    return view! { <p class="text-sm text-gray-500" data-testid="executors-empty">"Spark reported no executors."</p> }.into_any();
                }
                view! { <Rows table sort job_path=job_path.clone()/> }.into_any()
            })}
        </section>
    }
}

#[component]
fn Rows(table: Table, sort: RwSignal<Option<(Column, bool)>>, job_path: String) -> impl IntoView {
    let columns = table.columns.clone();
    let not_measured = (!table.empty.is_empty()).then(|| {
        let names: Vec<&str> = table.empty.iter().map(|c| c.title()).collect();
        let hint = if table.empty.iter().any(|c| matches!(c, Column::Python | Column::Other)) {
            " (Python and other process memory need spark.executor.processTreeMetrics.enabled=true)"
        } else {
            ""
        };
        format!("Not reported by Spark for this job: {}{hint}.", names.join(", "))
    });
    let outliers = table.rows.iter().map(|r| r.cells.iter().filter(|c| c.outlier).count()).sum::<usize>();
    let table = StoredValue::new(table);
    let rows = move || {
        let mut rows = table.with_value(|t| t.rows.clone());
        if let Some((column, descending)) = sort.get() {
            executors::sort(&mut rows, column, descending);
        }
        rows
    };
    let header = columns
        .iter()
        .map(|&column| {
            let arrow = move || match sort.get() {
                Some((c, true)) if c == column => " ↓",
                Some((c, false)) if c == column => " ↑",
                _ => "",
            };
            // Largest first on the first click: what stands out is what is large.
            let click = move |_| sort.update(|s| *s = Some((column, !matches!(*s, Some((c, true)) if c == column))));
            view! {
                <th class="px-2 py-1 text-right font-medium" title=column.explain()>
                    <button type="button" class="hover:underline" on:click=click data-testid=format!("sort-{}", column.id())>
                        {column.title()}{arrow}
                    </button>
                </th>
            }
        })
        .collect_view();
    view! {
        <p class="mb-1 text-sm text-gray-600" data-testid="executors-outliers">
            {match outliers {
                0 => "Nothing stands out.".to_string(),
                n => format!("{n} marked cell{}: far above the other executors (or tasks failed, or GC over 10 % of task time).", if n == 1 { "" } else { "s" }),
            }}
        </p>
        <div class="max-h-[32rem] overflow-auto">
            <table class="min-w-full text-sm tabular-nums">
                <thead class="sticky top-0 bg-gray-50 text-gray-600">
                    <tr>
                        <th class="px-2 py-1 text-left font-medium">
                            <button type="button" class="hover:underline" on:click=move |_| sort.set(None) data-testid="sort-executor">"Executor"</button>
                        </th>
                        {header}
                    </tr>
                </thead>
                <tbody>
                    {move || rows().into_iter().map(|row| {
                        let log = format!("{job_path}/logs?source={}", row.log_source());
                        let status = if row.is_active { String::new() } else { row.removed.clone().unwrap_or_else(|| "removed".into()) };
                        let cells = columns.iter().map(|&column| {
                            let cell = row.cell(column);
                            let typical = table.with_value(|t| t.typical(column));
                            let text = cell.value.map(|v| value_text(column, v)).unwrap_or_else(|| "—".into());
                            let extra = (column == Column::Spill).then_some(row.memory_spilled).flatten()
                                .map(|m| format!("{} in memory", format::quantity(m as f64, crate::api::MetricUnit::Bytes)));
                            let title = match (cell.outlier, typical) {
                                (true, Some(t)) => format!("Stands out: the executors' median is {}", value_text(column, t)),
                                (true, None) => "Stands out".to_string(),
                                _ => String::new(),
                            };
                            let title = [title, extra.unwrap_or_default()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; ");
                            view! {
                                <td class=if cell.outlier { "px-2 py-0.5 text-right bg-red-100 font-semibold text-red-800" } else { "px-2 py-0.5 text-right" }
                                    title=title data-col=column.id() data-outlier=cell.outlier.to_string()>{text}</td>
                            }
                        }).collect_view();
                        view! {
                            <tr class="border-t border-gray-100" data-testid="executor-row" data-executor=row.id.clone()>
                                <td class="px-2 py-0.5 whitespace-nowrap">
                                    <a class="text-blue-700 hover:underline" href=log title="This executor's lines in the merged log">
                                        {if row.is_driver { "driver".to_string() } else { format!("exec-{}", row.id) }}
                                    </a>
                                    {(!status.is_empty()).then(|| view! { <span class="ml-1 text-xs text-gray-500" title=status.clone()>"removed"</span> })}
                                </td>
                                {cells}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {not_measured.map(|n| view! { <p class="mt-1 text-xs text-gray-500" data-testid="executors-not-measured">{n}</p> })}
    }
}

fn value_text(column: Column, value: f64) -> String {
    match column.kind() {
        Kind::Bytes => format::quantity(value, crate::api::MetricUnit::Bytes),
        Kind::Share => format!("{:.1} %", value * 100.0),
        Kind::Count => format!("{value:.0}"),
    }
}
