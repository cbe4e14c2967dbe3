/** Stops the server that `global-setup.ts` started and removes its data directory. */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopKipina } from './server';

const here = path.dirname(fileURLToPath(import.meta.url));

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.KIPINA_TMP;
  await stopKipina(Number(process.env.KIPINA_PID));
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
