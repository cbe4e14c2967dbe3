//! What every benchmark reports in the end: rows of one table, each a figure of Kipinä (median
//! and p99 over repeated rounds) next to the baseline measured in the same run, their ratio, and
//! the target it is held to. The same rows, with each benchmark's details, are written as JSON.
//!
//! For times, p99 is the slow tail (the 99th percentile, nearest rank). For rates (events per
//! second), p99 is the slow tail too: the rate that 99 % of rounds reached (the 1st percentile).
//! With a handful of rounds both are simply the worst round.

use anyhow::Context as _;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// Whether bigger or smaller is better, which decides which tail `p99` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Times and sizes: p99 is the 99th percentile.
    Lower,
    /// Rates: p99 is the 1st percentile, the rate 99 % of rounds reached.
    Higher,
}

/// The median and the slow tail of a figure over its samples (rounds, or acknowledgements).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stats {
    pub median: f64,
    pub p99: f64,
    pub samples: usize,
}

impl Stats {
    /// Times, sizes: p99 is the 99th percentile.
    pub fn lower_is_better(values: &[f64]) -> Self {
        Self::of(values, Better::Lower)
    }

    /// Rates: p99 is the 1st percentile.
    pub fn higher_is_better(values: &[f64]) -> Self {
        Self::of(values, Better::Higher)
    }

    pub fn of(values: &[f64], better: Better) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let p99 = match better {
            Better::Lower => nearest_rank(&sorted, 99),
            Better::Higher => nearest_rank(&sorted, 1),
        };
        Self { median: nearest_rank(&sorted, 50), p99, samples: sorted.len() }
    }

    /// Durations in milliseconds.
    pub fn of_durations(durations: &[Duration]) -> Self {
        let millis: Vec<f64> = durations.iter().map(|duration| millis(*duration)).collect();
        Self::lower_is_better(&millis)
    }
}

/// Milliseconds, to the microsecond.
pub fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}

/// The smallest value that at least `percent` % of `sorted` are at most (0 for no values).
pub fn nearest_rank(sorted: &[f64], percent: usize) -> f64 {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or(0.0)
}

/// A baseline's figure, measured in the same run.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    pub name: String,
    pub stats: Stats,
}

/// What a figure is held to, and whether this run met it.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub text: String,
    pub met: bool,
}

/// One row of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub benchmark: &'static str,
    pub case: String,
    pub metric: String,
    pub unit: &'static str,
    pub kipina: Stats,
    pub baseline: Option<Baseline>,
    /// Kipinä's median over the baseline's median.
    pub ratio_median: Option<f64>,
    /// Kipinä's p99 over the baseline's p99.
    pub ratio_p99: Option<f64>,
    pub target: Option<Target>,
}

impl Row {
    pub fn new(
        benchmark: &'static str,
        case: impl Into<String>,
        metric: impl Into<String>,
        unit: &'static str,
    ) -> Self {
        Self {
            benchmark,
            case: case.into(),
            metric: metric.into(),
            unit,
            kipina: Stats { median: 0.0, p99: 0.0, samples: 0 },
            baseline: None,
            ratio_median: None,
            ratio_p99: None,
            target: None,
        }
    }

    pub fn kipina(mut self, stats: Stats) -> Self {
        self.kipina = stats;
        self.ratios()
    }

    pub fn baseline(mut self, name: impl Into<String>, stats: Stats) -> Self {
        self.baseline = Some(Baseline { name: name.into(), stats });
        self.ratios()
    }

    pub fn target(mut self, text: impl Into<String>, met: bool) -> Self {
        self.target = Some(Target { text: text.into(), met });
        self
    }

    fn ratios(mut self) -> Self {
        let divide = |numerator: f64, denominator: f64| (denominator > 0.0).then(|| numerator / denominator);
        if let Some(baseline) = &self.baseline {
            self.ratio_median = divide(self.kipina.median, baseline.stats.median);
            self.ratio_p99 = divide(self.kipina.p99, baseline.stats.p99);
        }
        self
    }
}

/// A figure for the table: thousands grouped for big numbers, three decimals for small ones.
fn figure(value: f64) -> String {
    if value.abs() >= 10_000.0 {
        let whole = value.round() as i64;
        let digits = whole.abs().to_string();
        let mut grouped = String::new();
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        if whole < 0 { format!("-{grouped}") } else { grouped }
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// The rows as one table, for people.
pub fn table(rows: &[Row]) -> String {
    let ratio = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |value| format!("{value:.2}"));
    let mut table = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(
        table,
        "{:<9} {:<22} {:<28} {:>10} {:>10} | {:<30} {:>10} {:>10} | {:>6} {:>6} | target",
        "benchmark", "case", "metric", "median", "p99", "baseline (same run)", "median", "p99", "ratio", "p99"
    );
    for row in rows {
        let (name, median, p99) = match &row.baseline {
            Some(baseline) => (baseline.name.as_str(), figure(baseline.stats.median), figure(baseline.stats.p99)),
            None => ("-", "-".to_owned(), "-".to_owned()),
        };
        let target = row.target.as_ref().map_or_else(String::new, |target| {
            format!("{} {}", if target.met { "MET" } else { "NOT MET" }, target.text)
        });
        let _ = writeln!(
            table,
            "{:<9} {:<22} {:<28} {:>10} {:>10} | {:<30} {:>10} {:>10} | {:>6} {:>6} | {}",
            row.benchmark,
            row.case,
            format!("{} ({})", row.metric, row.unit),
            figure(row.kipina.median),
            figure(row.kipina.p99),
            name,
            median,
            p99,
            ratio(row.ratio_median),
            ratio(row.ratio_p99),
            target,
        );
    }
    table
}

/// What one benchmark found: its rows, and whatever else is worth keeping (per-round figures).
#[derive(Debug, Serialize)]
pub struct Section {
    pub benchmark: &'static str,
    pub rows: Vec<Row>,
    pub details: serde_json::Value,
}

/// Everything one run of the program found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub suite: &'static str,
    pub command: String,
    pub mode: &'static str,
    pub machine: Machine,
    pub elapsed_seconds: f64,
    pub rows: Vec<Row>,
    pub sections: Vec<Section>,
}

impl Report {
    /// Writes the report as JSON to `path`, making its folder if needed.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        write_json(path, self)
    }
}

/// Writes `value` as pretty JSON to `path`, making its folder if needed.
pub fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    let json = serde_json::to_string_pretty(value)?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

/// What the figures were measured on.
#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub kernel: String,
    pub filesystem_of_temp: String,
}

impl Machine {
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split_once(':')))
            .map_or_else(|| "unknown".to_owned(), |(_, model)| model.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
        Self {
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model,
            memory_gib: (memory_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel,
            filesystem_of_temp: filesystem_of(&std::env::temp_dir()),
        }
    }

    pub fn line(&self) -> String {
        format!(
            "{} CPUs ({}), {} GiB RAM, Linux {}, temporary files on {}",
            self.cpus, self.cpu_model, self.memory_gib, self.kernel, self.filesystem_of_temp
        )
    }
}

/// The filesystem type of the mount holding `path`, from `/proc/mounts` (longest matching mount).
fn filesystem_of(path: &Path) -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _device = fields.next()?;
            let mount = fields.next()?;
            let kind = fields.next()?;
            path.starts_with(mount).then(|| (mount.len(), kind.to_owned()))
        })
        .max_by_key(|(length, _)| *length)
        .map_or_else(|| "unknown".to_owned(), |(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(nearest_rank(&values, 50), 100.0);
        assert_eq!(nearest_rank(&values, 99), 198.0);
        assert_eq!(nearest_rank(&values, 1), 2.0);
        assert_eq!(nearest_rank(&[7.0], 99), 7.0);
        assert_eq!(nearest_rank(&[], 50), 0.0);
    }

    #[test]
    fn the_slow_tail_of_a_rate_is_its_low_end() {
        let stats = Stats::higher_is_better(&[100.0, 90.0, 110.0, 50.0, 105.0]);
        assert_eq!(stats.median, 100.0);
        assert_eq!(stats.p99, 50.0);
        let stats = Stats::lower_is_better(&[1.0, 2.0, 9.0]);
        assert_eq!(stats.p99, 9.0);
    }

    #[test]
    fn ratios_divide_kipina_by_the_baseline() {
        let row = Row::new("x", "c", "m", "ms")
            .kipina(Stats { median: 3.0, p99: 8.0, samples: 1 })
            .baseline("b", Stats { median: 2.0, p99: 0.0, samples: 1 });
        assert_eq!(row.ratio_median, Some(1.5));
        assert_eq!(row.ratio_p99, None);
    }

    #[test]
    fn figures_are_readable() {
        assert_eq!(figure(123_456.7), "123,457");
        assert_eq!(figure(512.4), "512");
        assert_eq!(figure(4.5678), "4.57");
        assert_eq!(figure(0.2184), "0.218");
    }
}
