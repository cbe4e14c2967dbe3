//! `kipina boards`: lists the boards of a data directory.

use crate::data_dir::DataDir;
use crate::startup::open_engine;
use crate::store::EventStore;
use std::fmt::Write;

pub(super) fn run(data: &DataDir) -> anyhow::Result<String> {
    if data.is_empty() {
        anyhow::bail!("{} has no event log", data.root().display());
    }
    let engine = open_engine(data)?;
    let mut output = String::new();
    writeln!(output, "{:<36}  {:>8}  {:<23}  title", "board", "events", "last change")?;
    for board in engine.store().boards()? {
        if let Some(damage) = engine.store().damage(board) {
            let first = damage.first().map(ToString::to_string).unwrap_or_default();
            writeln!(output, "{board}  {:>8}  {:<23}  DAMAGED, not served: {first}", "?", "-")?;
            continue;
        }
        let head = engine.store().head(board)?;
        let last = engine.store().read(board, head, 1)?;
        let state = engine.load(board)?;
        let title = state.info.as_ref().map_or("?", |info| info.title.as_str());
        let when = last.first().map_or_else(|| "-".to_owned(), |event| format_time(event.at.millis()));
        writeln!(output, "{board}  {head:>8}  {when:<23}  {title}")?;
    }
    Ok(output.trim_end().to_owned())
}

/// `2026-11-23 12:46:22 UTC`, from milliseconds since the epoch.
fn format_time(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map_or_else(|_| "?".to_owned(), |time| time.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::format_time(1_795_437_982_000), "2026-11-23 12:46:22 UTC");
    }
}
