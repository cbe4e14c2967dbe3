//! Builds the web client into `web/dist` when it is missing or older than its sources, so that
//! on a fresh clone `cargo run --release` serves a working client with no manual npm step. The
//! `kipina` binary embeds `web/dist` (see `src/routes/static_files.rs`).
//!
//! Set `KIPINA_SKIP_WEB_BUILD=1` to use whatever `web/dist` holds (or nothing) without running
//! npm; the server then answers pages with a short note that the client is not built.
//!
//! It then compresses the client's text files (brotli at its best quality, and gzip) into
//! `OUT_DIR/precompressed/` and writes `OUT_DIR/precompressed.rs`, a table the server embeds
//! and serves by the browser's `Accept-Encoding` — compressed once here, never per request.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// What the client's build reads; a change to any of these rebuilds it.
const SOURCES: &[&str] = &[
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "svelte.config.js",
    "tsconfig.json",
];

fn main() {
    let web = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("../web");
    println!("cargo:rerun-if-env-changed=KIPINA_SKIP_WEB_BUILD");
    for source in SOURCES {
        println!("cargo:rerun-if-changed={}", web.join(source).display());
    }
    println!("cargo:rerun-if-changed={}", web.join("dist").display());
    let skip = std::env::var_os("KIPINA_SKIP_WEB_BUILD").is_some_and(|value| value != "0");
    if !skip && web.join("package.json").exists() {
        build_client(&web);
    }
    precompress(&web.join("dist"));
    poly1305_backend();
}

/// Whether poly1305 is built with its portable backend (`--cfg poly1305_force_soft`, set in
/// `.cargo/config.toml`), which a `RUSTFLAGS` environment variable silently drops: said to the
/// code as `KIPINA_POLY1305_PORTABLE` (1 or 0) and, when it is dropped on x86, as a warning.
fn poly1305_backend() {
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags: Vec<&str> = flags.split('\x1f').collect();
    let portable = flags.windows(2).any(|pair| pair[0] == "--cfg" && pair[1] == "poly1305_force_soft")
        || flags.contains(&"--cfg=poly1305_force_soft");
    println!("cargo:rustc-env=KIPINA_POLY1305_PORTABLE={}", u8::from(portable));
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if !portable && (arch == "x86_64" || arch == "x86") {
        println!(
            "cargo:warning=poly1305 is built without `--cfg poly1305_force_soft` (a RUSTFLAGS environment variable \
             replaces the flags in .cargo/config.toml): opening sealed fields, and so replays, are slower; add the flag \
             to RUSTFLAGS"
        );
    }
}

fn build_client(web: &Path) {
    let dist = web.join("dist");
    if newest(&web.join("dist")).is_some_and(|built| {
        SOURCES.iter().filter_map(|source| newest(&web.join(source))).all(|changed| changed <= built)
    }) {
        return;
    }
    if !web.join("node_modules").exists() {
        npm(web, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(web, &["run", "build"]);
    if !dist.join("index.html").exists() {
        panic!("the web client's build finished but wrote no {}", dist.join("index.html").display());
    }
}

/// Runs npm in `dir`, failing the build with a clear message when npm is missing or fails.
fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm").args(args).current_dir(dir).status().unwrap_or_else(|error| {
        panic!(
            "building the web client needs npm (Node.js 20 or newer), which could not be run: {error}.\n\
             Install Node.js and npm, or set KIPINA_SKIP_WEB_BUILD=1 to build the server without its client."
        )
    });
    if !status.success() {
        panic!("`npm {}` in {} failed ({status}); see its output above", args.join(" "), dir.display());
    }
}

/// The newest modification time of a file, or of any file under a directory.
fn newest(path: &Path) -> Option<SystemTime> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_dir() {
        return metadata.modified().ok();
    }
    std::fs::read_dir(path).ok()?.filter_map(Result::ok).filter_map(|entry| newest(&entry.path())).max()
}

/// The kinds of file worth compressing (images and fonts are compressed already).
const COMPRESSIBLE: &[&str] = &["js", "mjs", "css", "html", "svg", "json", "webmanifest", "txt", "map", "xml"];

/// Files smaller than this are sent as they are: compressing them saves less than it costs.
const SMALLEST: usize = 1024;

/// Writes the brotli and gzip forms of `dist`'s text files into `OUT_DIR` and a table of them.
/// A compressed form that is not smaller than the file is left out.
fn precompress(dist: &Path) {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let folder = out.join("precompressed");
    let _ = std::fs::remove_dir_all(&folder);
    let mut files = Vec::new();
    list(dist, dist, &mut files);
    // Sorted by the names the server looks up (it searches the table by halves).
    files.sort_by_key(|relative| relative.to_string_lossy().replace('\\', "/"));
    let mut table = String::from(
        "/// The compressed forms of web/dist's text files, made by build.rs.\n\
         pub static PRECOMPRESSED: &[Precompressed] = &[\n",
    );
    for relative in files {
        let name = relative.to_string_lossy().replace('\\', "/");
        let extension = relative.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        if !COMPRESSIBLE.contains(&extension.as_str()) {
            continue;
        }
        let data = std::fs::read(dist.join(&relative)).unwrap_or_else(|e| panic!("reading {name}: {e}"));
        if data.len() < SMALLEST {
            continue;
        }
        let brotli = brotli_of(&data);
        let gzip = gzip_of(&data);
        let mut entry = format!("    Precompressed {{ path: {name:?}, ");
        for (field, suffix, compressed) in [("brotli", "br", brotli), ("gzip", "gz", gzip)] {
            if compressed.len() < data.len() {
                let path = folder.join(format!("{name}.{suffix}"));
                std::fs::create_dir_all(path.parent().expect("a file has a folder")).expect("OUT_DIR is writable");
                std::fs::write(&path, compressed).expect("OUT_DIR is writable");
                entry.push_str(&format!("{field}: Some(include_bytes!({:?})), ", path.display().to_string()));
            } else {
                entry.push_str(&format!("{field}: None, "));
            }
        }
        entry.push_str("},\n");
        table.push_str(&entry);
    }
    table.push_str("];\n");
    std::fs::write(out.join("precompressed.rs"), table).expect("OUT_DIR is writable");
}

/// The files under `folder`, relative to `root`.
fn list(root: &Path, folder: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            list(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push(relative.to_owned());
        }
    }
}

fn brotli_of(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params).expect("compressing in memory");
    out
}

fn gzip_of(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("compressing in memory");
    encoder.finish().expect("compressing in memory")
}
