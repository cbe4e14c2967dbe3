//! Runs an actix-web server on a thread of its own inside its own actix `System`, so the server
//! and the clients' tokio runtime never share a scheduler (they do share the machine's cores).

use crate::clients::WAIT;
use actix_web::dev::ServerHandle;
use anyhow::{Context as _, anyhow};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How long a stopping server may take: Kipinä waits up to 10 s for its store to be let go.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// A server that is bound and can be run: its port, its handle, and the future that serves.
pub struct Started {
    pub port: u16,
    pub handle: ServerHandle,
    pub serve: Pin<Box<dyn Future<Output = std::io::Result<()>>>>,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started").field("port", &self.port).finish_non_exhaustive()
    }
}

/// A server running on its own thread.
#[derive(Debug)]
pub struct ServerThread {
    port: u16,
    handle: ServerHandle,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl ServerThread {
    /// Starts a thread, runs `build` in a new actix `System` there, and serves what it built
    /// until [`ServerThread::stop`]. Returns once the server is bound.
    pub async fn start<B, F>(name: &str, build: B) -> anyhow::Result<Self>
    where
        B: FnOnce() -> F + Send + 'static,
        F: Future<Output = anyhow::Result<Started>> + 'static,
    {
        let (bound, on_bound) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    match build().await {
                        Ok(Started { port, handle, serve }) => {
                            let _ = bound.send(Ok((port, handle)));
                            serve.await.context("the server stopped with an error")
                        }
                        Err(error) => {
                            let _ = bound.send(Err(error));
                            Ok(())
                        }
                    }
                })
            })
            .with_context(|| format!("starting the thread of {name}"))?;
        let (port, handle) = tokio::time::timeout(WAIT, on_bound)
            .await
            .map_err(|_| anyhow!("{name} did not start within {WAIT:?}"))?
            .map_err(|_| anyhow!("{name}'s thread ended before the server was bound"))?
            .with_context(|| format!("starting {name}"))?;
        Ok(Self { port, handle, thread })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:{port}`: the base of its URLs, and the `Origin` of its own pages.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server and waits for its thread: gracefully after a run whose clients have
    /// closed, at once after a failed run that may have left connections open.
    pub async fn stop(self, graceful: bool) -> anyhow::Result<()> {
        tokio::time::timeout(STOP_WAIT, self.handle.stop(graceful))
            .await
            .map_err(|_| anyhow!("the server did not stop within {STOP_WAIT:?}"))?;
        let thread = self.thread;
        let joined = tokio::task::spawn_blocking(move || thread.join());
        tokio::time::timeout(STOP_WAIT, joined)
            .await
            .map_err(|_| anyhow!("the server's thread did not end within {STOP_WAIT:?}"))?
            .context("waiting for the server's thread")?
            .map_err(|_| anyhow!("the server's thread panicked"))?
    }
}
