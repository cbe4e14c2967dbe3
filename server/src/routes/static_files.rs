//! The web client, embedded into the binary from `web/dist` (built by `build.rs`). Any path
//! that is not an API route or a built file gets `index.html`, so the client's own routes
//! (`/join/…`, `/b/…`) work when opened directly or reloaded.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../web/dist"]
#[allow_missing = true]
struct WebClient;

/// Shown when the binary was built without its client (`KIPINA_SKIP_WEB_BUILD`).
const NOT_BUILT: &str = "<!doctype html><html lang=\"fi\"><meta charset=\"utf-8\"><title>Kipinä</title>\
<p>Kipinän selainsovellusta ei ole käännetty tähän ohjelmaan. The web client is not built into this binary; \
build it with npm in web/ (see README.md).</p></html>";

pub async fn serve(request: HttpRequest) -> HttpResponse {
    let path = request.path().trim_start_matches('/');
    if path.starts_with("api/") {
        return HttpResponse::NotFound()
            .json(kipina_proto::api::ErrorBody { code: "not_found".into(), message: "no such API route".into() });
    }
    if let Some(file) = (!path.is_empty()).then(|| WebClient::get(path)).flatten() {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        // Vite names built assets by their content hash, so they never change under a name.
        let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        return HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, mime.essence_str().to_owned()))
            .insert_header((CACHE_CONTROL, cache))
            .body(file.data.into_owned());
    }
    match WebClient::get("index.html") {
        Some(index) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((CACHE_CONTROL, "no-cache"))
            .body(index.data.into_owned()),
        None => HttpResponse::Ok().insert_header((CONTENT_TYPE, "text/html; charset=utf-8")).body(NOT_BUILT),
    }
}
