//! Liveness and metrics.

use super::AppState;
use crate::store::EventStore;
use actix_web::{HttpResponse, web};

/// `200 ok` while the server serves. Boards in quarantine (damaged, not served) do not make it
/// unhealthy, since the others are served, but they are named in the answer. A store that has
/// stopped accepting writes (a failed write or sync) makes it `503` with the reason and what to
/// do; so does a disk too full to write on (looked at anew at every call, so it is `200` again
/// as soon as space is freed), and damage found after the start that names no board (the store's
/// background check), which also stops the store's writes. Boards are still read either way.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let store = state.boards.engine().store();
    if let Some(failure) = store.failure() {
        let remedy = crate::disk_space::explain_failure(&failure)
            .unwrap_or("free disk space or fix the disk, then restart the server");
        return HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!(
            "failing: the event store stopped accepting changes ({failure}). Boards can still be read. \
             To go on: {remedy}; it goes on from what was saved."
        ));
    }
    if let Some(full) = store.disk_full().or_else(|| state.access.disk_full()) {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body(format!("failing: {full}."));
    }
    if let Some(damage) = store.unpinned_damage() {
        let found: Vec<String> = damage.iter().take(5).map(ToString::to_string).collect();
        return HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!(
            "failing: the check of the event log found damage that cannot be pinned on single boards, so the \
             server stopped accepting changes ({}{}). Boards that passed their check can still be read. Stop the \
             server, run `kipina verify` on a copy of the data directory, and restore it from a backup (or restore \
             each board from its JSON export with `kipina import-log`).",
            found.join("; "),
            if damage.len() > found.len() {
                format!("; and {} more", damage.len() - found.len())
            } else {
                String::new()
            }
        ));
    }
    let damaged = store.damaged_boards();
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
    let compacted = state.boards.engine().store().compacted_events();
    metrics.events_compacted.set(i64::try_from(compacted).unwrap_or(i64::MAX));
    // -1 until the background check has counted them.
    let outside = state.boards.engine().store().tidy_estimate().map(|estimate| estimate.outside_chunks);
    metrics.events_outside_chunks.set(outside.map_or(-1, |outside| i64::try_from(outside).unwrap_or(i64::MAX)));
    HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(metrics.render())
}
