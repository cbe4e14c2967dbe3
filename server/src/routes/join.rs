//! Invitations: what a link leads to, and joining a board with a display name.

use super::{ApiError, AppState, board_handle};
use actix_web::{HttpRequest, HttpResponse, web};
use kipina_proto::api::{InvitationInfo, JoinRequest, Session};
use kipina_proto::{BoardId, Command, CommandId, ParticipantId};
use std::time::Instant;
use uuid::Uuid;

fn client_address(request: &HttpRequest) -> std::net::IpAddr {
    request.peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |address| address.ip())
}

fn rate_limited() -> ApiError {
    ApiError::new("rate_limited", "too many wrong links or codes from here; wait a minute and try again")
}

/// Refuses a client address that has guessed wrong too often. Only failures count: a whole
/// workshop behind one venue Wi-Fi address must be able to join at once.
fn check_guesses(state: &AppState, request: &HttpRequest) -> Result<(), ApiError> {
    if state.join_limiter.is_exhausted(&client_address(request), Instant::now()) { Err(rate_limited()) } else { Ok(()) }
}

fn wrong_guess(state: &AppState, request: &HttpRequest) -> ApiError {
    state.join_limiter.allow(&client_address(request), Instant::now());
    ApiError::new("not_found", "this link or code is not valid")
}

pub async fn invitation(
    request: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    check_guesses(&state, &request)?;
    let (board, role, secret) = path.into_inner();
    let invitation =
        state.access.link(&format!("{board}/{role}/{secret}")).ok_or_else(|| wrong_guess(&state, &request))?;
    let (view, _) = board_handle(&state, invitation.board)?.view(None).await?;
    Ok(HttpResponse::Ok().json(InvitationInfo {
        board: invitation.board,
        title: view.info.title,
        role: invitation.role,
    }))
}

pub async fn join(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<JoinRequest>,
) -> Result<HttpResponse, ApiError> {
    check_guesses(&state, &request)?;
    let JoinRequest { invitation, display_name, known_tokens } = body.into_inner();
    let invitation = state
        .access
        .invitation(&invitation)
        .map_err(|error| {
            tracing::error!(%error, "cannot read access records");
            ApiError::new("unavailable", "access records cannot be read right now")
        })?
        .ok_or_else(|| wrong_guess(&state, &request))?;
    let board: BoardId = invitation.board;
    let handle = board_handle(&state, board)?;
    if let Some(session) = returning(&state, &handle, board, &known_tokens).await? {
        return Ok(HttpResponse::Ok().json(session));
    }
    let participant = ParticipantId(Uuid::now_v7());
    // The token is durable before the participant exists, so a crash in between leaves at most
    // an unused token, never a participant nobody can act as.
    let token = state.access.issue_token(board, participant).map_err(|error| {
        tracing::error!(%error, "cannot write access records");
        ApiError::new("unavailable", "access records cannot be written right now")
    })?;
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
            ApiError::new("unavailable", "access records cannot be read right now")
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
