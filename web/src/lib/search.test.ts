import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import type { SearchHit } from './proto/SearchHit';
import { checkQuery, debounced, hitKey, opensWhat, searchBoard, searchPath, spansText } from './search';

const BOARD = '0196f3b2-7c1a-7d2e-9a44-1b2c3d4e5f60';
const CARD = '0196f3b2-7c1a-7d2e-9a44-000000000001';
const COMMENT = '0196f3b2-7c1a-7d2e-9a44-000000000002';
const COLUMN = '0196f3b2-7c1a-7d2e-9a44-000000000003';

function hit(target: SearchHit['target']): SearchHit {
  return {
    target,
    field: 'comment',
    title: [{ text: 'Kylätalo', highlight: false }],
    snippet: [
      { text: 'Kuulin ', highlight: false },
      { text: 'ääniä', highlight: true },
    ],
    column: COLUMN,
    author: null,
    anonymous: true,
    archived: false,
    updated_at: 0,
  };
}

describe('the query', () => {
  it('is sent trimmed, and not when empty or too long', () => {
    expect(checkQuery('  aania ')).toEqual({ kind: 'ok', query: 'aania' });
    expect(checkQuery('   ')).toEqual({ kind: 'empty' });
    expect(checkQuery('a'.repeat(201))).toEqual({ kind: 'too_long' });
    // Characters, as the server counts them: 200 letters ä are 400 bytes and still a query.
    expect(checkQuery('ä'.repeat(200)).kind).toBe('ok');
  });

  it('goes into the address encoded', () => {
    expect(searchPath(BOARD, 'kylä & ääniä', 10)).toBe(
      `/api/boards/${BOARD}/search?q=kyl%C3%A4+%26+%C3%A4%C3%A4ni%C3%A4&limit=10`,
    );
  });
});

describe('a hit', () => {
  it('opens its card, or a statement’s column', () => {
    expect(opensWhat(hit({ kind: 'comment', comment: COMMENT, card: CARD }))).toEqual({ kind: 'card', card: CARD });
    expect(opensWhat(hit({ kind: 'card', card: CARD, group: null }))).toEqual({ kind: 'card', card: CARD });
    expect(opensWhat(hit({ kind: 'proposal', card: CARD, statement: COLUMN }))).toEqual({ kind: 'card', card: CARD });
    expect(opensWhat(hit({ kind: 'statement', statement: COLUMN, version: 2 }))).toEqual({ kind: 'column', column: COLUMN });
  });

  it('has a key and its spans read as text', () => {
    const found = hit({ kind: 'comment', comment: COMMENT, card: CARD });
    expect(hitKey(found)).toBe(`comment:${COMMENT}`);
    expect(spansText(found.snippet)).toBe('Kuulin ääniä');
  });
});

describe('searching', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('sends the token and reads the results', async () => {
    const results = { words: ['aania'], seq: 7, total: 0, hits: [] };
    const fetch = vi.fn(async () => new Response(JSON.stringify(results), { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await expect(searchBoard(BOARD, 'kp_token', 'aania')).resolves.toEqual(results);
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe(searchPath(BOARD, 'aania'));
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer kp_token');
  });

  it('turns a refusal into the server’s error code', async () => {
    const body = { code: 'malformed', message: 'the query has no words to search for' };
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(body), { status: 400 })));
    const error = await searchBoard(BOARD, 't', '!').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('malformed');
  });

  it('tells an aborted search from a network failure', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const controller = new AbortController();
    controller.abort();
    await expect(searchBoard(BOARD, 't', 'a', controller.signal)).rejects.toMatchObject({ code: 'aborted' });
    await expect(searchBoard(BOARD, 't', 'a')).rejects.toMatchObject({ code: 'network' });
  });

  it('runs only the last of quick calls, after the pause', () => {
    vi.useFakeTimers();
    const run = vi.fn();
    const search = debounced(250, run);
    search.call('k');
    search.call('ky');
    vi.advanceTimersByTime(200);
    search.call('kyl');
    vi.advanceTimersByTime(249);
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith('kyl');
    search.call('kylä');
    search.cancel();
    vi.advanceTimersByTime(1000);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
