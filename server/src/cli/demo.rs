//! `kipina demo`: fills an empty data directory with the demo board and lists the boards.

use crate::data_dir::DataDir;
use crate::domain::{BoardState, Context, demo};
use crate::engine::Engine;
use crate::store::EventStore;
use anyhow::Context as _;
use kipina_proto::{BoardId, CommandId, Timestamp};
use std::fmt::Write;
use uuid::Uuid;

pub(super) fn run(data: &DataDir) -> anyhow::Result<String> {
    let engine = Engine::open(data).with_context(|| format!("opening {}", data.root().display()))?;
    let mut output = String::new();
    if engine.store().boards()?.is_empty() {
        let board = create_demo(&engine)?;
        writeln!(output, "Created the demo board {board} in {}.", data.root().display())?;
    }
    for board in engine.store().boards()? {
        let state = engine.load(board)?;
        write_board(&mut output, board, &state)?;
    }
    Ok(output)
}

/// Runs the demo's commands through the engine, as if people had made them.
pub fn create_demo(engine: &Engine) -> anyhow::Result<BoardId> {
    let board = BoardId(Uuid::now_v7());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let demo = demo::leader_cornerstones(Uuid::now_v7, Timestamp(now));
    let mut state = BoardState::default();
    for step in demo.steps {
        let context = Context { actor: step.actor, at: step.at };
        engine
            .execute(board, &mut state, CommandId(Uuid::now_v7()), context, &step.command)
            .with_context(|| format!("demo step {}", step.command.name()))?;
    }
    Ok(board)
}

fn write_board(output: &mut String, board: BoardId, state: &BoardState) -> std::fmt::Result {
    let Some(info) = &state.info else { return Ok(()) };
    writeln!(
        output,
        "\n{} ({board}, {} events, {} participants)",
        info.title,
        state.version,
        state.participants.len()
    )?;
    for column in state.column_order.iter().filter_map(|id| state.columns.get(id)) {
        writeln!(output, "  {}", column.title)?;
        for card in column.cards.iter().filter_map(|id| state.cards.get(id)) {
            let votes = card.vote_total();
            let comments = card.comments.len();
            writeln!(output, "    - {} [{votes} ääntä, {comments} kommenttia]", card.title)?;
        }
    }
    Ok(())
}
