import type { BoardId } from './proto/BoardId';
import type { ParticipantId } from './proto/ParticipantId';
import type { Role } from './proto/Role';
import type { Session } from './proto/Session';
import { browserStore, readJson, writeJson, type KeyValueStore } from './storage';

/**
 * What the browser remembers about one board: a participant's session, or an observer's read
 * link (whose `{board}/o/{secret}` part is its token). `title` is only for the home page list.
 */
export interface StoredSession {
  board: BoardId;
  participant: ParticipantId | null;
  role: Role;
  token: string;
  title?: string;
}

const PREFIX = 'kipina.session.';

export function sessionKey(board: BoardId): string {
  return PREFIX + board;
}

export function fromSession(session: Session, title?: string): StoredSession {
  return { ...session, ...(title === undefined ? {} : { title }) };
}

export function observerSession(board: BoardId, secret: string, title?: string): StoredSession {
  return { board, participant: null, role: 'observer', token: `${board}/o/${secret}`, ...(title === undefined ? {} : { title }) };
}

export function loadSession(board: BoardId, store: KeyValueStore = browserStore()): StoredSession | undefined {
  const found = readJson<StoredSession>(store, sessionKey(board));
  if (!found || typeof found.token !== 'string' || found.board !== board) return undefined;
  return found;
}

export function saveSession(session: StoredSession, store: KeyValueStore = browserStore()): void {
  writeJson(store, sessionKey(session.board), session);
}

export function forgetSession(board: BoardId, store: KeyValueStore = browserStore()): void {
  store.removeItem(sessionKey(board));
}

/** Remembers the board's title beside its session, for the list of one's boards. */
export function rememberTitle(board: BoardId, title: string, store: KeyValueStore = browserStore()): void {
  const found = loadSession(board, store);
  if (found && found.title !== title) saveSession({ ...found, title }, store);
}

export function listSessions(store: KeyValueStore = browserStore()): StoredSession[] {
  const found: StoredSession[] = [];
  for (let index = 0; index < store.length; index++) {
    const key = store.key(index);
    if (key?.startsWith(PREFIX)) {
      const session = loadSession(key.slice(PREFIX.length), store);
      if (session) found.push(session);
    }
  }
  return found;
}

/**
 * The participant tokens this browser holds, for `JoinRequest.known_tokens`: the server answers
 * a join with the same participant when one of them is for the invited board.
 */
export function knownTokens(store: KeyValueStore = browserStore()): string[] {
  return listSessions(store)
    .filter((found) => found.participant !== null)
    .map((found) => found.token);
}
