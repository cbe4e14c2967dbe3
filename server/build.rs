//! Builds the web client into `web/dist` when it is missing or older than its sources, so that
//! on a fresh clone `cargo run --release` serves a working client with no manual npm step. The
//! `kipina` binary embeds `web/dist` (see `src/routes/static_files.rs`).
//!
//! Set `KIPINA_SKIP_WEB_BUILD=1` to use whatever `web/dist` holds (or nothing) without running
//! npm; the server then answers pages with a short note that the client is not built.

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
    if skip || !web.join("package.json").exists() {
        return;
    }
    let dist = web.join("dist");
    if newest(&web.join("dist")).is_some_and(|built| {
        SOURCES.iter().filter_map(|source| newest(&web.join(source))).all(|changed| changed <= built)
    }) {
        return;
    }
    if !web.join("node_modules").exists() {
        npm(&web, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(&web, &["run", "build"]);
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
