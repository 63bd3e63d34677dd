//! Summarising a comparison's timings as a table.

use std::time::Duration;

use super::compare::{Comparison, Outcome};

/// Median, minimum and maximum of one command's counted runs, in seconds.
#[derive(Debug, PartialEq)]
struct Summary {
    /// Median wall time.
    median: f64,
    /// Fastest run.
    min: f64,
    /// Slowest run.
    max: f64,
}

/// Prints the table for `comparison`: one row per command, then the median of the per-pair
/// ratios `b / a` (below 1 means `b` is faster).
pub(crate) fn print(comparison: &Comparison, outcome: &Outcome) {
    let (a, b) = (&comparison.a.label, &comparison.b.label);
    let width = a.len().max(b.len()).max("command".len());
    println!();
    println!("{}", comparison.name);
    println!(
        "{:<width$}  {:>9}  {:>9}  {:>9}  {:>9}",
        "command", "median s", "min s", "max s", "MB/s"
    );
    for (label, times) in [(a, &outcome.a), (b, &outcome.b)] {
        let Some(summary) = summarize(times) else {
            continue;
        };
        let throughput = match comparison.bytes {
            Some(bytes) if summary.median > 0.0 => {
                format!("{:.1}", bytes as f64 / summary.median / 1e6)
            }
            _ => "-".to_owned(),
        };
        println!(
            "{label:<width$}  {:>9.3}  {:>9.3}  {:>9.3}  {throughput:>9}",
            summary.median, summary.min, summary.max
        );
    }
    let ratios: Vec<f64> = outcome
        .a
        .iter()
        .zip(&outcome.b)
        .filter(|(a, _)| !a.is_zero())
        .map(|(a, b)| b.as_secs_f64() / a.as_secs_f64())
        .collect();
    if let Some(ratio) = median(ratios) {
        let verdict = if ratio < 1.0 { "faster" } else { "slower" };
        println!("{b}/{a}: median of per-pair ratios {ratio:.3} ({b} is {verdict})");
    }
    println!();
}

/// Summarises `times`, or `None` if there are none.
fn summarize(times: &[Duration]) -> Option<Summary> {
    let secs: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
    let min = secs.iter().copied().reduce(f64::min)?;
    let max = secs.iter().copied().reduce(f64::max)?;
    Some(Summary {
        median: median(secs)?,
        min,
        max,
    })
}

/// Median of `values` (mean of the middle two for an even count), or `None` if empty.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let upper = *values.get(mid)?;
    if values.len() % 2 == 1 {
        Some(upper)
    } else {
        let lower = *values.get(mid.checked_sub(1)?)?;
        Some((lower + upper) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn summary_of_times() {
        let times = [3, 1, 2].map(Duration::from_secs);
        assert_eq!(
            summarize(&times),
            Some(Summary {
                median: 2.0,
                min: 1.0,
                max: 3.0
            })
        );
    }
}
