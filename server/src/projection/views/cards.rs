//! Cards and comments as one viewer may see them: anonymous authors, hidden dots, and a group's
//! likes and comments counted with its cards'.

use super::Viewer;
use kipina_domain::{BoardState, Card, Comment};
use kipina_proto::view::{CardView, CommentView, ProposalView, VoteView};

/// Whether who placed which dot on `card` is private: while votes are hidden, and on an
/// anonymous card (a dot from its author would give them away).
pub(crate) fn voters_private(state: &BoardState, card: &Card) -> bool {
    state.votes_hidden() || state.card_is_anonymous(card)
}

pub fn card_view(state: &BoardState, card: &Card, viewer: Viewer) -> CardView {
    let anonymous = state.card_is_anonymous(card);
    let votes = card
        .votes
        .iter()
        .filter(|(participant, _)| !voters_private(state, card) || viewer.is(**participant))
        .map(|(participant, dots)| VoteView { participant: *participant, dots: *dots })
        .collect();
    CardView {
        id: card.id,
        column: card.column,
        title: card.title.as_text().map(str::to_owned),
        body: card.body.as_text().map(str::to_owned),
        author: (!anonymous || viewer.is(card.author)).then_some(card.author),
        anonymous,
        moderated: card.text_by != card.author,
        text_version: card.text_version,
        status: card.status,
        labels: card.labels.iter().copied().collect(),
        archived: card.archived,
        created_at: card.created_at,
        updated_at: card.updated_at,
        created_seq: card.created_seq,
        vote_total: (!state.votes_hidden()).then(|| card.vote_total()),
        votes,
        likes: card.likes.iter().copied().collect(),
        comments: card.comments.clone(),
        total_likes: count(with_members(state, card).map(|card| card.likes.len())),
        total_comments: count(with_members(state, card).map(|card| {
            card.comments.iter().filter(|id| state.comments.get(id).is_some_and(|comment| !comment.deleted)).count()
        })),
        group: card.group,
        is_group: card.is_group,
        members: card.members.clone(),
        proposal: card.proposal.as_ref().map(|proposal| {
            let current = state
                .columns
                .get(&card.column)
                .and_then(|column| column.statement.as_ref())
                .map_or(0, |statement| statement.current());
            ProposalView {
                statement: card.column,
                base_version: proposal.base_version,
                outdated: proposal.adopted_as.is_none() && proposal.base_version < current,
                adopted_as: proposal.adopted_as,
            }
        }),
    }
}

/// A card and, for a group, the cards in it now (an ungrouped group keeps its member list, but
/// its cards have left it: their likes and comments are no longer the group's).
fn with_members<'a>(state: &'a BoardState, card: &'a Card) -> impl Iterator<Item = &'a Card> {
    std::iter::once(card).chain(
        card.members.iter().filter_map(|id| state.cards.get(id)).filter(move |member| member.group == Some(card.id)),
    )
}

fn count(counts: impl Iterator<Item = usize>) -> u32 {
    u32::try_from(counts.sum::<usize>()).unwrap_or(u32::MAX)
}

pub fn comment_view(state: &BoardState, comment: &Comment, viewer: Viewer) -> CommentView {
    let anonymous = state.comment_is_anonymous(comment);
    CommentView {
        id: comment.id,
        card: comment.card,
        reply_to: comment.reply_to,
        author: (!anonymous || viewer.is(comment.author)).then_some(comment.author),
        anonymous,
        // A deleted comment keeps its place in the thread but not its words.
        body: if comment.deleted { None } else { comment.body.as_text().map(str::to_owned) },
        text_version: comment.text_version,
        deleted: comment.deleted,
        created_at: comment.created_at,
        updated_at: comment.updated_at,
        created_seq: comment.created_seq,
        mentions: comment.mentions.clone(),
        likes: comment.likes.iter().copied().collect(),
    }
}
