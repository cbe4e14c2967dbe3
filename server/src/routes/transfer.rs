//! Exports for facilitators, and uploads that bring boards in: a Kipinä log (restored as it
//! was) or a Trello export (a new board whose facilitator is the uploader).

use super::boards::board_links;
use super::extract::{Export, Facilitator};
use super::{ApiError, AppState};
use crate::export::{self, Format};
use crate::import::trello::{self, TrelloError};
use actix_web::{HttpResponse, web};
use kipina_proto::ErrorCode;
use kipina_proto::api::{CreateBoardResponse, Session};
use kipina_proto::{BoardId, Role, SessionId};
use serde::Deserialize;

/// The largest upload taken: a Trello export of a big board, or a long log.
pub const MAX_UPLOAD: usize = 32 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    format: String,
    session: Option<SessionId>,
}

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "an export or import failed");
    ApiError::new(ErrorCode::Unavailable, "the board cannot be read or written right now")
}

/// `GET /api/boards/{board}/export?format=md|csv|xlsx|docx|json[&session=…]`: facilitators only.
pub async fn export(
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
    query: web::Query<ExportQuery>,
    facilitator: Facilitator<Export>,
) -> Result<HttpResponse, ApiError> {
    let board = path.into_inner();
    let ExportQuery { format, session } = query.into_inner();
    let format = Format::parse(&format).ok_or_else(|| {
        ApiError::new(ErrorCode::Malformed, format!("unknown format {format:?}: use md, csv, xlsx, docx or json"))
    })?;
    if format == Format::Json && session.is_some() {
        return Err(ApiError::new(ErrorCode::Malformed, "the log is always the whole board; leave out the session"));
    }
    let engine = state.boards.engine().clone();
    let now = crate::clock::now();
    let bytes = web::block(move || -> Result<Vec<u8>, export::ExportError> {
        match format {
            Format::Json => {
                let log = export::log::export(&engine, board, now)?;
                serde_json::to_vec_pretty(&log).map_err(|error| export::ExportError::Write(error.to_string()))
            }
            _ => {
                let state = engine.load(board).map_err(|error| export::ExportError::Read(error.to_string()))?;
                export::document(board, &state, format, session, now)
            }
        }
    })
    .await
    .map_err(unavailable)?
    .map_err(|error| match error {
        export::ExportError::NoSession => ApiError::new(ErrorCode::NotFound, "no such session on this board"),
        export::ExportError::NoBoard => ApiError::new(ErrorCode::BoardNotFound, "no such board"),
        other => unavailable(other),
    })?;
    let name = export::file_name(&facilitator.view.info.title, format, now);
    let mut response = HttpResponse::Ok();
    response
        .content_type(format.content_type())
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("Cache-Control", "private, no-store"));
    if format.is_zip() {
        // A workbook and a Word document are zip files already: the compression middleware
        // leaves an answer with a Content-Encoding alone.
        response.insert_header(actix_web::http::header::ContentEncoding::Identity);
    }
    Ok(response.body(bytes))
}

/// What a restored log answers: the board and the facilitator link to get in with (access is
/// not part of the log, so old tokens and links do not carry over).
#[derive(Debug, serde::Serialize)]
struct Restored {
    board: BoardId,
    events: u64,
    links: kipina_proto::api::BoardLinks,
}

/// `POST /api/import/log` with a log from `export?format=json` as the body.
pub async fn import_log(state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let engine = state.boards.engine().clone();
    let restored = web::block(move || {
        let log = export::log::parse(&body)?;
        export::log::restore(&engine, log)
    })
    .await
    .map_err(unavailable)?;
    let (board, events) = restored.map_err(|error| match error {
        export::log::ImportError::Exists(_) => ApiError::new(ErrorCode::BoardExists, error.to_string()),
        export::log::ImportError::Store(_) => unavailable(error),
        other => ApiError::new(ErrorCode::Malformed, other.to_string()),
    })?;
    tracing::info!(%board, events, "board restored from a log");
    Ok(HttpResponse::Created().json(Restored { board, events, links: board_links(&state, board)? }))
}

#[derive(Debug, Deserialize)]
pub struct TrelloQuery {
    /// The uploader's name; they become the new board's facilitator.
    name: String,
}

/// What a Trello import answers: the uploader's session on the new board, its links, and what
/// could not be brought.
#[derive(Debug, serde::Serialize)]
struct Imported {
    #[serde(flatten)]
    created: CreateBoardResponse,
    report: trello::TrelloReport,
}

/// `POST /api/import/trello?name=…` with a Trello board's JSON export as the body.
pub async fn import_trello(
    state: web::Data<AppState>,
    query: web::Query<TrelloQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let engine = state.boards.engine().clone();
    let name = query.into_inner().name;
    let imported =
        web::block(move || trello::import(&engine, &body, &name, crate::clock::now())).await.map_err(unavailable)?;
    let (report, facilitator) = imported.map_err(|error| match error {
        TrelloError::NotTrello(_) => ApiError::new(ErrorCode::Malformed, error.to_string()),
        TrelloError::Refused(_) => ApiError::new(ErrorCode::InvalidImport, error.to_string()),
        TrelloError::Store(_) => unavailable(error),
    })?;
    let board = report.board.ok_or_else(|| unavailable("the import made no board"))?;
    let token = state.access.issue_token(board, facilitator).map_err(|error| super::access_write_failed(&error))?;
    let links = board_links(&state, board)?;
    tracing::info!(%board, cards = report.cards, "board imported from Trello");
    let session = Session { board, participant: facilitator, role: Role::Facilitator, token };
    Ok(HttpResponse::Created().json(Imported { created: CreateBoardResponse { session, links }, report }))
}
