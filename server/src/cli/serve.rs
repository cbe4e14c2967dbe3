//! `kipina serve`: runs the server until SIGINT or SIGTERM.

use super::ServeArgs;
use crate::config::Config;
use crate::startup::{Application, Tidying};
use std::io::Write;

pub(super) fn run(args: ServeArgs) -> anyhow::Result<String> {
    let mut config = Config::new(args.data);
    config.bind = args.bind;
    config.public_url = args.public_url;
    config.allowed_origins = args.allowed_origins;
    config.create_demo = !args.no_demo;
    config.max_commands_per_second = args.max_commands_per_second;
    config.compaction = args.compact_when_quiet_ms.map(std::time::Duration::from_millis);
    config.tidy_at_stop = (!args.no_tidy_at_stop).then(|| crate::store::TidyPolicy {
        min_outside_chunks: args.tidy_at_stop_min_events,
        ..crate::store::TidyPolicy::default()
    });
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(config).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "Kipinä serves on {}", application.public_url())?;
        if let Some((board, links)) = application.demo() {
            writeln!(out, "Created the demo board {board}.")?;
            writeln!(out, "  Facilitator link: {}", links.facilitator)?;
            writeln!(out, "  Participant link: {}", links.participant)?;
            writeln!(out, "  Join code:        {}", links.join_code)?;
            writeln!(out, "  Observer link:    {}", links.observer)?;
        }
        drop(out);
        application.run_until_stopped_telling(say_tidying).await?;
        Ok("Kipinä stopped; every acknowledged change is on disk.".to_owned())
    })
}

/// Says on standard output what the tidying at the stop does, so an operator knows why the stop
/// takes a moment longer.
fn say_tidying(tidying: Tidying) {
    let line = match tidying {
        Tidying::Starting { estimate, db_bytes } => format!(
            "Tidying the event store: {} of {} events into chunks ({} MB), so boards load faster at the next start. \
             Stopping the process now loses nothing.",
            estimate.outside_chunks,
            estimate.events,
            db_bytes / 1_000_000
        ),
        Tidying::Done { report, elapsed } => format!(
            "Tidied the event store in {:.1} s: {} of {} events in chunks, {} MB -> {} MB.",
            elapsed.as_secs_f64(),
            report.chunked_events,
            report.events,
            report.bytes_before / 1_000_000,
            report.bytes_after / 1_000_000
        ),
        Tidying::Failed(why) => format!("The event store was not tidied, and is as it was: {why}"),
    };
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}
