//! `GET /api/boards/{board}/search?q=…&limit=…`: a board's cards, comments and statements by
//! words, for its participants and for whoever holds its observer link.
//!
//! The board's task only looks up the cached index (or, when the board moved on, copies its
//! texts out, once for all the searches of that version); folding the texts into an index and
//! running the query happen on blocking threads, so a search never holds up the board's
//! commands for longer than that copy.

use super::extract::Reader;
use super::{ApiError, AppState};
use crate::projection::views::Viewer;
use crate::search::{Building, Corpus, DEFAULT_LIMIT, Index, IndexCache, Query, QueryError, Slot};
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

/// What the board's task hands back: the index, a build to wait for, or the texts to build it.
enum Lookup {
    Ready(Arc<Index>),
    Pending(Building),
    Build(Corpus, tokio::sync::watch::Sender<Option<Arc<Index>>>),
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
    let lookup = reader
        .board
        .inspect(move |board_state| {
            // A participant who was erased (or whose board lost them) no longer reads it.
            if let Viewer::Participant(participant) = viewer
                && board_state.active_participant(participant).is_none()
            {
                return None;
            }
            Some(match cache.slot(board, board_state.version) {
                Slot::Ready(index) => Lookup::Ready(index),
                Slot::Pending(building) => Lookup::Pending(building),
                Slot::Build(sender) => Lookup::Build(Corpus::of(board_state), sender),
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
        Lookup::Build(corpus, sender) => tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let index = Arc::new(Index::build(corpus));
            tracing::debug!(
                %board,
                version = index.version(),
                documents = index.documents(),
                terms = index.terms(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0,
                "search index built"
            );
            sender.send_replace(Some(Arc::clone(&index)));
            index
        })
        .await
        .map_err(unavailable)?,
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
