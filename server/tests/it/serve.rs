//! `kipina serve` as a process: it prints where it listens, keeps credentials out of its logs
//! even at the most verbose level, stops cleanly on SIGTERM, and a second server (or any other
//! command) pointed at the same data directory is told that the directory is in use.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A bare HTTP/1.1 request; the test needs nothing more than status and body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts connections");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("the request is sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("the response is read");
    let status = response.split_whitespace().nth(1).and_then(|code| code.parse().ok()).expect("a status line");
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

fn json_field(body: &str, pointer: &str) -> String {
    // Chunked encoding wraps the JSON in size lines; the JSON object is between the braces.
    let start = body.find('{').expect("a JSON body");
    let end = body.rfind('}').expect("a JSON body");
    let value: serde_json::Value = serde_json::from_str(&body[start..=end]).expect("valid JSON");
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {body}"))
        .to_owned()
}

/// Starts the server; its logs are collected by a thread (a full pipe would stall the server).
fn start(data: &std::path::Path) -> (Child, u16, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kipina"))
        .args(["serve", "--data", data.to_str().expect("utf-8 path"), "--bind", "127.0.0.1:0", "--no-demo"])
        .env("KIPINA_LOG", "trace")
        .env_remove("KIPINA_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kipina starts");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let logs = std::thread::spawn(move || {
        let mut logs = String::new();
        let _ = stderr.read_to_string(&mut logs);
        logs
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("kipina prints where it serves");
    let port = first.trim().rsplit(':').next().and_then(|port| port.parse().ok()).unwrap_or_else(|| panic!("{first}"));
    (child, port, logs)
}

#[test]
fn credentials_never_reach_the_logs_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (mut child, port, logs) = start(dir.path());

    let (status, created) = http(
        port,
        "POST",
        "/api/boards",
        r#"{"title":"Lokitesti","facilitator_name":"Aino","template":"idea_funnel"}"#,
    );
    assert_eq!(status, 201, "{created}");
    let facilitator_token = json_field(&created, "/session/token");
    let link = json_field(&created, "/links/participant");
    let path =
        link.split_once(&format!("127.0.0.1:{port}")).map(|(_, path)| path.to_owned()).expect("a link on this server");
    let secret = path.rsplit('/').next().expect("a secret").to_owned();
    let (status, info) = http(port, "GET", &path.replacen("/join/", "/api/invitations/", 1), "");
    assert_eq!(status, 200, "{info}");
    let (status, joined) =
        http(port, "POST", "/api/join", &format!(r#"{{"invitation":"{path}","display_name":"Matti"}}"#));
    assert_eq!(status, 201, "{joined}");
    let participant_token = json_field(&joined, "/token");

    // A second server on the same directory is refused with a clear reason.
    let second = Command::new(env!("CARGO_BIN_EXE_kipina"))
        .args(["serve", "--data", dir.path().to_str().expect("utf-8 path"), "--bind", "127.0.0.1:0"])
        .output()
        .expect("kipina runs");
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use by another process"), "{second:?}");
    let boards = Command::new(env!("CARGO_BIN_EXE_kipina"))
        .args(["boards", "--data", dir.path().to_str().expect("utf-8 path")])
        .output()
        .expect("kipina runs");
    assert!(String::from_utf8_lossy(&boards.stderr).contains("in use by another process"), "{boards:?}");

    let terminated = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(terminated.success());
    let status = child.wait().expect("kipina exits");
    assert!(status.success(), "kipina did not stop cleanly: {status}");
    let logs = logs.join().expect("the log reader finishes");
    assert!(logs.contains("request"), "trace logs hold request spans: {logs}");
    for secret in [&facilitator_token, &participant_token, &secret] {
        assert!(!logs.contains(secret.as_str()), "a credential is in the logs");
    }

    let listed = Command::new(env!("CARGO_BIN_EXE_kipina"))
        .args(["boards", "--data", dir.path().to_str().expect("utf-8 path")])
        .output()
        .expect("kipina runs");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("Lokitesti"), "{listed}");
}

/// `kipina serve` tidies its store at a clean stop once enough events are outside chunks
/// (`KIPINA_TIDY_AT_STOP_MIN_EVENTS`; here the demo board's events are enough) and says so on
/// standard output; `--no-tidy-at-stop` leaves the store alone.
#[test]
fn a_clean_stop_says_it_tidied_the_event_store_unless_told_not_to() {
    for tidy in [true, false] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_kipina"));
        command
            .args(["serve", "--data", dir.path().to_str().expect("utf-8 path"), "--bind", "127.0.0.1:0"])
            .env("KIPINA_TIDY_AT_STOP_MIN_EVENTS", "1")
            .env_remove("KIPINA_DATA")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if !tidy {
            command.arg("--no-tidy-at-stop");
        }
        let mut child = command.spawn().expect("kipina starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("kipina prints where it serves");
        let port: u16 =
            first.trim().rsplit(':').next().and_then(|port| port.parse().ok()).unwrap_or_else(|| panic!("{first}"));
        // The store knows how many events are outside chunks once its background check ended.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (_, metrics) = http(port, "GET", "/metrics", "");
            let counted = metrics
                .lines()
                .find_map(|line| line.strip_prefix("kipina_store_events_outside_chunks "))
                .and_then(|value| value.trim().parse::<i64>().ok())
                .is_some_and(|outside| outside > 0);
            if counted {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the events outside chunks were never counted");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let terminated = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
        assert!(terminated.success());
        let mut said = String::new();
        stdout.read_to_string(&mut said).expect("the rest of its output");
        let status = child.wait().expect("kipina exits");
        assert!(status.success(), "kipina did not stop cleanly: {status}\n{said}");
        assert_eq!(said.contains("Tidying the event store"), tidy, "{said}");
        assert_eq!(said.contains("Tidied the event store"), tidy, "{said}");
        assert!(said.contains("Kipinä stopped"), "{said}");
    }
}
