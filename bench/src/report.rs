//! The fan-out report: percentiles over the measured rounds, one table for people and the same
//! figures as JSON for machines (`target/bench/fanout.json`).
//!
//! Percentiles are nearest-rank over the rounds (p99 of 200 rounds is the second-slowest round;
//! of 20 rounds, the slowest), in milliseconds.

use crate::clients::Sample;
use crate::fanout::FanoutOptions;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

/// The 50th and 99th percentiles of a time, in milliseconds.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

impl Percentiles {
    fn of(durations: impl Iterator<Item = Duration>) -> Self {
        let mut sorted: Vec<f64> = durations.map(millis).collect();
        sorted.sort_by(f64::total_cmp);
        Self { p50: nearest_rank(&sorted, 50), p99: nearest_rank(&sorted, 99) }
    }
}

/// Milliseconds, to the microsecond (as fine as this machine measures anything here).
fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}

/// The smallest value that at least `percent` % of `sorted` are at most (0 for no values).
fn nearest_rank(sorted: &[f64], percent: usize) -> f64 {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or(0.0)
}

/// The mean length of the change messages of `samples`, rounded (0 for none).
pub fn mean_message_bytes(samples: &[Sample]) -> usize {
    let total: usize = samples.iter().map(|sample| sample.message_bytes).sum();
    (total + samples.len() / 2).checked_div(samples.len()).unwrap_or(0)
}

/// The figures of one server.
#[derive(Debug, Serialize)]
pub struct Measured {
    pub server: String,
    pub clients: usize,
    /// Measured rounds (warm-up rounds left out).
    pub rounds: usize,
    /// The mean length of the broadcast message over the rounds, in bytes of JSON text (Kipinä's
    /// `changed` is a few dozen bytes longer after a vote is cast than after it is withdrawn).
    pub message_bytes: usize,
    pub message_bytes_min: usize,
    pub message_bytes_max: usize,
    /// The writer's send to the last reader's receipt.
    pub send_to_last_ms: Percentiles,
    /// The writer's answer (`ack`) to the last reader's receipt, 0 when every reader was earlier.
    pub ack_to_last_ms: Percentiles,
    /// The writer's send to its answer (for Kipinä: decide, append, `fdatasync`, fan-out, `ack`).
    pub send_to_ack_ms: Percentiles,
    /// Rounds in which every reader had the message before the writer had its answer.
    pub rounds_all_readers_before_ack: usize,
    /// The times of every measured round, in order, for a closer look.
    pub each_round_ms: EachRound,
}

/// The times of every measured round, in milliseconds.
#[derive(Debug, Serialize)]
pub struct EachRound {
    pub send_to_ack: Vec<f64>,
    pub send_to_last: Vec<f64>,
}

impl Measured {
    /// The figures of the measured rounds `measured` (warm-up rounds left out) with `clients` readers.
    pub fn new(server: &str, clients: usize, measured: &[Sample]) -> anyhow::Result<Self> {
        anyhow::ensure!(!measured.is_empty(), "{server}: no rounds were measured");
        let mut bytes: Vec<usize> = measured.iter().map(|sample| sample.message_bytes).collect();
        bytes.sort_unstable();
        Ok(Self {
            server: server.to_owned(),
            clients,
            rounds: measured.len(),
            message_bytes: mean_message_bytes(measured),
            message_bytes_min: bytes[0],
            message_bytes_max: bytes[bytes.len() - 1],
            send_to_last_ms: Percentiles::of(measured.iter().map(|sample| sample.send_to_last)),
            ack_to_last_ms: Percentiles::of(measured.iter().map(|sample| sample.ack_to_last)),
            send_to_ack_ms: Percentiles::of(measured.iter().map(|sample| sample.send_to_ack)),
            rounds_all_readers_before_ack: measured.iter().filter(|sample| sample.all_before_ack).count(),
            each_round_ms: EachRound {
                send_to_ack: measured.iter().map(|sample| millis(sample.send_to_ack)).collect(),
                send_to_last: measured.iter().map(|sample| millis(sample.send_to_last)).collect(),
            },
        })
    }
}

/// Kipinä's time divided by the baseline's; `None` where the baseline's is 0.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Ratio {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

impl Ratio {
    fn of(kipina: Percentiles, bare: Percentiles) -> Self {
        let divide = |numerator: f64, denominator: f64| (denominator > 0.0).then(|| numerator / denominator);
        Self { p50: divide(kipina.p50, bare.p50), p99: divide(kipina.p99, bare.p99) }
    }
}

#[derive(Debug, Serialize)]
pub struct Ratios {
    pub send_to_last: Ratio,
    pub ack_to_last: Ratio,
}

/// Everything one `fanout` run found.
#[derive(Debug, Serialize)]
pub struct FanoutReport {
    pub benchmark: &'static str,
    pub clients: usize,
    pub rounds: usize,
    pub warmup_rounds: usize,
    /// Kipinä first, then the bare actix-ws baseline.
    pub rows: [Measured; 2],
    pub kipina_over_bare: Ratios,
}

impl FanoutReport {
    pub fn new(options: &FanoutOptions, kipina: Measured, bare: Measured) -> Self {
        let kipina_over_bare = Ratios {
            send_to_last: Ratio::of(kipina.send_to_last_ms, bare.send_to_last_ms),
            ack_to_last: Ratio::of(kipina.ack_to_last_ms, bare.ack_to_last_ms),
        };
        Self {
            benchmark: "fanout",
            clients: options.clients,
            rounds: options.rounds,
            warmup_rounds: options.warmup,
            rows: [kipina, bare],
            kipina_over_bare,
        }
    }

    /// The table, for people.
    pub fn table(&self) -> String {
        let ratio = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |value| format!("{value:.2}"));
        let mut table = String::new();
        // Writing into a String cannot fail.
        let _ = writeln!(
            table,
            "{:<14} {:>7} {:>6} {:>6} | {:>9} {:>9} | {:>9} {:>9} | {:>9} {:>9}",
            "", "", "", "", "send->last", "ms", "ack->last", "ms", "kipina/bare", "send->last"
        );
        let _ = writeln!(
            table,
            "{:<14} {:>7} {:>6} {:>6} | {:>9} {:>9} | {:>9} {:>9} | {:>9} {:>9}",
            "server", "clients", "rounds", "bytes", "p50", "p99", "p50", "p99", "p50", "p99"
        );
        for (row, ratios) in self.rows.iter().zip([Some(&self.kipina_over_bare.send_to_last), None::<&Ratio>]) {
            let _ = writeln!(
                table,
                "{:<14} {:>7} {:>6} {:>6} | {:>9.3} {:>9.3} | {:>9.3} {:>9.3} | {:>9} {:>9}",
                row.server,
                row.clients,
                row.rounds,
                row.message_bytes,
                row.send_to_last_ms.p50,
                row.send_to_last_ms.p99,
                row.ack_to_last_ms.p50,
                row.ack_to_last_ms.p99,
                ratios.map_or_else(|| "-".to_owned(), |ratios| ratio(ratios.p50)),
                ratios.map_or_else(|| "-".to_owned(), |ratios| ratio(ratios.p99)),
            );
        }
        let _ = writeln!(table);
        for row in &self.rows {
            let _ = writeln!(
                table,
                "{}: send->ack p50 {:.3} ms, p99 {:.3} ms; every reader before the ack in {} of {} rounds; \
                 message {}..={} bytes",
                row.server,
                row.send_to_ack_ms.p50,
                row.send_to_ack_ms.p99,
                row.rounds_all_readers_before_ack,
                row.rounds,
                row.message_bytes_min,
                row.message_bytes_max,
            );
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(nearest_rank(&values, 50), 100.0);
        assert_eq!(nearest_rank(&values, 99), 198.0);
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(nearest_rank(&twenty, 99), 20.0);
        assert_eq!(nearest_rank(&[7.0], 99), 7.0);
        assert_eq!(nearest_rank(&[], 50), 0.0);
    }
}
