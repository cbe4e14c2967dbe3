//! Invitations: what a link leads to, and joining a board with a display name.

use super::{ApiError, AppState, board_handle};
use crate::access::{AccessStore, Invitation, Verdict, WRONG_GUESS_INTERVAL_SECONDS};
use crate::projection::views::Viewer;
use actix_web::{HttpRequest, HttpResponse, web};
use kipina_proto::ErrorCode;
use kipina_proto::api::{InvitationInfo, JoinRequest, Session};
use kipina_proto::{BoardId, Command, CommandId, ParticipantId, Role};
use std::time::Instant;
use uuid::Uuid;

pub(super) fn client_address(request: &HttpRequest) -> std::net::IpAddr {
    request.peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |address| address.ip())
}

fn rate_limited() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        format!(
            "too many wrong join codes from this address: one more guess is allowed every {WRONG_GUESS_INTERVAL_SECONDS} \
             seconds; the board's link or QR code works at once"
        ),
    )
}

fn not_valid() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "this link or code is not valid")
}

fn unreadable(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "cannot read access records");
    ApiError::new(ErrorCode::Unavailable, "access records cannot be read right now")
}

/// What an invitation link leads to. Links carry 128-bit secrets, so they are never limited.
pub async fn invitation(
    request: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (board, role, secret) = path.into_inner();
    let invitation = state.access.link(&format!("{board}/{role}/{secret}")).ok_or_else(not_valid)?;
    let (view, _) = board_handle(&state, invitation.board)?.view(Viewer::Observer).await?;
    state.guesses.remember(client_address(&request), invitation.board, Instant::now());
    Ok(HttpResponse::Ok().json(InvitationInfo {
        board: invitation.board,
        title: view.info.title,
        role: invitation.role,
    }))
}

/// Reads an invitation: a link is right or wrong; a join code is judged against the wrong
/// guesses from the client's address (see `access::GuessLimiter`).
fn read_invitation(state: &AppState, request: &HttpRequest, text: &str) -> Result<Invitation, ApiError> {
    let address = client_address(request);
    if let Some(invitation) = state.access.link(text.trim()) {
        state.guesses.remember(address, invitation.board, Instant::now());
        return Ok(invitation);
    }
    let Some(code) = AccessStore::as_code(text) else { return Err(not_valid()) };
    let board = state.access.code_board(&code).map_err(unreadable)?;
    match (state.guesses.judge(address, board, Instant::now()), board) {
        (Verdict::Pass, Some(board)) => Ok(Invitation { board, role: Role::Participant }),
        (Verdict::Limited, _) => Err(rate_limited()),
        _ => Err(not_valid()),
    }
}

pub async fn join(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<JoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let JoinRequest { invitation, display_name, known_tokens } = body.into_inner();
    let invitation = read_invitation(&state, &request, &invitation)?;
    let board: BoardId = invitation.board;
    let handle = board_handle(&state, board)?;
    if let Some(session) = returning(&state, &handle, board, &known_tokens).await? {
        return Ok(HttpResponse::Ok().json(session));
    }
    let participant = ParticipantId(Uuid::now_v7());
    // The token is durable before the participant exists, so a crash in between leaves at most
    // an unused token, never a participant nobody can act as.
    let token = state.access.issue_token(board, participant).map_err(|error| super::access_write_failed(&error))?;
    let role = invitation.role;
    let command = Command::Join { display_name, role };
    if let Err(refused) = handle.execute(participant, CommandId(Uuid::now_v7()), command).await {
        if let Err(error) = state.access.revoke_token(&token) {
            tracing::error!(%error, "cannot withdraw the token of a refused join");
        }
        return Err(refused.into());
    }
    Ok(HttpResponse::Created().json(Session { board, participant, role, token }))
}

/// The session of a browser coming back: the first of its known tokens that belongs to `board`
/// and whose participant can still act there (not erased, not removed). Tokens of other boards
/// and unknown tokens are passed over without a word, so nothing is learnt from sending them.
async fn returning(
    state: &AppState,
    handle: &crate::live::BoardHandle,
    board: BoardId,
    known_tokens: &[String],
) -> Result<Option<Session>, ApiError> {
    for token in known_tokens.iter().take(JoinRequest::MAX_KNOWN_TOKENS) {
        let found = state.access.resolve_token(token.trim()).map_err(|error| {
            tracing::error!(%error, "cannot read access records");
            ApiError::new(ErrorCode::Unavailable, "access records cannot be read right now")
        })?;
        let Some((token_board, participant)) = found else { continue };
        if token_board != board {
            continue;
        }
        let role = handle.inspect(move |board| board.active_participant(participant).map(|found| found.role)).await?;
        if let Some(role) = role {
            return Ok(Some(Session { board, participant, role, token: token.trim().to_owned() }));
        }
    }
    Ok(None)
}
