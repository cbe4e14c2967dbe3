//! The real server in a process of its own, for what only a fresh process shows: how long it
//! takes to become ready (process start, opening and checking the store, binding, loading a
//! board) and how much memory it holds. The child is this same program run as
//! `kipina-bench serve-data DIR`: it builds `Application` over DIR on a free loopback port,
//! prints `port N`, serves until its standard input closes, then stops gracefully.

use crate::server_thread::{ServerThread, Started};
use anyhow::{Context as _, anyhow, bail};
use kipina_server::config::Config;
use kipina_server::startup::Application;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a child may take to start, and any one request to it.
const WAIT: Duration = Duration::from_secs(120);

/// The child's side: serve `data` until standard input closes.
pub async fn serve(data: PathBuf) -> anyhow::Result<()> {
    let server = ServerThread::start("kipina-server", move || async move {
        let app = Application::build(Config::for_tests(data)).await.context("building the server")?;
        let (port, handle) = (app.port(), app.handle());
        Ok(Started { port, handle, serve: Box::pin(app.run_until_stopped()) })
    })
    .await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "port {}", server.port())?;
        stdout.flush()?;
    }
    tokio::task::spawn_blocking(|| {
        let mut ignored = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut ignored);
    })
    .await?;
    server.stop(true).await
}

/// A running child server.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    /// From just before the process was started to its `port` line (the server is bound).
    pub bound_after: Duration,
    started_at: Instant,
}

impl ChildServer {
    /// Starts `kipina-bench serve-data data` and waits until it says its port.
    pub async fn start(data: &Path) -> anyhow::Result<Self> {
        let program = std::env::current_exe().context("finding this program")?;
        let started_at = Instant::now();
        let mut child = Command::new(program)
            .arg("serve-data")
            .arg(data)
            .env("KIPINA_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server process")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("the child has no stdout"))?;
        let line = tokio::time::timeout(
            WAIT,
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line).map(|_| line)
            }),
        )
        .await
        .map_err(|_| anyhow!("the server process did not start within {WAIT:?}"))???;
        let bound_after = started_at.elapsed();
        let Some(port) = line.trim().strip_prefix("port ").and_then(|port| port.parse().ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the server process said {line:?} instead of its port");
        };
        Ok(Self { child, stdin, port, bound_after, started_at })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Time since just before the process was started.
    pub fn age(&self) -> Duration {
        self.started_at.elapsed()
    }

    /// The child's resident memory now, and its peak, in bytes (from `/proc/PID/status`).
    pub fn resident_memory(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let kib: u64 = status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .ok_or_else(|| anyhow!("no {name} in /proc status"))?;
            Ok(kib * 1024)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// Asks the child to stop (closes its standard input) and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        drop(self.stdin.take());
        let mut child = self.child;
        let status = tokio::time::timeout(WAIT, tokio::task::spawn_blocking(move || child.wait()))
            .await
            .map_err(|_| anyhow!("the server process did not stop within {WAIT:?}"))???;
        anyhow::ensure!(status.success(), "the server process ended with {status}");
        Ok(())
    }
}

/// Waits until `url` answers 200 (retrying refused connections); returns the body.
pub async fn get_ok(http: &reqwest::Client, url: &str, token: Option<&str>) -> anyhow::Result<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut request = http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => return Ok(response.text().await?),
            Ok(response) => bail!("GET {url} was answered {}: {}", response.status(), response.text().await?),
            Err(error) if Instant::now() < deadline && error.is_connect() => {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(error) => return Err(error).with_context(|| format!("GET {url}")),
        }
    }
}
