//! One fact as an activity record: what happened, in ids and values, with its actor. A record
//! is what anyone could be told if nothing were private; [`super::visibility`] decides what one
//! viewer is told of it.

use kipina_domain::{BoardState, Event, Fact};
use kipina_proto::activity::{ActivityItem, ActivityKind};
use kipina_proto::{Phase, ReactionTarget};

/// The record of `fact`, read against the state *before* it was folded in (what a phase was,
/// which card a comment is on); `None` for personal events, which are nobody else's business.
pub fn record_of(before: &BoardState, fact: &Fact) -> Option<ActivityItem> {
    use ActivityKind as K;
    let mut item = blank(fact, K::BoardEdited);
    let current_round = || u32::try_from(before.rounds.len()).ok();
    let card_of_comment = |comment| before.comments.get(comment).map(|found| found.card);
    item.kind = match &fact.event {
        Event::BoardCreated { .. } => K::BoardCreated,
        Event::BoardEdited { .. } => K::BoardEdited,
        Event::BoardLanguageSet { language } => {
            item.language = Some(*language);
            K::BoardLanguageSet
        }
        Event::SettingsChanged { .. } => K::SettingsChanged,
        Event::OptionsSet { .. } => K::OptionsChanged,
        Event::LockSet { locked: true } => K::BoardLocked,
        Event::LockSet { locked: false } => K::BoardUnlocked,
        Event::SessionCreated { session, .. } => {
            item.session = Some(*session);
            K::SessionCreated
        }
        Event::PhaseSet { session, phase } => {
            item.session = Some(*session);
            item.phase = Some(*phase);
            let was = before.sessions.get(session).and_then(|found| found.phase);
            match (was, phase) {
                (_, Phase::Closed) => K::SessionEnded,
                (None, _) => K::SessionStarted,
                _ => K::PhaseSet,
            }
        }
        Event::TimerSet { ends_at: Some(_) } => K::TimerStarted,
        Event::TimerSet { ends_at: None } => K::TimerStopped,
        Event::VoteRoundStarted { hidden, .. } => {
            item.round = current_round().map(|round| round + 1);
            item.hidden = Some(*hidden);
            K::VoteRoundStarted
        }
        Event::VotesRevealed {} => {
            item.round = current_round();
            K::VotesRevealed
        }
        // Said by the session's end, which it comes with.
        Event::VoteRoundEnded {} => return None,
        Event::ParticipantJoined { participant, role, .. } => {
            item.participant = Some(*participant);
            item.role = Some(*role);
            K::ParticipantJoined
        }
        Event::ParticipantRenamed { participant, .. } => {
            item.participant = Some(*participant);
            K::ParticipantRenamed
        }
        Event::RoleChanged { participant, role } => {
            item.participant = Some(*participant);
            item.role = Some(*role);
            K::RoleChanged
        }
        Event::ParticipantErased { participant } => {
            item.participant = Some(*participant);
            K::ParticipantErased
        }
        Event::ParticipantRemoved { participant } => {
            item.participant = Some(*participant);
            K::ParticipantRemoved
        }
        Event::ColumnAdded { column, .. } => column_kind(&mut item, *column, K::ColumnAdded),
        Event::ColumnRenamed { column, .. } => column_kind(&mut item, *column, K::ColumnRenamed),
        Event::ColumnMoved { column, .. } => column_kind(&mut item, *column, K::ColumnMoved),
        Event::ColumnArchived { column } => column_kind(&mut item, *column, K::ColumnArchived),
        Event::ColumnRestored { column } => column_kind(&mut item, *column, K::ColumnRestored),
        Event::StatementAdded { column, .. } => column_kind(&mut item, *column, K::StatementAdded),
        Event::WordingProposed { card, statement, base_version, .. } => {
            item.card = Some(*card);
            item.column = Some(*statement);
            item.version = Some(*base_version);
            K::WordingProposed
        }
        Event::ProposalRebased { card, base_version, .. } => {
            item.card = Some(*card);
            item.column = before.cards.get(card).map(|found| found.column);
            item.version = Some(*base_version);
            K::ProposalRebased
        }
        Event::ProposalAdopted { card } => {
            item.card = Some(*card);
            let column = before.cards.get(card).map(|found| found.column);
            item.column = column;
            // Adopting makes the next version of the statement the card is in.
            item.version = column
                .and_then(|column| before.columns.get(&column))
                .and_then(|found| found.statement.as_ref())
                .map(|statement| statement.current() + 1);
            K::ProposalAdopted
        }
        Event::LabelCreated { label, .. } => {
            item.label = Some(*label);
            K::LabelCreated
        }
        Event::CardLabelled { card, label } | Event::CardUnlabelled { card, label } => {
            item.card = Some(*card);
            item.label = Some(*label);
            if matches!(fact.event, Event::CardLabelled { .. }) { K::CardLabelled } else { K::CardUnlabelled }
        }
        Event::CardAdded { card, column, .. } => {
            item.card = Some(*card);
            item.column = Some(*column);
            K::CardAdded
        }
        Event::CardEdited { card, .. } => card_kind(before, &mut item, *card, K::CardEdited),
        Event::CardMoved { card, column, .. } => {
            item.card = Some(*card);
            item.column = Some(*column);
            K::CardMoved
        }
        Event::CardStatusSet { card, status } => {
            item.status = Some(*status);
            card_kind(before, &mut item, *card, K::CardStatusSet)
        }
        Event::CardArchived { card } => card_kind(before, &mut item, *card, K::CardArchived),
        Event::CardRestored { card } => card_kind(before, &mut item, *card, K::CardRestored),
        Event::CardsGrouped { group, column, .. } => {
            item.card = Some(*group);
            item.column = Some(*column);
            K::CardsGrouped
        }
        Event::CardAddedToGroup { group, card } => {
            item.grouped_into = Some(*group);
            card_kind(before, &mut item, *card, K::CardAddedToGroup)
        }
        Event::GroupDissolved { group } => card_kind(before, &mut item, *group, K::GroupDissolved),
        Event::CommentAdded { comment, card, reply_to, .. } => {
            item.comment = Some(*comment);
            item.card = Some(*card);
            if reply_to.is_some() { K::CommentReplied } else { K::CommentAdded }
        }
        Event::CommentEdited { comment, .. } => {
            item.comment = Some(*comment);
            item.card = card_of_comment(comment);
            K::CommentEdited
        }
        Event::CommentDeleted { comment } => {
            item.comment = Some(*comment);
            item.card = card_of_comment(comment);
            K::CommentDeleted
        }
        Event::VoteCast { card } | Event::VoteWithdrawn { card } => {
            item.card = Some(*card);
            item.round = current_round();
            if matches!(fact.event, Event::VoteCast { .. }) { K::VoteCast } else { K::VoteWithdrawn }
        }
        Event::ReactionAdded { target } | Event::ReactionRemoved { target } => {
            match target {
                ReactionTarget::Card(card) => item.card = Some(*card),
                ReactionTarget::Comment(comment) => {
                    item.comment = Some(*comment);
                    item.card = card_of_comment(comment);
                }
            }
            if matches!(fact.event, Event::ReactionAdded { .. }) { K::ReactionAdded } else { K::ReactionRemoved }
        }
        Event::CardFollowed { .. }
        | Event::CardUnfollowed { .. }
        | Event::SeenThrough { .. }
        | Event::NotificationsRead { .. } => return None,
    };
    item.group = item.kind.group();
    Some(item)
}

fn blank(fact: &Fact, kind: ActivityKind) -> ActivityItem {
    ActivityItem {
        seq: fact.seq,
        at: fact.at,
        kind,
        group: kind.group(),
        actor: Some(fact.actor),
        anonymous: false,
        card: None,
        comment: None,
        column: None,
        grouped_into: None,
        session: None,
        participant: None,
        label: None,
        phase: None,
        status: None,
        role: None,
        language: None,
        version: None,
        round: None,
        hidden: None,
    }
}

fn column_kind(item: &mut ActivityItem, column: kipina_proto::ColumnId, kind: ActivityKind) -> ActivityKind {
    item.column = Some(column);
    kind
}

/// A card's kind, with the column the card is in for context.
fn card_kind(
    before: &BoardState,
    item: &mut ActivityItem,
    card: kipina_proto::CardId,
    kind: ActivityKind,
) -> ActivityKind {
    item.card = Some(card);
    item.column = before.cards.get(&card).map(|found| found.column);
    kind
}
