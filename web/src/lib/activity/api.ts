import { ApiError, errorOf } from '../api';
import type { ActivityPage } from '../proto/ActivityPage';
import type { HistoryView } from '../proto/HistoryView';
import type { Timeline } from '../proto/Timeline';

/**
 * The activity feed, the board as it was and its timeline (`docs/protocol.md`, "Activity and
 * history"). The token is a participant's, or an observer's `{board}/o/{secret}`: both go as a
 * bearer token.
 */
async function get<T>(path: string, token: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError(0, { code: 'network', message: String(error) });
  }
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

const boardPath = (board: string) => `/api/boards/${encodeURIComponent(board)}`;

/** One page of the feed; `query` as made by `pageQuery`. */
export function activityPage(board: string, token: string, query: string): Promise<ActivityPage> {
  return get(`${boardPath(board)}/activity?${query}`, token);
}

export function historyAt(board: string, token: string, seq: number): Promise<HistoryView> {
  return get(`${boardPath(board)}/history?seq=${seq}`, token);
}

export function timeline(board: string, token: string): Promise<Timeline> {
  return get(`${boardPath(board)}/timeline`, token);
}

/**
 * The Atom feed's address for a board's observer link (a whole URL): feed readers send no
 * headers, so the link's `{board}/o/{secret}` part goes in the address.
 */
export function feedUrl(observerLink: string): string {
  const url = new URL(observerLink);
  const at = url.pathname.indexOf('/join/');
  const part = at === -1 ? url.pathname.replace(/^\//, '') : url.pathname.slice(at + '/join/'.length);
  const board = part.split('/')[0] ?? '';
  return `${url.origin}/api/boards/${encodeURIComponent(board)}/feed.atom?token=${encodeURIComponent(part)}`;
}
