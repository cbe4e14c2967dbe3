//! The web client, embedded into the binary from `web/dist` (built by `build.rs`). Any path
//! that is not an API route or a built file gets `index.html`, so the client's own routes
//! (`/join/…`, `/b/…`) work when opened directly or reloaded.
//!
//! Text files also come in brotli and gzip forms made at build time (`build.rs`); a browser that
//! accepts one gets it with `Content-Encoding`, and every such file's answer says
//! `Vary: Accept-Encoding` so caches keep the forms apart.

use actix_web::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use actix_web::{HttpRequest, HttpResponse};
use kipina_proto::ErrorCode;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../web/dist"]
#[allow_missing = true]
struct WebClient;

/// A built file's compressed forms (a form no smaller than the file is left out).
#[derive(Debug)]
struct Precompressed {
    path: &'static str,
    brotli: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
}

mod precompressed {
    use super::Precompressed;
    include!(concat!(env!("OUT_DIR"), "/precompressed.rs"));
}

/// The compressed forms of a built file, when it has any.
fn forms(path: &str) -> Option<&'static Precompressed> {
    let table = precompressed::PRECOMPRESSED;
    table.binary_search_by(|found| found.path.cmp(path)).ok().map(|index| &table[index])
}

/// Whether the request's `Accept-Encoding` accepts `coding`: named with a quality above zero,
/// or covered by `*` when not named.
pub(crate) fn accepts(request: &HttpRequest, coding: &str) -> bool {
    let mut star = false;
    for header in request.headers().get_all(ACCEPT_ENCODING).filter_map(|value| value.to_str().ok()) {
        for item in header.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let quality = parts
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(coding) || (coding == "gzip" && name.eq_ignore_ascii_case("x-gzip")) {
                return quality > 0.0;
            }
            if name == "*" {
                star = quality > 0.0;
            }
        }
    }
    star
}

/// A built file, in the best form the browser accepts (brotli, then gzip, then as it is).
fn file_answer(request: &HttpRequest, path: &str, data: Vec<u8>, content_type: &str, cache: &str) -> HttpResponse {
    let mut answer = HttpResponse::Ok();
    answer.insert_header((CONTENT_TYPE, content_type.to_owned())).insert_header((CACHE_CONTROL, cache.to_owned()));
    let Some(forms) = forms(path) else { return answer.body(data) };
    answer.insert_header((VARY, "Accept-Encoding"));
    if let Some(brotli) = forms.brotli.filter(|_| accepts(request, "br")) {
        return answer.insert_header((CONTENT_ENCODING, "br")).body(brotli);
    }
    if let Some(gzip) = forms.gzip.filter(|_| accepts(request, "gzip")) {
        return answer.insert_header((CONTENT_ENCODING, "gzip")).body(gzip);
    }
    answer.body(data)
}

/// Shown when the binary was built without its client (`KIPINA_SKIP_WEB_BUILD`).
const NOT_BUILT: &str = "<!doctype html><html lang=\"fi\"><meta charset=\"utf-8\"><title>Kipinä</title>\
<p>Kipinän selainsovellusta ei ole käännetty tähän ohjelmaan. The web client is not built into this binary; \
build it with npm in web/ (see README.md).</p></html>";

pub async fn serve(request: HttpRequest) -> HttpResponse {
    let path = request.path().trim_start_matches('/');
    if path.starts_with("api/") {
        return HttpResponse::NotFound()
            .json(kipina_proto::api::ErrorBody { code: ErrorCode::NotFound, message: "no such API route".into() });
    }
    if let Some(file) = (!path.is_empty()).then(|| WebClient::get(path)).flatten() {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        // Vite names built assets by their content hash, so they never change under a name.
        let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        return file_answer(&request, path, file.data.into_owned(), mime.essence_str(), cache);
    }
    match WebClient::get("index.html") {
        Some(index) => {
            file_answer(&request, "index.html", index.data.into_owned(), "text/html; charset=utf-8", "no-cache")
        }
        None => HttpResponse::Ok().insert_header((CONTENT_TYPE, "text/html; charset=utf-8")).body(NOT_BUILT),
    }
}
