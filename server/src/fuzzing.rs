//! What the fuzz targets (`fuzz/`, run with `cargo +nightly fuzz run …`) exercise, shared with
//! the test that replays the committed corpus on every test run (`server/tests/it/fuzz_corpus.rs`).
//! Each function must never panic, whatever the bytes; they panic only when a property breaks.

use crate::live::connection::decode_client_message;
use kipina_domain::{BoardState, Context, Fact, decide, evolve};
use kipina_proto::{ClientMessage, ParticipantId, Timestamp};
use std::sync::OnceLock;

/// A board with something of everything (the demo), built once, for decoded commands to meet.
fn demo_state() -> &'static (BoardState, ParticipantId) {
    static STATE: OnceLock<(BoardState, ParticipantId)> = OnceLock::new();
    STATE.get_or_init(|| {
        let mut next = 0u128;
        let demo = kipina_domain::demo::leader_cornerstones(
            || {
                next += 1;
                uuid::Uuid::from_u128(next)
            },
            Timestamp(1_479_722_400_000),
        );
        let mut state = BoardState::default();
        for step in &demo.steps {
            let context = Context { actor: step.actor, at: step.at };
            let events = decide(&state, &context, &step.command).unwrap_or_default();
            for event in events {
                let fact = Fact { seq: state.version + 1, at: step.at, actor: step.actor, event };
                evolve(&mut state, &fact);
            }
        }
        (state, demo.facilitator)
    })
}

/// Bytes a browser could send over the WebSocket: decoded into a client message or refused
/// with a code; a message that decodes survives a round trip; a command meets the board's rules
/// (as the facilitator and as a stranger) and its events fold into the state.
pub fn ws_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(message) = decode_client_message(text) else { return };
    let again = serde_json::to_string(&message).expect("a decoded message serialises");
    assert_eq!(decode_client_message(&again).ok().as_ref(), Some(&message), "the message round-trips");
    if let ClientMessage::Command { command, .. } = message {
        let (state, facilitator) = demo_state();
        for actor in [*facilitator, ParticipantId(uuid::Uuid::from_u128(u128::MAX))] {
            let context = Context { actor, at: Timestamp(1_800_000_000_000) };
            if let Ok(events) = decide(state, &context, &command) {
                let mut after = state.clone();
                for event in events {
                    let fact = Fact { seq: after.version + 1, at: context.at, actor, event };
                    evolve(&mut after, &fact);
                }
            }
        }
    }
}

/// Bytes offered as a Trello export: planned and checked against the rules, or refused.
pub fn trello_file(data: &[u8]) {
    if let Ok(report) = crate::import::trello::check(data, "Fuzz") {
        assert!(report.cards <= kipina_domain::limits::MAX_CARDS);
    }
}
