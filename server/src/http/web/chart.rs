//! Entries per day as an inline SVG bar chart: no script, no external image,
//! and a text alternative (the chart's `<title>`/`<desc>` plus a data table) so
//! screen readers get the numbers too.

use maud::{html, Markup};

use crate::storage::{DayCount, DAY_MS};

const WIDTH: u32 = 600;
const HEIGHT: u32 = 160;
const LEFT: u32 = 40;
const BOTTOM: u32 = 20;

fn date(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| day.to_string())
}

/// A bar per day for the `days` days ending on `last_day` (inclusive); days
/// missing from `counts` are zero.
pub fn entries_per_day(counts: &[DayCount], last_day: i64, days: i64) -> Markup {
    let first_day = last_day - days + 1;
    let series: Vec<(i64, u64)> = (first_day..=last_day)
        .map(|d| {
            let n = counts.iter().find(|c| c.day == d).map_or(0, |c| c.entries);
            (d, n)
        })
        .collect();
    let max = series.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1);
    let total: u64 = series.iter().map(|&(_, n)| n).sum();
    let plot_w = WIDTH - LEFT;
    let plot_h = HEIGHT - BOTTOM;
    let slot = plot_w as f64 / days as f64;
    let desc = format!(
        "{total} entries from {} to {}; busiest day {max} entries",
        date(first_day),
        date(last_day)
    );
    html! {
        figure {
            svg role="img" aria-labelledby="chart-title chart-desc"
                viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } width="100%" style="max-width:600px;height:auto"
                xmlns="http://www.w3.org/2000/svg" {
                title id="chart-title" { "Entries per day" }
                desc id="chart-desc" { (desc) }
                line x1=(LEFT) y1=(plot_h) x2=(WIDTH) y2=(plot_h) stroke="#888" {}
                text x=(LEFT - 4) y="12" text-anchor="end" { (max) }
                text x=(LEFT - 4) y=(plot_h) text-anchor="end" { "0" }
                @for (i, &(day, n)) in series.iter().enumerate() {
                    @let h = (n as f64 / max as f64 * (plot_h - 10) as f64).round();
                    @let x = LEFT as f64 + i as f64 * slot + 1.0;
                    rect x=(format!("{x:.1}")) y=(format!("{:.1}", plot_h as f64 - h))
                        width=(format!("{:.1}", (slot - 2.0).max(1.0))) height=(format!("{h:.1}"))
                        fill="#3366cc" {
                        title { (date(day)) ": " (n) " entries" }
                    }
                }
                text x=(LEFT) y=(HEIGHT - 4) { (date(first_day)) }
                text x=(WIDTH) y=(HEIGHT - 4) text-anchor="end" { (date(last_day)) }
            }
            figcaption { "Entries integrated per UTC day, " (date(first_day)) " to " (date(last_day)) "." }
            details {
                summary { "Entries per day as a table" }
                div.table { table {
                    thead { tr { th scope="col" { "Day" } th scope="col" { "Entries" } } }
                    tbody { @for &(day, n) in series.iter().rev() { @if n > 0 {
                        tr { td { (date(day)) } td { (n) } }
                    } } }
                } }
            }
        }
    }
}
