//! Creating boards, reading them, their links, and commands over HTTP.

use super::extract::{Facilitator, Links, Participant, Reader};
use super::{ApiError, AppState};
use crate::projection::views::Viewer;
use actix_web::{HttpRequest, HttpResponse, web};
use kipina_domain::templates;
use kipina_proto::ErrorCode;
use kipina_proto::api::{
    BoardLinks, CommandRequest, CommandResponse, CreateBoardRequest, CreateBoardResponse, Session,
};
use kipina_proto::{BoardId, ColumnId, Command, CommandId, ParticipantId, Role};
use uuid::Uuid;

/// The links of a board, as full URLs.
pub fn board_links(state: &AppState, board: BoardId) -> Result<BoardLinks, ApiError> {
    let join_code = match state.access.join_code(board) {
        Ok(Some(code)) => code,
        Ok(None) => state.access.register_board(board).map_err(|error| super::access_write_failed(&error))?,
        Err(error) => return Err(unavailable(error)),
    };
    let url = |role| format!("{}{}", state.public_url, state.access.link_path(board, role));
    Ok(BoardLinks {
        facilitator: url(Role::Facilitator),
        participant: url(Role::Participant),
        observer: url(Role::Observer),
        join_code,
    })
}

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "access records failed");
    ApiError::new(ErrorCode::Unavailable, "access records cannot be written right now")
}

pub async fn create(
    http: HttpRequest,
    state: web::Data<AppState>,
    request: web::Json<CreateBoardRequest>,
) -> Result<HttpResponse, ApiError> {
    let CreateBoardRequest { title, description, language, facilitator_name, template } = request.into_inner();
    let board = BoardId(Uuid::now_v7());
    let facilitator = ParticipantId(Uuid::now_v7());
    let handle = state.boards.start_new(board);
    let command = Command::CreateBoard { title, description, language, facilitator_name };
    handle.execute(facilitator, CommandId(Uuid::now_v7()), command).await?;
    for title in templates::columns(template, language) {
        let column = Command::AddColumn { column: ColumnId(Uuid::now_v7()), title: (*title).to_owned() };
        handle.execute(facilitator, CommandId(Uuid::now_v7()), column).await?;
    }
    let token = state.access.issue_token(board, facilitator).map_err(|error| super::access_write_failed(&error))?;
    let links = board_links(&state, board)?;
    state.guesses.remember(super::join::client_address(&http), board, std::time::Instant::now());
    tracing::info!(%board, "board created");
    Ok(HttpResponse::Created().json(CreateBoardResponse {
        session: Session { board, participant: facilitator, role: Role::Facilitator, token },
        links,
    }))
}

/// The board as its reader sees it: a participant by their token, or the observer link (as for
/// search and activity). A participant no longer on the board is `unauthorized`.
pub async fn view(reader: Reader) -> Result<HttpResponse, ApiError> {
    match (reader.viewer, reader.board.view(reader.viewer).await?) {
        (Viewer::Participant(_), (_, None)) => Err(ApiError::unauthorized()),
        (_, (view, _)) => Ok(HttpResponse::Ok().json(view)),
    }
}

pub async fn links(state: web::Data<AppState>, facilitator: Facilitator<Links>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(board_links(&state, facilitator.board.board())?))
}

/// Which of the board's links a QR code is made of.
#[derive(Debug, serde::Deserialize)]
pub struct QrQuery {
    link: Role,
}

/// A board's join link as a QR code (SVG), for the projector and the share dialog. Facilitators
/// only, since the links are theirs to hand out.
pub async fn qr(
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
    query: web::Query<QrQuery>,
    _facilitator: Facilitator<Links>,
) -> Result<HttpResponse, ApiError> {
    let links = board_links(&state, path.into_inner())?;
    let link = match query.link {
        Role::Facilitator => links.facilitator,
        Role::Participant => links.participant,
        Role::Observer => links.observer,
    };
    let svg = qr_svg(&link).map_err(|error| ApiError::new(ErrorCode::TooLarge, error.to_string()))?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").insert_header(("Cache-Control", "private, no-store")).body(svg))
}

/// `text` as a QR code in SVG: black modules on white with the standard quiet zone, scalable
/// (no fixed size), medium error correction so a projector's glare does not spoil it.
pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(256, 256)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// A command over HTTP, from a participant. A malformed body is answered before who sent it is
/// judged (the sender comes as a `Result` for that, since extractors run side by side).
pub async fn command(
    state: web::Data<AppState>,
    body: web::Json<CommandRequest>,
    sender: Result<Participant, actix_web::Error>,
) -> Result<HttpResponse, actix_web::Error> {
    let sender = sender?;
    if state.boards.is_stopping() {
        return Err(ApiError::new(ErrorCode::ShuttingDown, crate::live::connection::SHUTTING_DOWN).into());
    }
    let CommandRequest { command_id, command } = body.into_inner();
    let outcome = sender.board.execute(sender.participant, command_id, command).await.map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(CommandResponse { command_id, outcome }))
}
