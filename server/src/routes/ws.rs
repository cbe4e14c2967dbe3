//! The WebSocket handshake: the `Origin` check happens here, before the upgrade (actix-ws does
//! none), so a page on another site cannot open a socket with a visitor's browser.

use super::{ApiError, AppState, board_handle};
use crate::live::connection::{self, ConnectionSettings};
use actix_web::{HttpRequest, HttpResponse, web};
use kipina_proto::BoardId;
use std::sync::Arc;

/// Whether `origin` is this server's own (as the client reached it) or allowlisted.
fn origin_allowed(request: &HttpRequest, state: &AppState, origin: &str) -> bool {
    if state.config.allowed_origins.iter().any(|allowed| allowed == origin) || origin == state.public_url {
        return true;
    }
    let host = request.connection_info().host().to_owned();
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

pub async fn connect(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
) -> Result<HttpResponse, ApiError> {
    let origin = request.headers().get(actix_web::http::header::ORIGIN).and_then(|value| value.to_str().ok());
    match origin {
        Some(origin) if origin_allowed(&request, &state, origin) => {}
        other => {
            tracing::warn!(origin = ?other, "refused a WebSocket from a foreign or missing origin");
            return Err(ApiError::new("forbidden_origin", "WebSockets are accepted only from this server's own pages"));
        }
    }
    let board = board_handle(&state, path.into_inner())?;
    let (response, session, stream) = actix_ws::handle(&request, body)
        .map_err(|error| ApiError::new("malformed", format!("not a WebSocket upgrade: {error}")))?;
    let settings = ConnectionSettings {
        heartbeat_interval: state.config.heartbeat_interval,
        client_timeout: state.config.client_timeout,
    };
    actix_web::rt::spawn(connection::run(
        Arc::clone(&state.boards),
        Arc::clone(&state.access),
        board,
        session,
        stream,
        settings,
    ));
    Ok(response)
}
