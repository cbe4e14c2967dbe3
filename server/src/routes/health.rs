//! Liveness and metrics.

use super::AppState;
use actix_web::{HttpResponse, web};

/// `200 ok` while the server serves. Boards in quarantine (damaged, not served) do not make it
/// unhealthy, since the others are served, but they are named in the answer.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let damaged = state.boards.engine().store().damaged_boards();
    let body = if damaged.is_empty() {
        "ok".to_owned()
    } else {
        let boards: Vec<String> = damaged.iter().map(|(board, _)| board.to_string()).collect();
        format!(
            "ok; {} damaged board(s) quarantined and not served: {} (see the server log)",
            damaged.len(),
            boards.join(", ")
        )
    };
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(body)
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let metrics = state.boards.metrics();
    let damaged = state.boards.engine().store().damaged_boards().len();
    metrics.boards_damaged.set(i64::try_from(damaged).unwrap_or(i64::MAX));
    HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(metrics.render())
}
