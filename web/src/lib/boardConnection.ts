import { ApiError, boardView, invitation, socketUrl, type Failure } from './api';
import type { BoardView } from './proto/BoardView';
import type { StoredSession } from './sessions';
import { BoardSync } from './state/sync.svelte';
import { browserStore } from './storage';

/** One board's live state for a session this browser keeps (the board page and the presentation). */
export function connectBoard(session: StoredSession): BoardSync {
  return new BoardSync({
    board: session.board,
    token: session.token,
    url: socketUrl(session.board),
    store: browserStore(),
    probe: () => probe(session),
    // The first view over HTTP, compressed; the observer link is its bearer token as well.
    initial: () => boardView(session.board, session.token) as Promise<BoardView>,
    viewer: { me: session.participant, role: session.role },
  });
}

/** Why the WebSocket was refused: a gone board or a token no longer valid stop the retries. */
async function probe(found: StoredSession): Promise<Failure | null> {
  try {
    if (found.role === 'observer') {
      const [, , secret] = found.token.split('/');
      await invitation(found.board, 'o', secret ?? '');
    } else {
      await boardView(found.board, found.token);
    }
    return null;
  } catch (error) {
    if (error instanceof ApiError && [401, 403, 404].includes(error.status)) {
      return { code: error.status === 404 ? error.code : 'unauthorized', message: error.message };
    }
    return null;
  }
}

/**
 * Starts the connection and follows the browser: offline stops trying, online or a page that
 * becomes visible again (a phone waking up) reconnects at once. Returns the clean-up.
 */
export function runBoard(sync: BoardSync): () => void {
  sync.start();
  const offline = () => sync.connection.wentOffline();
  const online = () => sync.connection.wake();
  const visible = () => {
    if (document.visibilityState === 'visible') sync.connection.wake();
  };
  window.addEventListener('offline', offline);
  window.addEventListener('online', online);
  document.addEventListener('visibilitychange', visible);
  return () => {
    window.removeEventListener('offline', offline);
    window.removeEventListener('online', online);
    document.removeEventListener('visibilitychange', visible);
    sync.stop();
  };
}
