/** Stops the server that `global-setup.ts` started and removes its data directory. */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.KIPINA_PID);
  const dir = process.env.KIPINA_TMP;
  if (pid > 0 && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (dir && existsSync(dir)) {
    // The server's log stays beside the other artefacts.
    const log = path.join(dir, 'server.log');
    if (existsSync(log)) {
      mkdirSync(path.join(here, 'test-results'), { recursive: true });
      copyFileSync(log, path.join(here, 'test-results', 'kipina-server.log'));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
