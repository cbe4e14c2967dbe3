//! `kipina serve`: runs the server until SIGINT or SIGTERM.

use super::ServeArgs;
use crate::config::Config;
use crate::startup::Application;
use std::io::Write;

pub(super) fn run(args: ServeArgs) -> anyhow::Result<String> {
    let mut config = Config::new(args.data);
    config.bind = args.bind;
    config.public_url = args.public_url;
    config.allowed_origins = args.allowed_origins;
    config.create_demo = !args.no_demo;
    config.max_commands_per_second = args.max_commands_per_second;
    config.compaction = args.compact_when_quiet_ms.map(std::time::Duration::from_millis);
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
        application.run_until_stopped().await?;
        Ok("Kipinä stopped; every acknowledged change is on disk.".to_owned())
    })
}
