//! The WebSocket handshake: the `Origin` check happens here, before the upgrade (actix-ws does
//! none), so a page on another site cannot open a socket with a visitor's browser. The origins
//! allowed come from the configuration (the public URL and the allowlist), never from the
//! request's `Host` header: a DNS-rebinding page sends a `Host` of its own name.

use super::{ApiError, AppState, board_handle};
use crate::live::connection::{self, ConnectionSettings};
use actix_web::{HttpRequest, HttpResponse, web};
use kipina_proto::BoardId;
use kipina_proto::ErrorCode;
use std::sync::Arc;

/// `scheme://host[:port]` of a URL in lower case, without a default port or a path: the form
/// browsers send in `Origin`.
pub fn origin_of(url: &str) -> String {
    let url = url.trim().to_ascii_lowercase();
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url.as_str()));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = match scheme {
        "http" => authority.strip_suffix(":80").unwrap_or(authority),
        "https" => authority.strip_suffix(":443").unwrap_or(authority),
        _ => authority,
    };
    format!("{scheme}://{authority}")
}

/// Whether `origin` is one the server accepts WebSockets from: its public URL's, an allowlisted
/// one, or (with no public URL configured, on a loopback address) the loopback names of its port.
/// Never the request's own `Host`, which a DNS-rebinding page controls.
fn origin_allowed(state: &AppState, origin: &str) -> bool {
    // Browsers send `Origin` as scheme, host and port only (no default port, no path), which is
    // the form `own_origins` holds; anything else does not match.
    state.own_origins.contains(&origin.trim().to_ascii_lowercase())
}

pub async fn connect(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<BoardId>,
) -> Result<HttpResponse, ApiError> {
    let origin = request.headers().get(actix_web::http::header::ORIGIN).and_then(|value| value.to_str().ok());
    match origin {
        Some(origin) if origin_allowed(&state, origin) => {}
        other => {
            tracing::warn!(origin = ?other, "refused a WebSocket from a foreign or missing origin");
            return Err(ApiError::new(
                ErrorCode::ForbiddenOrigin,
                "WebSockets are accepted only from this server's own pages",
            ));
        }
    }
    let board = board_handle(&state, path.into_inner())?;
    let (response, link, stream) = crate::live::frames::accept(&request, body)
        .map_err(|error| ApiError::new(ErrorCode::Malformed, format!("not a WebSocket upgrade: {error}")))?;
    let settings = ConnectionSettings {
        heartbeat_interval: state.config.heartbeat_interval,
        client_timeout: state.config.client_timeout,
    };
    let (address, board_id, known) = (super::join::client_address(&request), board.board(), state.clone());
    let opened = Box::new(move || known.guesses.remember(address, board_id, std::time::Instant::now()));
    actix_web::rt::spawn(connection::run(
        Arc::clone(&state.boards),
        Arc::clone(&state.access),
        board,
        link,
        stream,
        settings,
        opened,
    ));
    Ok(response)
}
