//! Comments and replies (one level deep); authors edit their own, deletion leaves a tombstone.

use super::{Decision, active_card, require_author_or_facilitator, require_contributor, text};
use crate::attention;
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::permissions::gate;
use crate::state::{BoardState, Comment, Participant};
use kipina_proto::Action;
use kipina_proto::{CardId, CommentId};

fn existing(state: &BoardState, comment: CommentId) -> Result<&Comment, DomainError> {
    state.comments.get(&comment).ok_or_else(|| DomainError::NotFound { kind: Kind::Comment, id: comment.to_string() })
}

pub(super) fn add(
    state: &BoardState,
    actor: &Participant,
    comment: CommentId,
    card: CardId,
    reply_to: Option<CommentId>,
    body: &str,
) -> Decision {
    require_contributor(actor, "comment")?;
    gate(state, actor.role, Action::Comment)?;
    if state.comments.contains_key(&comment) {
        return Err(DomainError::AlreadyExists { kind: Kind::Comment, id: comment.to_string() });
    }
    let found = active_card(state, card)?;
    if found.comments.len() >= limits::MAX_COMMENTS_PER_CARD {
        return Err(DomainError::LimitReached { what: "comments on a card", max: limits::MAX_COMMENTS_PER_CARD });
    }
    if let Some(parent) = reply_to {
        let parent = existing(state, parent)?;
        if parent.card != card || parent.reply_to.is_some() {
            return Err(DomainError::InvalidReply);
        }
        if parent.deleted {
            return Err(DomainError::CommentDeleted);
        }
    }
    text::multi_line("comment", body, limits::COMMENT_BODY, true)?;
    let mentions = attention::mentions(state, body);
    Ok(vec![Event::CommentAdded { comment, card, reply_to, body: body.into(), mentions }])
}

/// Only the author edits a comment: a facilitator may delete it but not put words in its mouth.
pub(super) fn edit(
    state: &BoardState,
    actor: &Participant,
    comment: CommentId,
    body: &str,
    base_version: u32,
) -> Decision {
    let found = existing(state, comment)?;
    require_contributor(actor, "edit comments")?;
    gate(state, actor.role, Action::Comment)?;
    if found.author != actor.id {
        return Err(DomainError::NotAuthor { action: "edit this comment" });
    }
    if found.deleted {
        return Err(DomainError::CommentDeleted);
    }
    active_card(state, found.card)?;
    if base_version != found.text_version {
        return Err(DomainError::StaleVersion {
            kind: Kind::Comment,
            expected: base_version,
            actual: found.text_version,
        });
    }
    text::multi_line("comment", body, limits::COMMENT_BODY, true)?;
    if found.body.as_text() == Some(body) {
        return Ok(vec![]);
    }
    let mentions = attention::mentions(state, body);
    Ok(vec![Event::CommentEdited { comment, body: body.into(), mentions }])
}

pub(super) fn delete(state: &BoardState, actor: &Participant, comment: CommentId) -> Decision {
    let found = existing(state, comment)?;
    require_author_or_facilitator(actor, found.author, "delete this comment")?;
    gate(state, actor.role, Action::Comment)?;
    if found.deleted {
        return Err(DomainError::CommentDeleted);
    }
    Ok(vec![Event::CommentDeleted { comment }])
}
