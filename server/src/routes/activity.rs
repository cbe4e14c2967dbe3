//! Between camps over HTTP: the activity feed, the board as it was, the timeline, and the Atom
//! feed. Participants read with their bearer token; observers with the observer link's
//! `{board}/o/{secret}` part, as a bearer token or as `?token=` (feed readers cannot send
//! headers). Every read of the log runs in `web::block`.

use super::extract::FeedReader;
use super::{ApiError, AppState};
use crate::activity::feed::{FeedError, FeedLinks};
use crate::activity::{self, Projection, Query, history};
use crate::projection::views::Viewer;
use actix_web::{HttpResponse, web};
use kipina_proto::ErrorCode;
use kipina_proto::activity::{ActivityGroup, HistoryView};
use kipina_proto::{BoardId, ParticipantId, Role};
use serde::Deserialize;
use std::collections::BTreeSet;

/// `viewer`, if they may still read the board (an erased or removed participant may not).
fn still_reading(projection: &Projection, viewer: Viewer) -> Result<Viewer, ApiError> {
    match viewer {
        Viewer::Observer => Ok(viewer),
        Viewer::Participant(participant) => match projection.state().active_participant(participant) {
            Some(_) => Ok(viewer),
            None => Err(ApiError::unauthorized()),
        },
    }
}

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "the board's history could not be read");
    ApiError::new(ErrorCode::Unavailable, "the board's history cannot be read right now")
}

fn no_board() -> ApiError {
    ApiError::new(ErrorCode::BoardNotFound, "no such board")
}

/// Runs `read` on the board's activity projection in a blocking thread.
async fn with_projection<R: Send + 'static>(
    state: &web::Data<AppState>,
    board: BoardId,
    read: impl FnOnce(&Projection) -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    let engine = state.boards.engine().clone();
    let cache = std::sync::Arc::clone(&state.activity);
    web::block(move || cache.read(&engine, board, read))
        .await
        .map_err(unavailable)?
        .map_err(unavailable)?
        .ok_or_else(no_board)?
}

#[derive(Debug, Deserialize)]
pub struct ActivityQuery {
    before: Option<u64>,
    limit: Option<usize>,
    /// Groups, comma separated: `cards,comments,votes,statements,facilitation,people`.
    kinds: Option<String>,
    actor: Option<ParticipantId>,
}

/// `GET /api/boards/{board}/activity?before=&limit=&kinds=&actor=`: a page, newest first.
pub async fn activity(
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
    query: web::Query<ActivityQuery>,
    reader: FeedReader,
) -> Result<HttpResponse, ApiError> {
    let board = path.into_inner();
    let ActivityQuery { before, limit, kinds, actor } = query.into_inner();
    let viewer = reader.viewer;
    let limit = limit.unwrap_or(activity::DEFAULT_LIMIT);
    if limit == 0 || limit > activity::MAX_LIMIT {
        return Err(ApiError::new(ErrorCode::Malformed, format!("limit must be from 1 to {}", activity::MAX_LIMIT)));
    }
    let groups = match kinds.as_deref().map(str::trim).filter(|kinds| !kinds.is_empty()) {
        None => None,
        Some(kinds) => Some(
            kinds
                .split(',')
                .map(|name| {
                    ActivityGroup::parse(name.trim()).ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::Malformed,
                            format!(
                                "unknown kind {name:?}: use cards, comments, votes, statements, facilitation or people"
                            ),
                        )
                    })
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
        ),
    };
    let query = Query { before, limit, groups, actor };
    let page = with_projection(&state, board, move |projection| {
        let viewer = still_reading(projection, viewer)?;
        Ok(projection.page(viewer, &query))
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "private, no-store")).json(page))
}

/// `GET /api/boards/{board}/timeline`: the head and the times of points of the board's history.
pub async fn timeline(
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
    reader: FeedReader,
) -> Result<HttpResponse, ApiError> {
    let (board, viewer) = (path.into_inner(), reader.viewer);
    let timeline = with_projection(&state, board, move |projection| {
        still_reading(projection, viewer)?;
        Ok(projection.timeline())
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "private, no-store")).json(timeline))
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    seq: u64,
}

/// `GET /api/boards/{board}/history?seq=N`: the board as it was right after event `N`.
pub async fn history(
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
    query: web::Query<HistoryQuery>,
    reader: FeedReader,
) -> Result<HttpResponse, ApiError> {
    let board = path.into_inner();
    let HistoryQuery { seq } = query.into_inner();
    let viewer = reader.viewer;
    let engine = state.boards.engine().clone();
    let cache = std::sync::Arc::clone(&state.activity);
    let view = web::block(move || -> Result<Option<Result<HistoryView, ApiError>>, ApiError> {
        let answer = cache
            .read(&engine, board, |projection| -> Result<HistoryView, ApiError> {
                let viewer = still_reading(projection, viewer)?;
                let head = projection.head();
                let seq = seq.clamp(1, head);
                let then = engine.state_at(board, seq).map_err(unavailable)?;
                let view = history::history_view(board, &then, projection.state(), viewer).ok_or_else(no_board)?;
                let at = projection.time_of(seq).unwrap_or(view.info.created_at);
                Ok(HistoryView { seq, at, head, board: view })
            })
            .map_err(unavailable)?;
        Ok(answer)
    })
    .await
    .map_err(unavailable)??
    .ok_or_else(no_board)??;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "private, no-store")).json(view))
}

/// `GET /api/boards/{board}/feed.atom?token=<observer link>`: the board's public activity.
pub async fn feed(
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
    reader: FeedReader,
) -> Result<HttpResponse, ApiError> {
    let board = path.into_inner();
    if reader.viewer != Viewer::Observer {
        return Err(ApiError::new(ErrorCode::Unauthorized, "the feed is read with the board's observer link"));
    }
    let observer_path = state.access.link_path(board, Role::Observer);
    let links = FeedLinks {
        observer: format!("{}{observer_path}", state.public_url),
        feed: format!(
            "{}/api/boards/{board}/feed.atom?token={}",
            state.public_url,
            observer_path.trim_start_matches("/join/")
        ),
    };
    let xml = with_projection(&state, board, move |projection| {
        activity::feed::atom(board, projection, &links).map_err(|error| match error {
            FeedError::NoBoard => no_board(),
            FeedError::Write(_) => unavailable(error),
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-cache"))
        .body(xml))
}
