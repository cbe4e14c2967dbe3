//! `docs/ARCHITECTURE.md` states which crates the wire format and the pure domain core may depend
//! on ("`kipina-domain` depends on: `jiff`, …"). Those sentences are the architecture's promise, so
//! they are checked against what Cargo resolves: a new dependency of either crate fails here until
//! the document says so (and whoever adds it has to argue that it keeps the crate pure).

use regex_lite::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Each crate's normal (not dev or build) dependencies, as `cargo metadata` resolves them.
fn dependencies_by_cargo() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--locked"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let mut crates = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("a list of packages") {
        let normal = package["dependencies"]
            .as_array()
            .expect("a list of dependencies")
            .iter()
            .filter(|dependency| dependency["kind"].is_null())
            .map(|dependency| dependency["name"].as_str().expect("a name").to_owned())
            .collect();
        crates.insert(package["name"].as_str().expect("a name").to_owned(), normal);
    }
    crates
}

/// Every "`crate` depends on: `a`, `b`, `c`" in the architecture document (the sentence may wrap).
fn dependencies_by_document() -> BTreeMap<String, BTreeSet<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ARCHITECTURE.md");
    let text = std::fs::read_to_string(path).expect("docs/ARCHITECTURE.md is readable");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let claim = Regex::new(r"`(kipina-[a-z]+)` depends on: ((?:`[a-z0-9_-]+`(?:, )?)+)").expect("a pattern");
    let name = Regex::new(r"`([a-z0-9_-]+)`").expect("a pattern");
    claim
        .captures_iter(&text)
        .map(|claim| {
            let names = name.captures_iter(&claim[2]).map(|found| found[1].to_owned()).collect();
            (claim[1].to_owned(), names)
        })
        .collect()
}

#[test]
fn the_documented_dependencies_of_the_pure_crates_are_the_real_ones() {
    let documented = dependencies_by_document();
    let resolved = dependencies_by_cargo();
    for pure in ["kipina-proto", "kipina-domain"] {
        let promised = documented.get(pure).unwrap_or_else(|| panic!("ARCHITECTURE.md names {pure}'s dependencies"));
        let actual = resolved.get(pure).unwrap_or_else(|| panic!("{pure} is in the workspace"));
        assert_eq!(
            actual, promised,
            "{pure}'s dependencies differ from docs/ARCHITECTURE.md: Cargo.toml has {actual:?}, the document \
             promises {promised:?}"
        );
    }
}

#[test]
fn the_domain_core_depends_on_no_io_crate() {
    // The document's list could be edited along with Cargo.toml; this part cannot: the domain
    // may not name one of the server's I/O crates (uuid is allowed although its `v7` feature can
    // draw random ids: the domain takes ids from commands, and review keeps it so).
    let resolved = dependencies_by_cargo();
    let domain = &resolved["kipina-domain"];
    let workspace_crates: BTreeSet<&str> = resolved.keys().map(String::as_str).collect();
    for forbidden in ["sled", "actix-web", "actix-ws", "tokio", "getrandom", "kipina-server"] {
        assert!(!domain.contains(forbidden), "kipina-domain must not depend on {forbidden}");
    }
    for dependency in domain {
        if workspace_crates.contains(dependency.as_str()) {
            assert_eq!(dependency, "kipina-proto", "the domain may only build on the wire format");
        }
    }
}

#[test]
fn every_path_the_architecture_document_names_exists() {
    // The code map names files and folders from the repository's root (`server/src/live/`); a
    // move that forgets the document fails here.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md is readable");
    let path = Regex::new(r"`((?:server|proto|domain|web|tests|bench|powercut|docs|scripts|fuzz)/[A-Za-z0-9_./-]*)`")
        .expect("a pattern");
    let named: BTreeSet<&str> = path.captures_iter(&text).map(|found| found.get(1).expect("a path").as_str()).collect();
    assert!(named.len() > 20, "the code map names paths: {named:?}");
    let missing: Vec<&&str> = named.iter().filter(|named| !root.join(named.trim_end_matches('/')).exists()).collect();
    assert!(missing.is_empty(), "docs/ARCHITECTURE.md names paths that do not exist: {missing:?}");
}
