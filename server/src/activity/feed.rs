//! The board's public activity as an Atom feed (RFC 4287), for people who follow a board from a
//! feed reader. "Public" is what the observer link shows: the items rendered for the viewer
//! `Viewer::Observer`, so no anonymous author and no hidden dot, with the board's current names and titles
//! (erased words read "poistettu"). Written with `atom_syndication`, never by hand.

use super::words::{ANONYMOUS, ERASED, excerpt, pick, sentence};
use super::{Projection, Query};
use crate::projection::views::Viewer;
use atom_syndication::{Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use kipina_domain::BoardState;
use kipina_proto::activity::{ActivityItem, ActivityKind};
use kipina_proto::{BoardId, Language, Timestamp};

/// How many of the newest items a feed holds.
pub const FEED_ENTRIES: usize = 50;

/// Where the feed's links lead: the board's observer link, and the feed itself.
#[derive(Clone, Debug)]
pub struct FeedLinks {
    pub observer: String,
    pub feed: String,
}

/// Why a feed could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the board has not been created")]
    NoBoard,
    #[error("writing the feed failed: {0}")]
    Write(String),
}

/// The Atom XML of the board's newest public activity.
pub fn atom(board: BoardId, projection: &Projection, links: &FeedLinks) -> Result<Vec<u8>, FeedError> {
    let state = projection.state();
    let info = state.info.as_ref().ok_or(FeedError::NoBoard)?;
    let page = projection.page(Viewer::Observer, &Query::newest(FEED_ENTRIES));
    let alternate = |href: &str| Link {
        href: href.to_owned(),
        rel: "alternate".into(),
        mime_type: Some("text/html".into()),
        ..Link::default()
    };
    let entries: Vec<Entry> = page
        .items
        .iter()
        .map(|item| {
            let at = time(item.at);
            let author = match item.actor {
                Some(actor) => state
                    .participants
                    .get(&actor)
                    .and_then(|found| found.display_name.as_text())
                    .unwrap_or(pick(info.language, ERASED))
                    .to_owned(),
                None => capitalised(pick(info.language, ANONYMOUS).to_owned()),
            };
            Entry {
                title: Text::plain(capitalised(sentence(state, item, info.language))),
                id: format!("urn:kipina:{board}:{}", item.seq),
                updated: at,
                published: Some(at),
                authors: vec![Person { name: author, ..Person::default() }],
                links: vec![alternate(&links.observer)],
                summary: words_of(state, item).map(Text::plain),
                ..Entry::default()
            }
        })
        .collect();
    let updated = page.items.first().map_or(info.created_at, |item| item.at);
    let feed = Feed {
        title: Text::plain(info.title.clone()),
        id: format!("urn:kipina:{board}"),
        updated: time(updated),
        subtitle: (!info.description.is_empty()).then(|| Text::plain(info.description.clone())),
        authors: vec![Person { name: info.title.clone(), ..Person::default() }],
        generator: Some(Generator { value: "Kipinä".into(), ..Generator::default() }),
        links: vec![
            alternate(&links.observer),
            Link {
                href: links.feed.clone(),
                rel: "self".into(),
                mime_type: Some("application/atom+xml".into()),
                ..Link::default()
            },
        ],
        lang: Some(language_tag(info.language).into()),
        entries,
        ..Feed::default()
    };
    feed.write_to(Vec::new()).map_err(|error| FeedError::Write(error.to_string()))
}

/// The words an item is about, where there are some an observer may read: a comment, a new
/// card's description, a proposed or adopted wording.
fn words_of(state: &BoardState, item: &ActivityItem) -> Option<String> {
    let card = || item.card.and_then(|card| state.cards.get(&card));
    let text = match item.kind {
        ActivityKind::CommentAdded | ActivityKind::CommentReplied | ActivityKind::CommentEdited => item
            .comment
            .and_then(|comment| state.comments.get(&comment))
            .filter(|comment| !comment.deleted)
            .and_then(|comment| comment.body.as_text()),
        ActivityKind::CardAdded | ActivityKind::CardEdited | ActivityKind::WordingProposed => {
            card().and_then(|card| card.body.as_text())
        }
        ActivityKind::ProposalAdopted => {
            let version = item.version?;
            let statement = state.columns.get(&item.column?)?.statement.as_ref()?;
            statement.versions.iter().find(|found| found.number == version).and_then(|found| found.text.as_text())
        }
        _ => None,
    }?;
    let text = excerpt(text, 500);
    (!text.is_empty()).then_some(text)
}

fn time(at: Timestamp) -> FixedDateTime {
    chrono::DateTime::from_timestamp_millis(at.millis()).unwrap_or_default().fixed_offset()
}

fn capitalised(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => text,
    }
}

fn language_tag(language: Language) -> &'static str {
    match language {
        Language::Fi => "fi",
        Language::Sv => "sv",
        Language::En => "en",
    }
}
