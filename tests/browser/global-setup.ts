/**
 * Starts the real `kipina` binary on port 0 with a fresh data directory, once for the whole run.
 * Its address goes to the tests in `KIPINA_URL`; `global-teardown.ts` stops it.
 */
import { kipinaBinary, startKipina } from './server';

export default async function globalSetup(): Promise<void> {
  const server = await startKipina();
  process.env.KIPINA_URL = server.url;
  process.env.KIPINA_PID = String(server.pid);
  process.env.KIPINA_TMP = server.dir;
  console.log(`kipina (${kipinaBinary()}) serves on ${server.url}, data in ${server.data}`);
}
