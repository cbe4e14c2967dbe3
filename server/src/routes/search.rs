//! `GET /api/boards/{board}/search?q=…&limit=…`: a board's cards, comments and statements by
//! words, for its participants and for whoever holds its observer link.
//!
//! The board's task only looks up the cached index (or, when the board moved on, copies its
//! texts out); folding the texts into an index and running the query happen on a blocking
//! thread, so a search never holds up the board's commands for longer than that copy.

use super::{ApiError, AppState, board_handle};
use crate::live::Viewer;
use crate::search::{Corpus, DEFAULT_LIMIT, Index, IndexCache, Query, QueryError};
use actix_web::{HttpRequest, HttpResponse, web};
use kipina_proto::{BoardId, Language, Role};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: String,
    limit: Option<usize>,
}

/// Who is searching: a participant's token, or the observer link's `{board}/o/{secret}`, both
/// as `Authorization: Bearer …` (the same token the client subscribes with).
fn viewer(request: &HttpRequest, state: &AppState, board: BoardId) -> Result<Viewer, ApiError> {
    let token = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    match state.access.resolve_token(token) {
        Ok(Some((token_board, participant))) if token_board == board => Ok(Viewer::Participant(participant)),
        Ok(_) => match state.access.link(token) {
            Some(invitation) if invitation.board == board && invitation.role == Role::Observer => Ok(Viewer::Observer),
            _ => Err(ApiError::unauthorized()),
        },
        Err(error) => {
            tracing::error!(%error, "cannot read access records");
            Err(ApiError::new("unavailable", "access records cannot be read right now"))
        }
    }
}

fn malformed(error: QueryError) -> ApiError {
    ApiError::new("malformed", error.to_string())
}

/// What the board's task hands back: the current index, or the texts to build it from.
enum Lookup {
    Cached(Arc<Index>),
    Build(Corpus),
}

pub async fn search(
    request: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let board = path.into_inner();
    let viewer = viewer(&request, &state, board)?;
    let SearchQuery { q, limit } = query.into_inner();
    // Checked here already (length, words), so a query that is no query costs the board nothing;
    // the board's own language, whose stemmer reads the words, is known once the index is.
    Query::parse(&q, Language::Fi).map_err(malformed)?;
    let cache: Arc<IndexCache> = Arc::clone(&state.search);
    let lookup = board_handle(&state, board)?
        .inspect(move |board_state| {
            // A participant who was erased (or whose board lost them) no longer reads it.
            if let Viewer::Participant(participant) = viewer
                && board_state.active_participant(participant).is_none()
            {
                return None;
            }
            Some(match cache.get(board, board_state.version) {
                Some(index) => Lookup::Cached(index),
                None => Lookup::Build(Corpus::of(board_state)),
            })
        })
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let cache = Arc::clone(&state.search);
    let participant = match viewer {
        Viewer::Participant(participant) => Some(participant),
        Viewer::Observer => None,
    };
    let results = web::block(move || {
        let index = match lookup {
            Lookup::Cached(index) => index,
            Lookup::Build(corpus) => {
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
                cache.put(board, Arc::clone(&index));
                index
            }
        };
        let query = Query::parse(&q, index.language())?;
        Ok(index.search(&query, participant, limit.unwrap_or(DEFAULT_LIMIT)))
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "a search failed");
        ApiError::new("unavailable", "the board cannot be searched right now")
    })?
    .map_err(malformed)?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "private, no-store")).json(results))
}
