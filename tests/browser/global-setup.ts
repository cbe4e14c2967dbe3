/**
 * Starts the real `kipina` binary on port 0 with a fresh data directory, once for the whole run.
 * Its address goes to the tests in `KIPINA_URL`; `global-teardown.ts` stops it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

export default async function globalSetup(): Promise<void> {
  const binary = process.env.KIPINA_BIN ?? path.join(repo, 'target', 'debug', 'kipina');
  if (!existsSync(binary)) {
    throw new Error(
      `The kipina binary is missing at ${binary}.\n` +
        `Build it first: (cd ${repo} && cargo build -p kipina-server), or point KIPINA_BIN at one.`,
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'kipina-browser-'));
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

  process.env.KIPINA_URL = url;
  process.env.KIPINA_PID = String(child.pid);
  process.env.KIPINA_TMP = dir;
  console.log(`kipina (${binary}) serves on ${url}, data in ${data}`);
}
