//! Keeping up between camps: who follows which card, `@name` mentions, and the notifications
//! they lead to. Mentions are found by `decide` when a comment is written (so renaming someone
//! later does not change who a comment mentioned); notifications are made by `evolve` from the
//! facts, so live state and replay agree.

use super::event::{Event, Fact};
use super::state::{BoardState, Notification, Participant};
use kipina_proto::view::NotificationKind;
use kipina_proto::{CardId, CommentId, ParticipantId};

/// How many notifications the board keeps per participant (the oldest go first).
pub const MAX_NOTIFICATIONS: usize = 200;

/// The participants `text` mentions with `@name`, in the order first mentioned.
///
/// A mention is `@` at the start of the text or after a character that is not a letter or digit,
/// followed by a participant's whole display name (letters compared without case; names may hold
/// spaces and any letters, "@Aino Mäkelä-Virtanen"), followed by the end of the text or a
/// character that is not a letter or digit. When names overlap ("Aino" and "Aino Mäkelä") the
/// longest one that fits wins. Erased participants cannot be mentioned.
pub fn mentions(state: &BoardState, text: &str) -> Vec<ParticipantId> {
    let names: Vec<(ParticipantId, Vec<char>)> = state
        .participants
        .values()
        .filter(|participant| !participant.erased && !participant.removed)
        .filter_map(|participant: &Participant| {
            let name = participant.display_name.as_text()?.trim();
            (!name.is_empty()).then(|| (participant.id, name.chars().collect()))
        })
        .collect();
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for (index, c) in chars.iter().enumerate() {
        if *c != '@' || index > 0 && chars[index - 1].is_alphanumeric() {
            continue;
        }
        let rest = &chars[index + 1..];
        let best = names
            .iter()
            .filter(|(_, name)| names_match(rest, name))
            .max_by_key(|(id, name)| (name.len(), std::cmp::Reverse(*id)));
        if let Some((id, _)) = best
            && !found.contains(id)
        {
            found.push(*id);
        }
    }
    found
}

/// Whether `rest` starts with `name` (without regard to case) followed by a word boundary.
fn names_match(rest: &[char], name: &[char]) -> bool {
    if rest.len() < name.len() {
        return false;
    }
    let same = rest.iter().zip(name).all(|(a, b)| a == b || a.to_lowercase().eq(b.to_lowercase()));
    same && rest.get(name.len()).is_none_or(|next| !next.is_alphanumeric())
}

/// Updates follows and notifications after `fact` was applied to `state`.
pub fn after(state: &mut BoardState, fact: &Fact) {
    let actor = fact.actor;
    match &fact.event {
        Event::CardAdded { card, .. } | Event::WordingProposed { card, .. } => follow(state, actor, *card, true),
        Event::CardFollowed { card } => follow(state, actor, *card, true),
        Event::CardUnfollowed { card } => follow(state, actor, *card, false),
        Event::CommentAdded { comment, card, mentions, .. } => {
            if !state.comments.contains_key(comment) {
                return;
            }
            for mentioned in mentions {
                notify(state, fact, *mentioned, NotificationKind::Mentioned, *card, Some(*comment));
            }
            for follower in followers(state, *card) {
                if !mentions.contains(&follower) {
                    notify(state, fact, follower, NotificationKind::Commented, *card, Some(*comment));
                }
            }
            follow(state, actor, *card, true);
        }
        Event::CommentEdited { comment, mentions, .. } => {
            // Only someone newly named hears of an edit.
            let Some(found) = state.comments.get_mut(comment) else { return };
            let card = found.card;
            let earlier = std::mem::replace(&mut found.mentions, mentions.clone());
            for mentioned in mentions.iter().filter(|id| !earlier.contains(id)) {
                notify(state, fact, *mentioned, NotificationKind::Mentioned, card, Some(*comment));
            }
        }
        Event::CardEdited { card, .. } => notify_followers(state, fact, *card, NotificationKind::Edited),
        Event::CardStatusSet { card, .. } => notify_followers(state, fact, *card, NotificationKind::StatusChanged),
        Event::ProposalAdopted { card } => notify_followers(state, fact, *card, NotificationKind::Adopted),
        Event::SeenThrough { through } => {
            if let Some(found) = state.participants.get_mut(&actor) {
                found.seen_through = found.seen_through.max(*through);
            }
        }
        Event::NotificationsRead { through } => {
            if let Some(found) = state.participants.get_mut(&actor) {
                found.notifications_read_through = found.notifications_read_through.max(*through);
            }
        }
        Event::ParticipantErased { participant } => {
            // They can no longer act or read the board; what they followed goes (no new
            // notifications reach them). Their notifications are other people's deeds and stay.
            unfollow_all(state, *participant);
        }
        _ => {}
    }
}

/// Makes `participant` follow `card`, or stop following it: both sides, the participant's
/// `following` and the card's `followers`, always together.
fn follow(state: &mut BoardState, participant: ParticipantId, card: CardId, on: bool) {
    let Some(found_card) = state.cards.get_mut(&card) else { return };
    let Some(found) = state.participants.get_mut(&participant) else { return };
    if on {
        found.following.insert(card);
        found_card.followers.insert(participant);
    } else {
        found.following.remove(&card);
        found_card.followers.remove(&participant);
    }
}

/// Makes `participant` follow nothing any more (erased, or removed from the board).
pub(crate) fn unfollow_all(state: &mut BoardState, participant: ParticipantId) {
    let Some(found) = state.participants.get_mut(&participant) else { return };
    for card in std::mem::take(&mut found.following) {
        if let Some(card) = state.cards.get_mut(&card) {
            card.followers.remove(&participant);
        }
    }
}

/// Participants who follow `card` and can still be reached, in the order of their ids.
pub fn followers(state: &BoardState, card: CardId) -> Vec<ParticipantId> {
    let Some(card) = state.cards.get(&card) else { return Vec::new() };
    card.followers
        .iter()
        .copied()
        .filter(|id| state.participants.get(id).is_some_and(|participant| !participant.erased))
        .collect()
}

fn notify_followers(state: &mut BoardState, fact: &Fact, card: CardId, kind: NotificationKind) {
    for follower in followers(state, card) {
        notify(state, fact, follower, kind, card, None);
    }
}

/// Adds a notification for `to`, unless they caused it themselves or cannot be reached.
fn notify(
    state: &mut BoardState,
    fact: &Fact,
    to: ParticipantId,
    kind: NotificationKind,
    card: CardId,
    comment: Option<CommentId>,
) {
    if to == fact.actor || state.active_participant(to).is_none() {
        return;
    }
    let list = state.notifications.entry(to).or_default();
    if list.last().is_some_and(|last| last.seq == fact.seq) {
        return;
    }
    list.push(Notification { seq: fact.seq, at: fact.at, kind, card, comment, actor: fact.actor });
    if list.len() > MAX_NOTIFICATIONS {
        let excess = list.len() - MAX_NOTIFICATIONS;
        list.drain(..excess);
    }
}

/// Who got a notification from the fact with sequence number `seq` (for sending it live).
pub fn notified_by(state: &BoardState, seq: u64) -> Vec<ParticipantId> {
    state
        .notifications
        .iter()
        .filter(|(_, list)| list.iter().rev().take_while(|notification| notification.seq >= seq).any(|n| n.seq == seq))
        .map(|(participant, _)| *participant)
        .collect()
}
