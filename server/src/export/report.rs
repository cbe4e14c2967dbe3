//! What an outcome export says, gathered once from the board's public view so every format says
//! the same: nothing a participant could not see is in it (no hidden dots before the reveal, no
//! anonymous authors), names are resolved, cards are ranked by dots.

use super::words::Words;
use crate::projection::views::{Viewer, board_view, places};
use kipina_domain::BoardState;
use kipina_proto::view::{BoardView, CardView, DiffSpan};
use kipina_proto::{BoardId, CardId, CardStatus, Language, ParticipantId, SessionId, Timestamp};
use std::collections::BTreeMap;

/// A board's outcome, ready to be written in any format.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub board: BoardId,
    pub title: String,
    pub description: String,
    pub language: Language,
    pub words: &'static Words,
    pub exported_at: Timestamp,
    /// The session the report is limited to, if any.
    pub session: Option<ReportSession>,
    /// People who joined as participants or facilitators and were not erased.
    pub participants: usize,
    pub sessions: Vec<ReportSession>,
    /// Idea columns in board order, each with its cards ranked by dots.
    pub columns: Vec<ReportColumn>,
    pub statements: Vec<ReportStatement>,
    pub rounds: Vec<ReportRound>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportSession {
    pub id: SessionId,
    pub name: String,
    pub date: String,
    pub anonymous: bool,
    pub phase: Option<kipina_proto::Phase>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportColumn {
    pub title: String,
    pub archived: bool,
    pub cards: Vec<ReportCard>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportCard {
    pub id: CardId,
    pub column: String,
    pub title: String,
    pub body: String,
    /// `None` when anonymous; the words' "erased" when the author's data was erased.
    pub author: Option<String>,
    pub labels: Vec<String>,
    pub status: CardStatus,
    /// `None` while the votes are hidden.
    pub votes: Option<u32>,
    pub likes: usize,
    pub comments: Vec<ReportComment>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub archived: bool,
    /// For a card in a group: the group's title.
    pub group: Option<String>,
    /// For a group: its cards, in the group's order, each with its own likes and comments.
    pub members: Vec<ReportCard>,
}

impl ReportCard {
    /// The card and, for a group, its cards after it.
    pub fn with_members(&self) -> impl Iterator<Item = &ReportCard> {
        std::iter::once(self).chain(&self.members)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportComment {
    pub card: CardId,
    pub author: Option<String>,
    pub body: String,
    pub created_at: Timestamp,
    pub reply: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportStatement {
    pub title: String,
    pub versions: Vec<ReportVersion>,
    /// Open proposals, most dots first.
    pub proposals: Vec<ReportCard>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportVersion {
    pub number: u32,
    pub text: String,
    pub author: Option<String>,
    pub reason: Option<String>,
    pub adopted_at: Timestamp,
    pub session: Option<String>,
    pub diff: Vec<DiffSpan>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportRound {
    pub number: u32,
    pub session: Option<String>,
    pub budget: u32,
    pub per_card: u32,
    pub hidden: bool,
    pub current: bool,
    /// Place, card title and dots, most first; empty while the round's votes are hidden.
    pub results: Vec<(u32, String, u32)>,
}

impl Report {
    /// The report of `state`, limited to `session` when given (cards written while it ran, the
    /// rounds started in it, the versions adopted in it).
    pub fn of(board: BoardId, state: &BoardState, session: Option<SessionId>, now: Timestamp) -> Option<Report> {
        let view = board_view(board, state, Viewer::Observer)?;
        let words = Words::of(view.info.language);
        let names = Names::of(&view, words);
        let sessions: Vec<ReportSession> = view
            .sessions
            .iter()
            .map(|found| ReportSession {
                id: found.id,
                name: found.name.clone(),
                date: found.date.clone(),
                anonymous: found.anonymous,
                phase: found.phase,
                started_at: found.started_at,
                ended_at: found.ended_at,
            })
            .collect();
        let only = match session {
            Some(id) => Some(sessions.iter().find(|found| found.id == id)?.clone()),
            None => None,
        };
        let in_session = |at: Timestamp| match &only {
            None => true,
            Some(found) => {
                found.started_at.is_some_and(|start| at >= start) && found.ended_at.is_none_or(|end| at <= end)
            }
        };
        let session_name = |id: Option<SessionId>| {
            id.and_then(|id| sessions.iter().find(|found| found.id == id)).map(|found| found.name.clone())
        };
        let cards: BTreeMap<CardId, &CardView> = view.cards.iter().map(|card| (card.id, card)).collect();
        let card_of = |card: &CardView, column: &str| names.card(card, column, &view, &cards);

        let mut columns = Vec::new();
        let mut statements = Vec::new();
        for column in &view.columns {
            let listed: Vec<&CardView> = column.cards.iter().filter_map(|id| cards.get(id).copied()).collect();
            match &column.statement {
                None => {
                    let mut ranked: Vec<ReportCard> = listed
                        .into_iter()
                        .filter(|card| in_session(card.created_at))
                        .map(|card| card_of(card, &column.title))
                        .collect();
                    rank(&mut ranked);
                    columns.push(ReportColumn {
                        title: column.title.clone(),
                        archived: column.archived,
                        cards: ranked,
                    });
                }
                Some(statement) => {
                    let versions = statement
                        .versions
                        .iter()
                        .filter(|version| only.is_none() || version.session == session || version.number == 1)
                        .map(|version| ReportVersion {
                            number: version.number,
                            text: version.text.clone().unwrap_or_else(|| words.erased.to_owned()),
                            author: version.author.map(|author| names.name(author)),
                            reason: version.reason.clone(),
                            adopted_at: version.adopted_at,
                            session: session_name(version.session),
                            diff: version.diff.clone(),
                        })
                        .collect();
                    let mut proposals: Vec<ReportCard> =
                        listed.into_iter().map(|card| card_of(card, &column.title)).collect();
                    rank(&mut proposals);
                    statements.push(ReportStatement { title: column.title.clone(), versions, proposals });
                }
            }
        }
        let title_of =
            |id: &CardId| cards.get(id).and_then(|card| card.title.clone()).unwrap_or_else(|| words.erased.to_owned());
        let rounds = view
            .rounds
            .iter()
            .filter(|round| only.is_none() || round.session == session)
            .map(|round| {
                let mut results: Vec<(String, u32)> = if round.current {
                    view.cards
                        .iter()
                        .filter(|card| card.group.is_none() && !card.archived)
                        .filter_map(|card| card.vote_total.filter(|votes| *votes > 0).map(|votes| (card.id, votes)))
                        .map(|(id, votes)| (title_of(&id), votes))
                        .collect()
                } else {
                    round.results.iter().map(|result| (title_of(&result.card), result.votes)).collect()
                };
                results.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let ranks = places(results.iter().map(|(_, votes)| *votes));
                let results =
                    ranks.into_iter().zip(results).map(|(place, (title, votes))| (place, title, votes)).collect();
                ReportRound {
                    number: round.number,
                    session: session_name(round.session),
                    budget: round.settings.vote_budget,
                    per_card: round.settings.votes_per_card,
                    hidden: round.hidden && !round.revealed,
                    current: round.current,
                    results,
                }
            })
            .collect();
        let participants = view
            .participants
            .iter()
            .filter(|participant| {
                !participant.erased && !participant.removed && participant.role != kipina_proto::Role::Observer
            })
            .count();
        Some(Report {
            board,
            title: view.info.title.clone(),
            description: view.info.description.clone(),
            language: view.info.language,
            words,
            exported_at: now,
            session: only,
            participants,
            sessions,
            columns,
            statements,
            rounds,
        })
    }

    /// Every card of every idea column, in column order and rank, a group's cards after it.
    pub fn cards(&self) -> impl Iterator<Item = &ReportCard> {
        self.columns.iter().flat_map(|column| &column.cards).flat_map(ReportCard::with_members)
    }

    /// Every card, proposals of statements included, a group's cards after it.
    pub fn all_cards(&self) -> impl Iterator<Item = &ReportCard> {
        let proposals = self.statements.iter().flat_map(|statement| &statement.proposals);
        self.cards().chain(proposals.flat_map(ReportCard::with_members))
    }

    /// The cards and groups with the most dots over all columns, at most `n`.
    /// (A group is voted on as one: its cards are not ranked apart.) Each comes with its place,
    /// by the one ranking rule of the results view ([`places`]): equal dots share a place.
    pub fn top(&self, n: usize) -> Vec<(u32, &ReportCard)> {
        let mut all: Vec<&ReportCard> =
            self.columns.iter().flat_map(|column| &column.cards).filter(|card| card.votes.unwrap_or(0) > 0).collect();
        all.sort_by(|a, b| b.votes.cmp(&a.votes).then_with(|| a.title.cmp(&b.title)));
        all.truncate(n);
        let ranks = places(all.iter().map(|card| card.votes.unwrap_or(0)));
        ranks.into_iter().zip(all).collect()
    }
}

/// Most dots first, then by title so the order is stable.
fn rank(cards: &mut [ReportCard]) {
    cards.sort_by(|a, b| b.votes.unwrap_or(0).cmp(&a.votes.unwrap_or(0)).then_with(|| a.title.cmp(&b.title)));
}

/// Display names by participant, with the words for what has none.
struct Names<'a> {
    names: BTreeMap<ParticipantId, Option<String>>,
    words: &'a Words,
}

impl<'a> Names<'a> {
    fn of(view: &BoardView, words: &'a Words) -> Self {
        Self { names: view.participants.iter().map(|p| (p.id, p.display_name.clone())).collect(), words }
    }

    fn name(&self, participant: ParticipantId) -> String {
        self.names.get(&participant).cloned().flatten().unwrap_or_else(|| self.words.erased.to_owned())
    }

    fn card(&self, card: &CardView, column: &str, view: &BoardView, cards: &BTreeMap<CardId, &CardView>) -> ReportCard {
        let erased = || self.words.erased.to_owned();
        let labels = card
            .labels
            .iter()
            .filter_map(|id| view.labels.iter().find(|label| label.id == *id))
            .map(|label| if label.name.is_empty() { label.color.clone() } else { label.name.clone() })
            .collect();
        let comments = card
            .comments
            .iter()
            .filter_map(|id| view.comments.iter().find(|comment| comment.id == *id))
            .filter(|comment| !comment.deleted)
            .map(|comment| ReportComment {
                card: card.id,
                author: comment.author.map(|author| self.name(author)),
                body: comment.body.clone().unwrap_or_else(erased),
                created_at: comment.created_at,
                reply: comment.reply_to.is_some(),
            })
            .collect();
        ReportCard {
            id: card.id,
            column: column.to_owned(),
            title: card.title.clone().unwrap_or_else(erased),
            body: card.body.clone().unwrap_or_default(),
            author: card.author.map(|author| self.name(author)),
            labels,
            status: card.status,
            votes: card.vote_total,
            likes: card.likes.len(),
            comments,
            created_at: card.created_at,
            updated_at: card.updated_at,
            archived: card.archived,
            group: card.group.and_then(|id| cards.get(&id)).map(|group| group.title.clone().unwrap_or_else(erased)),
            members: card
                .members
                .iter()
                .filter_map(|id| cards.get(id))
                .map(|member| self.card(member, column, view, cards))
                .collect(),
        }
    }
}
