//! What each role may do, and what the board's phase and lock allow now. `decide` checks
//! commands against these, and the views tell clients the same answers, so each rule exists once.

use super::error::DomainError;
use super::state::BoardState;
use kipina_proto::{Action, Gate, Gates, Permissions, Phase, Role};

/// The permissions of `role`.
pub fn permissions(role: Role) -> Permissions {
    match role {
        Role::Facilitator => Permissions { contribute: true, change_any_card: true, facilitate: true },
        Role::Participant => Permissions { contribute: true, change_any_card: false, facilitate: false },
        Role::Observer => Permissions { contribute: false, change_any_card: false, facilitate: false },
    }
}

/// What only some roles may read of a board beyond its views (which everyone on it reads): what
/// lets others in, and the board taken out whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The board's invitation links and their QR codes: whoever holds one can join.
    Links,
    /// The board exported: its outcome in a document, or its whole log.
    Export,
}

/// Whether `role` may read `read`: both are the facilitators'.
pub fn may_read(role: Role, read: Read) -> bool {
    match read {
        Read::Links | Read::Export => permissions(role).facilitate,
    }
}

/// Whether a phase lets `role` do `action`. Between sessions (no session running, which is
/// what `Closed` means) the board is open for the work people do between camps.
///
/// | action   | ideate | discuss | vote | results | closed |
/// |----------|--------|---------|------|---------|--------|
/// | add card | P F    | F       | F    | F       | P F    |
/// | comment  | P F    | P F     | F    | P F     | P F    |
/// | react    | P F    | P F     | F    | P F     | P F    |
/// | vote     |        |         | P F  |         | P F    |
/// | group    | P F    | P F     | F    | F       | P F    |
///
/// (P participants, F facilitators; observers never act, and grouping by participants also
/// needs the board's option.)
pub fn phase_allows(phase: Phase, role: Role, action: Action) -> bool {
    let facilitator = permissions(role).facilitate;
    match (phase, action) {
        (_, _) if !permissions(role).contribute => false,
        (Phase::Closed, _) => true,
        (Phase::Vote, Action::Vote) => true,
        (_, Action::Vote) => false,
        (_, _) if facilitator => true,
        (Phase::Ideate, _) => true,
        (Phase::Discuss, Action::Comment | Action::React | Action::Group) => true,
        (Phase::Results, Action::Comment | Action::React) => true,
        _ => false,
    }
}

/// Whether `role` may do `action` on the board now: its role, the board's lock, its options and
/// the running session's phase. The error is what the server answers a command with.
pub fn gate(state: &BoardState, role: Role, action: Action) -> Result<(), DomainError> {
    let may = permissions(role);
    if !may.contribute {
        return Err(DomainError::Forbidden { action: action_name(action), role });
    }
    let info = state.info.as_ref().ok_or(DomainError::BoardNotFound)?;
    if info.locked && !may.facilitate {
        return Err(DomainError::BoardLocked);
    }
    if action == Action::Group && !may.facilitate && !info.options.participants_may_group {
        return Err(DomainError::Forbidden { action: action_name(action), role });
    }
    let phase = state.phase().unwrap_or(Phase::Closed);
    if !phase_allows(phase, role, action) {
        return Err(DomainError::PhaseForbids { action, phase });
    }
    if action == Action::Vote && state.current_round().is_some_and(|round| round.ended) {
        return Err(DomainError::VoteRoundEnded);
    }
    Ok(())
}

/// Every action's gate for facilitators and participants, as sent in the board's view.
pub fn gates(state: &BoardState) -> Gates {
    let one = |action| Gate {
        facilitator: gate(state, Role::Facilitator, action).err().map(|error| error.code()),
        participant: gate(state, Role::Participant, action).err().map(|error| error.code()),
    };
    Gates {
        add_card: one(Action::AddCard),
        comment: one(Action::Comment),
        react: one(Action::React),
        vote: one(Action::Vote),
        group: one(Action::Group),
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::AddCard => "add cards",
        Action::Comment => "comment",
        Action::React => "react",
        Action::Vote => "vote",
        Action::Group => "group cards",
    }
}

#[cfg(test)]
mod tests {
    use super::{Read, may_read};
    use kipina_proto::Role;

    #[test]
    fn only_facilitators_read_the_links_and_exports() {
        for read in [Read::Links, Read::Export] {
            assert!(may_read(Role::Facilitator, read), "{read:?}");
            assert!(!may_read(Role::Participant, read), "{read:?}");
            assert!(!may_read(Role::Observer, read), "{read:?}");
        }
    }
}
