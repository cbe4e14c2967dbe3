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
    ApiError::new("rate_limited", "too many attempts; wait a minute and try again")
}

pub async fn invitation(
    request: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    if !state.join_limiter.allow(&client_address(&request), Instant::now()) {
        return Err(rate_limited());
    }
    let (board, role, secret) = path.into_inner();
    let invitation = state
        .access
        .link(&format!("{board}/{role}/{secret}"))
        .ok_or_else(|| ApiError::new("not_found", "this link is not valid"))?;
    let (view, _) = board_handle(&state, invitation.board)?.view().await?;
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
    if !state.join_limiter.allow(&client_address(&request), Instant::now()) {
        return Err(rate_limited());
    }
    let JoinRequest { invitation, display_name } = body.into_inner();
    let invitation = state
        .access
        .invitation(&invitation)
        .map_err(|error| {
            tracing::error!(%error, "cannot read access records");
            ApiError::new("unavailable", "access records cannot be read right now")
        })?
        .ok_or_else(|| ApiError::new("not_found", "this link or code is not valid"))?;
    let board: BoardId = invitation.board;
    let handle = board_handle(&state, board)?;
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
