//! `kipina demo`: fills an empty data directory with the demo board and lists the boards.

use crate::data_dir::DataDir;
use crate::engine::Engine;
use crate::store::EventStore;
use anyhow::Context as _;
use kipina_domain::BoardState;
use kipina_proto::BoardId;
use std::fmt::Write;

pub(super) fn run(data: &DataDir) -> anyhow::Result<String> {
    let engine = Engine::open(data).with_context(|| format!("opening {}", data.root().display()))?;
    let mut output = String::new();
    if engine.store().boards()?.is_empty() {
        let board = engine.create_demo_board(crate::clock::now())?;
        writeln!(output, "Created the demo board {board} in {}.", data.root().display())?;
    }
    for board in engine.store().boards()? {
        let state = engine.load(board)?;
        write_board(&mut output, board, &state)?;
    }
    Ok(output)
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
