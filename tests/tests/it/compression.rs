//! Compressed answers: the web client's files in their build-time brotli and gzip forms, and the
//! board's JSON, history and exports compressed when the client asks — each decoded here with
//! its own crate and compared with the plain answer. Zip files (xlsx, docx) are never compressed
//! again, and the WebSocket still opens.

use kipina_tests::{TestServer, Workshop, WsClient, add_card};
use std::io::Read;

/// An answer's status, `Content-Encoding`, `Vary` and body bytes as they came over the wire.
struct Wire {
    status: u16,
    encoding: Option<String>,
    vary: Option<String>,
    body: Vec<u8>,
}

/// GET `path`, asking for `accept` (nothing when `None`), with the facilitator's token if given.
async fn get(server: &TestServer, path: &str, accept: Option<&str>, token: Option<&str>) -> Wire {
    // The harness's client does not decode (reqwest without its compression features), so the
    // bytes are the ones on the wire.
    let mut request = server.http().get(format!("{}{path}", server.base_url()));
    if let Some(accept) = accept {
        request = request.header("Accept-Encoding", accept);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answered");
    let header = |name: &str| response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let (status, encoding, vary) = (response.status().as_u16(), header("content-encoding"), header("vary"));
    Wire { status, encoding, vary, body: response.bytes().await.expect("a body").to_vec() }
}

/// The answer without the Markdown summary's "Viety: <minute>" (two requests may straddle a
/// minute); every other byte must be the same.
fn without_export_time(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    text.lines().filter(|line| !line.starts_with("Viety: ")).collect::<Vec<_>>().join("\n").into_bytes()
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).expect("valid brotli");
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("valid gzip");
    out
}

/// Asks for `path` plainly, as brotli, as gzip and as Chromium does; each decodes to the plain
/// answer, brotli is smallest. Returns the plain, brotli and gzip sizes.
async fn every_encoding(server: &TestServer, path: &str, token: Option<&str>) -> (usize, usize, usize) {
    let same = |a: &[u8], b: &[u8]| without_export_time(a) == without_export_time(b);
    let plain = get(server, path, None, token).await;
    assert_eq!(plain.status, 200, "{path}");
    assert_eq!(plain.encoding, None, "{path} is plain when nothing is asked for");
    let identity = get(server, path, Some("identity"), token).await;
    assert_eq!((identity.encoding, same(&identity.body, &plain.body)), (None, true), "{path}");

    let br = get(server, path, Some("br"), token).await;
    assert_eq!(br.encoding.as_deref(), Some("br"), "{path}");
    assert!(same(&unbrotli(&br.body), &plain.body), "{path}: brotli decodes to the plain answer");
    let gzip = get(server, path, Some("gzip"), token).await;
    assert_eq!(gzip.encoding.as_deref(), Some("gzip"), "{path}");
    assert!(same(&gunzip(&gzip.body), &plain.body), "{path}: gzip decodes to the plain answer");
    for answer in [&plain, &br, &gzip] {
        assert!(
            answer.vary.as_deref().is_some_and(|vary| vary.to_ascii_lowercase().contains("accept-encoding")),
            "{path}: {:?}",
            answer.vary
        );
    }
    // What Chromium sends; brotli refused by quality zero.
    let chromium = get(server, path, Some("gzip, deflate, br, zstd"), token).await;
    assert_eq!(chromium.encoding.as_deref(), Some("br"), "{path}: brotli is preferred");
    let no_br = get(server, path, Some("br;q=0, gzip"), token).await;
    assert_eq!(no_br.encoding.as_deref(), Some("gzip"), "{path}");
    assert!(br.body.len() < plain.body.len() && gzip.body.len() < plain.body.len(), "{path}");
    (plain.body.len(), br.body.len(), gzip.body.len())
}

#[tokio::test]
async fn the_web_clients_files_come_precompressed_by_what_the_browser_accepts() {
    let server = TestServer::start().await;
    let index = String::from_utf8(get(&server, "/", None, None).await.body).expect("the page");
    let script = index
        .split('"')
        .find(|part| part.starts_with("/assets/") && part.ends_with(".js"))
        .unwrap_or_else(|| panic!("the page loads its script (is web/dist built?): {index}"))
        .to_owned();
    let (plain, br, gzip) = every_encoding(&server, &script, None).await;
    assert!(br < gzip, "brotli at its best beats gzip: {br} vs {gzip} of {plain}");
    // Precompressed at build time: the brotli form is the best quality's, the same bytes each time.
    let again = get(&server, &script, Some("br"), None).await;
    assert_eq!(unbrotli(&again.body).len(), plain);
    assert_eq!(again.body.len(), br);
}

#[tokio::test]
async fn board_json_history_and_text_exports_are_compressed_when_asked_and_zip_files_never() {
    let server = TestServer::start_with(|config| config.max_commands_per_second = 100_000).await;
    let workshop = Workshop::open(&server).await;
    let token = workshop.facilitator.token.clone();
    for number in 0..60 {
        let (_, command) = add_card(workshop.column, &format!("Kortti {number}: kyläkoulun tilat iltakäyttöön"));
        server.http_applied(workshop.board, &token, &command).await;
    }
    let board = workshop.board;
    for path in [
        format!("/api/boards/{board}"),
        format!("/api/boards/{board}/activity"),
        format!("/api/boards/{board}/export?format=md"),
        format!("/api/boards/{board}/export?format=csv"),
    ] {
        every_encoding(&server, &path, Some(&token)).await;
    }
    // A workbook and a Word document are zip files: sent as they are whatever is asked.
    for format in ["xlsx", "docx"] {
        let path = format!("/api/boards/{board}/export?format={format}");
        let zipped = get(&server, &path, Some("br, gzip"), Some(&token)).await;
        assert_eq!(zipped.status, 200);
        assert!(
            zipped.encoding.as_deref().is_none_or(|encoding| encoding == "identity"),
            "{format}: {:?}",
            zipped.encoding
        );
        assert!(zipped.body.starts_with(b"PK"), "{format} is the zip file itself");
    }
    // The WebSocket is not behind the compression: it opens and says who is there.
    let client = WsClient::connect(&server, board, &token, None).await;
    assert_eq!(client.you, Some(workshop.facilitator.participant));
}
