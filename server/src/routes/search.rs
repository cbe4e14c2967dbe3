//! `GET /api/boards/{board}/search?q=…&limit=…`: a board's cards, comments and statements by
//! words, for its participants and for whoever holds its observer link.
//!
//! The board's task only looks up the cached index or, when the board moved on, compares the
//! board with its latest whole segment and copies out the texts that changed (the whole board's
//! texts the first time), once for all the searches of that version; folding those texts into
//! an index and running the query happen on blocking threads, so a search never holds up the
//! board's commands for longer than that comparison. A compaction, when one is due, runs on a
//! blocking thread after the answer's index is ready, and nobody waits for it.

use super::extract::Reader;
use super::{ApiError, AppState};
use crate::projection::views::Viewer;
use crate::search::{Building, Changes, Corpus, DEFAULT_LIMIT, Index, IndexCache, Query, QueryError, Slot};
use actix_web::{HttpResponse, web};
use kipina_proto::ErrorCode;
use kipina_proto::{BoardId, Language};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: String,
    limit: Option<usize>,
}

fn malformed(error: QueryError) -> ApiError {
    ApiError::new(ErrorCode::Malformed, error.to_string())
}

type Sender = tokio::sync::watch::Sender<Option<Arc<Index>>>;

/// What the board's task hands back: the index, a build to wait for, or the texts to make it
/// from (all of them, or what changed since the board's latest whole segment).
enum Lookup {
    Ready(Arc<Index>),
    Pending(Building),
    Build(Corpus, Sender),
    Update(Changes, Sender),
}

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "a search failed");
    ApiError::new(ErrorCode::Unavailable, "the board cannot be searched right now")
}

pub async fn search(
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
    query: web::Query<SearchQuery>,
    reader: Reader,
) -> Result<HttpResponse, ApiError> {
    let (board, viewer) = (path.into_inner(), reader.viewer);
    let SearchQuery { q, limit } = query.into_inner();
    // Checked here already (length, words), so a query that is no query costs the board nothing;
    // the board's own language, whose stemmer reads the words, is known once the index is.
    Query::parse(&q, Language::Fi).map_err(malformed)?;
    let cache: Arc<IndexCache> = Arc::clone(&state.search);
    let slots = Arc::clone(&cache);
    let lookup = reader
        .board
        .inspect(move |board_state| {
            // A participant who was erased (or whose board lost them) no longer reads it.
            if let Viewer::Participant(participant) = viewer
                && board_state.active_participant(participant).is_none()
            {
                return None;
            }
            Some(match slots.slot(board, board_state.version) {
                Slot::Ready(index) => Lookup::Ready(index),
                Slot::Pending(building) => Lookup::Pending(building),
                Slot::Build { sender, base: None } => Lookup::Build(Corpus::of(board_state), sender),
                Slot::Build { sender, base: Some(base) } => Lookup::Update(Changes::between(base, board_state), sender),
            })
        })
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let index = match lookup {
        Lookup::Ready(index) => index,
        Lookup::Pending(mut building) => {
            let built = building.wait_for(Option::is_some).await.map_err(unavailable)?.clone();
            built.ok_or_else(|| unavailable("a finished build held no index"))?
        }
        // A blocking task runs to its end even when this search is dropped (its client went
        // away), so the searches waiting for this build get it.
        Lookup::Build(corpus, sender) => {
            tokio::task::spawn_blocking(move || made(board, sender, || Index::build(corpus)))
                .await
                .map_err(unavailable)?
        }
        Lookup::Update(changes, sender) => {
            let index = tokio::task::spawn_blocking(move || made(board, sender, || Index::update(changes)))
                .await
                .map_err(unavailable)?;
            if index.wants_compaction()
                && let Some(compaction) = cache.start_compaction(board)
            {
                let compacting = Arc::clone(&index);
                drop(tokio::task::spawn_blocking(move || {
                    let started = std::time::Instant::now();
                    let segment = compacting.compacted();
                    tracing::debug!(
                        %board,
                        version = segment.version(),
                        documents = segment.documents().len(),
                        elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0,
                        "search index compacted"
                    );
                    compaction.finish(Arc::new(segment));
                }));
            }
            index
        }
    };
    let results = web::block(move || {
        let query = Query::parse(&q, index.language())?;
        Ok(index.search(&query, viewer, limit.unwrap_or(DEFAULT_LIMIT)))
    })
    .await
    .map_err(unavailable)?
    .map_err(malformed)?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "private, no-store")).json(results))
}

/// Makes a board's index with `make`, logs what it took and hands it to the searches waiting.
fn made(board: BoardId, sender: Sender, make: impl FnOnce() -> Index) -> Arc<Index> {
    let started = std::time::Instant::now();
    let index = Arc::new(make());
    tracing::debug!(
        %board,
        version = index.version(),
        documents = index.documents(),
        changed = index.changed(),
        terms = index.terms(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0,
        "search index made"
    );
    sender.send_replace(Some(Arc::clone(&index)));
    index
}
