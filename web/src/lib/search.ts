import { ApiError, errorOf } from './api';
import type { CardId } from './proto/CardId';
import type { ColumnId } from './proto/ColumnId';
import type { SearchHit } from './proto/SearchHit';
import type { SearchResults } from './proto/SearchResults';
import type { TextSpan } from './proto/TextSpan';

/** The longest query the server takes, in characters (as it counts them: code points). */
export const MAX_QUERY_CHARS = 200;
/** How long typing must pause before a search is sent. */
export const DEBOUNCE_MS = 250;

/** What the search box holds: nothing to search, too long to search, or a query to send. */
export type QueryCheck = { kind: 'empty' } | { kind: 'too_long' } | { kind: 'ok'; query: string };

/** Whether `text` is worth sending; the server decides what its words are. */
export function checkQuery(text: string): QueryCheck {
  const query = text.trim();
  if (query === '') return { kind: 'empty' };
  if ([...query].length > MAX_QUERY_CHARS) return { kind: 'too_long' };
  return { kind: 'ok', query };
}

/** The search address of a board. */
export function searchPath(board: string, query: string, limit = 20): string {
  const params = new URLSearchParams({ q: query, limit: String(limit) });
  return `/api/boards/${encodeURIComponent(board)}/search?${params.toString()}`;
}

/**
 * Searches a board with the browser's token (a participant's, or an observer link's), or throws
 * an `ApiError` (`network` when the server was not reached, `aborted` when `signal` stopped it).
 */
export async function searchBoard(board: string, token: string, query: string, signal?: AbortSignal): Promise<SearchResults> {
  let response: Response;
  try {
    response = await fetch(searchPath(board, query), {
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
      credentials: 'same-origin',
      signal,
    });
  } catch (error) {
    const aborted = signal?.aborted ?? false;
    throw new ApiError(0, { code: aborted ? 'aborted' : 'network', message: String(error) });
  }
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as SearchResults;
}

/** What clicking a hit opens: a card's dialog (cards, proposals, comments), or a statement's column. */
export type HitOpens = { kind: 'card'; card: CardId } | { kind: 'column'; column: ColumnId };

export function opensWhat(hit: SearchHit): HitOpens {
  const target = hit.target;
  switch (target.kind) {
    case 'card':
    case 'proposal':
    case 'comment':
      return { kind: 'card', card: target.card };
    case 'statement':
      return { kind: 'column', column: target.statement };
  }
}

/** The text of spans, for labels and tests. */
export function spansText(spans: readonly TextSpan[]): string {
  return spans.map((span) => span.text).join('');
}

/** A stable key for a hit in a list. */
export function hitKey(hit: SearchHit): string {
  const target = hit.target;
  switch (target.kind) {
    case 'card':
    case 'proposal':
      return `${target.kind}:${target.card}`;
    case 'comment':
      return `comment:${target.comment}`;
    case 'statement':
      return `statement:${target.statement}`;
  }
}

/**
 * Runs the latest of many calls after a pause: each call cancels the one before it. `cancel`
 * stops a pending call (when the panel closes).
 */
export function debounced<A extends unknown[]>(wait: number, run: (...args: A) => void): { call: (...args: A) => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    call: (...args: A) => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        run(...args);
      }, wait);
    },
    cancel: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
