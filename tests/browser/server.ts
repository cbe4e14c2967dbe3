/**
 * Starting and stopping a `kipina` server: the one `global-setup.ts` runs for the whole suite,
 * and extra ones a test needs of its own (another server to restore a backup onto).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

/** The binary under test: `KIPINA_BIN`, or the workspace's debug build. */
export function kipinaBinary(): string {
  const binary = process.env.KIPINA_BIN ?? path.join(repo, 'target', 'debug', 'kipina');
  if (!existsSync(binary)) {
    throw new Error(
      `The kipina binary is missing at ${binary}.\n` +
        `Build it first: (cd ${repo} && cargo build -p kipina-server), or point KIPINA_BIN at one.`,
    );
  }
  return binary;
}

export interface RunningServer {
  url: string;
  pid: number;
  /** The temporary directory holding `data/` and `server.log`. */
  dir: string;
  data: string;
  log: string;
  child: ChildProcess;
}

/**
 * Starts `kipina serve` on port 0 with a fresh data directory (no demo board, no practical rate
 * limit) and resolves with its address once it answers `/health`.
 */
export async function startKipina(prefix = 'kipina-browser-'): Promise<RunningServer> {
  const binary = kipinaBinary();
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const child = spawn(
    binary,
    ['serve', '--data', data, '--bind', '127.0.0.1:0', '--no-demo', '--max-commands-per-second', '100000'],
    { stdio: ['ignore', 'pipe', openSync(log, 'a')], env: { ...process.env, KIPINA_LOG: process.env.KIPINA_LOG ?? 'warn' } },
  );

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kipina did not say where it serves within 30 s (log: ${log})`)), 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      const found = /serves on (http:\/\/\S+)/.exec(line);
      if (found) resolve(found[1]!);
      else reject(new Error(`unexpected first line from kipina: ${JSON.stringify(line)} (log: ${log})`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`kipina could not be started (${binary}): ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`kipina exited before serving (code ${code}, signal ${signal}); log: ${log}`));
    });
  });
  // Whatever else it prints is read and dropped, so a full pipe never blocks the server.
  child.stdout!.resume();

  const health = await fetch(`${url}/health`);
  if (!health.ok) throw new Error(`${url}/health answered ${health.status}`);
  return { url, pid: child.pid!, dir, data, log, child };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a server by its process id (SIGTERM, then SIGKILL after ten seconds). */
export async function stopKipina(pid: number): Promise<void> {
  if (!(pid > 0) || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** `kipina boards --data DIR` of a stopped server: the board lines (the header left out). */
export function listBoards(data: string): string[] {
  const run = spawnSync(kipinaBinary(), ['boards', '--data', data], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`kipina boards exited with ${run.status}: ${run.stderr}`);
  return run.stdout.split('\n').slice(1).filter((line) => line.trim() !== '');
}

/** Stops an extra server and removes its data. */
export async function removeKipina(server: RunningServer): Promise<void> {
  await stopKipina(server.pid);
  rmSync(server.dir, { recursive: true, force: true });
}
