//! Comments and replies.

use crate::event::Fact;
use crate::personal::PersonalText;
use crate::state::{BoardState, Comment};
use kipina_proto::{CardId, CommentId, ParticipantId};

pub(super) fn comment_added(
    state: &mut BoardState,
    fact: &Fact,
    comment: &CommentId,
    card: &CardId,
    reply_to: &Option<CommentId>,
    body: &PersonalText,
    mentions: &[ParticipantId],
) {
    let actor = fact.actor;
    let at = fact.at;
    if !state.cards.contains_key(card) {
        return;
    }
    state.comments.insert(
        *comment,
        Comment {
            id: *comment,
            card: *card,
            reply_to: *reply_to,
            author: actor,
            body: body.clone(),
            text_version: 1,
            deleted: false,
            anonymous: state.anonymous_now(),
            created_at: at,
            updated_at: at,
            created_seq: fact.seq,
            mentions: mentions.to_vec(),
            likes: Default::default(),
        },
    );
    if let Some(found) = state.cards.get_mut(card) {
        found.comments.push(*comment);
    }
}

pub(super) fn comment_edited(state: &mut BoardState, fact: &Fact, comment: &CommentId, body: &PersonalText) {
    let at = fact.at;
    if let Some(found) = state.comments.get_mut(comment) {
        found.body = body.clone();
        found.text_version += 1;
        found.updated_at = at;
    }
}

pub(super) fn comment_deleted(state: &mut BoardState, fact: &Fact, comment: &CommentId) {
    let at = fact.at;
    if let Some(found) = state.comments.get_mut(comment) {
        found.deleted = true;
        found.updated_at = at;
    }
}
