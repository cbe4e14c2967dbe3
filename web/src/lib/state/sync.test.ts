import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../storage';
import type { Failure } from '../api';
import type { BoardView } from '../proto/BoardView';
import { BoardSync } from './sync.svelte';
import { outboxKey } from './outbox.svelte';
import { FakeSocket, ME, boardView, card } from '../../test/fixtures';

function makeSync(
  store = new MemoryStore(),
  probe?: () => Promise<Failure | null>,
  initial?: () => Promise<BoardView | null>,
  viewer?: { me: string | null; role: 'facilitator' | 'participant' | 'observer' },
) {
  let online = true;
  let next = 0;
  const sync = new BoardSync({
    probe,
    initial,
    viewer,
    board: 'b1',
    token: 'kp_token',
    url: 'ws://test/api/boards/b1/ws',
    store,
    connection: {
      createSocket: (url) => new FakeSocket(url),
      isOnline: () => online,
      backoff: () => 100,
    },
    outbox: { newId: () => `cmd-${++next}` },
  });
  return { sync, store, setOnline: (value: boolean) => (online = value) };
}

/** Plays the server's side of a subscription: welcome, the catch-up, presence. */
function subscribe(socket: FakeSocket, catchUp: () => void) {
  socket.open();
  socket.receive({ type: 'welcome', board: 'b1', you: ME, role: 'participant', server_time: 0 });
  catchUp();
  socket.receive({ type: 'presence', online: [ME], observers: 0 });
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('BoardSync', () => {
  it('subscribes without a sequence first, then with the last one seen after a reconnect', () => {
    const { sync } = makeSync();
    sync.start();
    const first = FakeSocket.latest();
    subscribe(first, () => first.receive({ type: 'snapshot', board: boardView(7) }));
    expect(first.sent[0]).toEqual({ type: 'subscribe', token: 'kp_token', last_seq: null });
    expect(sync.status).toBe('connected');

    first.receive({ type: 'changed', first_seq: 8, last_seq: 9, changes: [{ kind: 'card', value: card('k9', 'c2') }] });
    first.drop();
    expect(sync.status).toBe('reconnecting');
    vi.advanceTimersByTime(100);
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    second.open();
    expect(second.sent[0]).toEqual({ type: 'subscribe', token: 'kp_token', last_seq: 9 });
  });

  it('takes the first view over HTTP when it can, and subscribes from its seq', async () => {
    const { sync } = makeSync(undefined, undefined, () => Promise.resolve(boardView(12)), {
      me: ME,
      role: 'participant',
    });
    sync.start();
    // Nothing opens before the view has arrived.
    expect(FakeSocket.all).toEqual([]);
    await vi.runAllTimersAsync();
    expect(sync.board.seq).toBe(12);
    // Applied as this browser's participant (from its stored session), before any `welcome`:
    // what is new since the last visit is measured from that participant's own mark.
    expect(sync.board.me).toBe(ME);
    expect(sync.board.visitUntil).toBe(12);
    const socket = FakeSocket.latest();
    subscribe(socket, () => {});
    expect(socket.sent[0]).toEqual({ type: 'subscribe', token: 'kp_token', last_seq: 12 });
    expect(sync.status).toBe('connected');
  });

  it('falls back to the WebSocket snapshot when the HTTP view fails', async () => {
    const { sync } = makeSync(undefined, undefined, () => Promise.reject(new Error('offline')));
    sync.start();
    await vi.runAllTimersAsync();
    const socket = FakeSocket.latest();
    subscribe(socket, () => socket.receive({ type: 'snapshot', board: boardView(7) }));
    expect(socket.sent[0]).toEqual({ type: 'subscribe', token: 'kp_token', last_seq: null });
    expect(sync.board.seq).toBe(7);
  });

  it('sends commands made offline once connected, and again with the same ids after a drop', () => {
    const { sync } = makeSync();
    sync.send({ type: 'add_card', card: 'new-1', column: 'c1', title: 'Kylätalo', body: '' });
    sync.send({ type: 'cast_vote', card: 'k1' });
    sync.start();
    const first = FakeSocket.latest();
    first.open();
    // Nothing goes before the server has said welcome and caught the board up.
    expect(first.commands()).toEqual([]);
    subscribe(first, () => first.receive({ type: 'snapshot', board: boardView(7) }));
    expect(first.commands()).toEqual([
      { command_id: 'cmd-1', type: 'add_card' },
      { command_id: 'cmd-2', type: 'cast_vote' },
    ]);

    first.receive({ type: 'ack', command_id: 'cmd-1', outcome: { kind: 'applied', first_seq: 8, last_seq: 8 } });
    first.drop();
    sync.send({ type: 'withdraw_vote', card: 'k1' });
    vi.advanceTimersByTime(100);
    const second = FakeSocket.latest();
    subscribe(second, () => second.receive({ type: 'changed', first_seq: 8, last_seq: 8, changes: [] }));
    expect(second.commands()).toEqual([
      { command_id: 'cmd-2', type: 'cast_vote' },
      { command_id: 'cmd-3', type: 'withdraw_vote' },
    ]);
    second.receive({ type: 'ack', command_id: 'cmd-2', outcome: { kind: 'duplicate', first_seq: 9, last_seq: 9 } });
    second.receive({ type: 'ack', command_id: 'cmd-3', outcome: { kind: 'unchanged' } });
    expect(sync.outbox.entries).toEqual([]);
  });

  it('sends no command before the board is loaded', () => {
    const { sync } = makeSync();
    sync.send({ type: 'cast_vote', card: 'k1' });
    sync.start();
    const socket = FakeSocket.latest();
    socket.open();
    socket.receive({ type: 'welcome', board: 'b1', you: ME, role: 'participant', server_time: 0 });
    socket.receive({ type: 'presence', online: [ME], observers: 0 });
    expect(socket.commands()).toEqual([]);
    socket.receive({ type: 'snapshot', board: boardView(7) });
    expect(socket.commands()).toEqual([{ command_id: 'cmd-1', type: 'cast_vote' }]);
  });

  it('keeps commands across a page reload (the outbox is in storage)', () => {
    const store = new MemoryStore();
    const { sync } = makeSync(store);
    sync.send({ type: 'cast_vote', card: 'k1' });
    sync.stop();
    expect(JSON.parse(store.getItem(outboxKey('b1')) ?? '[]')).toHaveLength(1);
    const { sync: reloaded } = makeSync(store);
    reloaded.start();
    const socket = FakeSocket.latest();
    subscribe(socket, () => socket.receive({ type: 'snapshot', board: boardView(7) }));
    expect(socket.commands()).toEqual([{ command_id: 'cmd-1', type: 'cast_vote' }]);
  });

  it('resubscribes from the last sequence seen when a changed message skips some', () => {
    const { sync } = makeSync();
    sync.start();
    const first = FakeSocket.latest();
    subscribe(first, () => first.receive({ type: 'snapshot', board: boardView(7) }));
    first.receive({ type: 'changed', first_seq: 9, last_seq: 9, changes: [{ kind: 'card', value: card('k9', 'c2') }] });
    expect(sync.gaps).toBe(1);
    expect(sync.board.cards.has('k9')).toBe(false);
    expect(first.closedWith).toBeDefined();
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    second.open();
    expect(second.sent[0]).toEqual({ type: 'subscribe', token: 'kp_token', last_seq: 7 });
  });

  it('resubscribes when the server says resync', () => {
    const { sync } = makeSync();
    sync.start();
    const first = FakeSocket.latest();
    subscribe(first, () => first.receive({ type: 'snapshot', board: boardView(7) }));
    first.receive({ type: 'resync', reason: 'fell behind' });
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    second.open();
    expect(second.sent[0]).toEqual({ type: 'subscribe', token: 'kp_token', last_seq: 7 });
  });

  it('keeps a refused command as failed with the server message', () => {
    const { sync } = makeSync();
    sync.start();
    const socket = FakeSocket.latest();
    subscribe(socket, () => socket.receive({ type: 'snapshot', board: boardView(7) }));
    sync.send({ type: 'add_card', card: 'k9', column: 'c1', title: 'x', body: '' });
    socket.receive({ type: 'error', command_id: 'cmd-1', code: 'text_too_long', message: 'too long' });
    expect(sync.outbox.failed.map((entry) => entry.error)).toEqual([{ code: 'text_too_long', message: 'too long' }]);
  });

  it('tells a refused dot where it was tapped instead of keeping it unsent', () => {
    const { sync } = makeSync();
    sync.start();
    const socket = FakeSocket.latest();
    subscribe(socket, () => socket.receive({ type: 'snapshot', board: boardView(7) }));
    sync.send({ type: 'cast_vote', card: 'k1' });
    socket.receive({ type: 'error', command_id: 'cmd-1', code: 'vote_budget_exhausted', message: 'all 5 of your dots are used' });
    expect(sync.outbox.failed).toEqual([]);
    expect(sync.outbox.lastRefusal?.error.code).toBe('vote_budget_exhausted');
  });

  it('stops trying when the token is refused', () => {
    const { sync } = makeSync();
    sync.start();
    const socket = FakeSocket.latest();
    socket.open();
    socket.receive({ type: 'error', command_id: null, code: 'unauthorized', message: 'bad token' });
    socket.drop(4001);
    vi.advanceTimersByTime(60_000);
    expect(sync.status).toBe('unauthorized');
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('shows offline when the browser is offline, and connects when it is back', () => {
    const { sync, setOnline } = makeSync();
    sync.start();
    const first = FakeSocket.latest();
    subscribe(first, () => first.receive({ type: 'snapshot', board: boardView(7) }));
    setOnline(false);
    sync.connection.wentOffline();
    expect(sync.status).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    setOnline(true);
    sync.connection.wake();
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.latest().open();
    expect(FakeSocket.latest().sent[0]).toEqual({ type: 'subscribe', token: 'kp_token', last_seq: 7 });
  });

  it('stops retrying when the server says the board is gone, and keeps trying when it cannot tell', async () => {
    const answers: (Failure | null)[] = [null, { code: 'board_not_found', message: 'gone' }];
    const { sync } = makeSync(new MemoryStore(), async () => answers.shift() ?? null);
    sync.start();
    FakeSocket.latest().drop();
    await vi.runOnlyPendingTimersAsync();
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(sync.problem?.code).toBe('board_not_found');
    expect(sync.status).toBe('stopped');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('checks a connection that looks open when the page wakes up, and replaces a silent one', () => {
    const { sync } = makeSync();
    sync.start();
    const first = FakeSocket.latest();
    subscribe(first, () => first.receive({ type: 'snapshot', board: boardView(7) }));
    vi.advanceTimersByTime(1);
    sync.connection.wake();
    expect(first.sent.at(-1)).toEqual({ type: 'ping' });
    vi.advanceTimersByTime(5_000);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.latest().open();
    expect(FakeSocket.latest().sent[0]).toEqual({ type: 'subscribe', token: 'kp_token', last_seq: 7 });
  });

  it('keeps a connection that answers the wake-up ping', () => {
    const { sync } = makeSync();
    sync.start();
    const first = FakeSocket.latest();
    subscribe(first, () => first.receive({ type: 'snapshot', board: boardView(7) }));
    vi.advanceTimersByTime(1);
    sync.connection.wake();
    vi.advanceTimersByTime(100);
    first.receive({ type: 'pong' });
    vi.advanceTimersByTime(5_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(sync.status).toBe('connected');
  });

  it('measures the server clock against its own at welcome, for countdowns', () => {
    let now = 1_000_000;
    const sync = new BoardSync({
      board: 'b1',
      token: 'kp_token',
      url: 'ws://test/api/boards/b1/ws',
      store: new MemoryStore(),
      connection: { createSocket: (url) => new FakeSocket(url), isOnline: () => true, backoff: () => 100 },
      now: () => now,
    });
    sync.start();
    const socket = FakeSocket.latest();
    socket.open();
    // This phone's clock runs ten minutes ahead of the server's.
    now = 1_600_000 + 10 * 60_000;
    socket.receive({ type: 'welcome', board: 'b1', you: ME, role: 'participant', server_time: 1_600_000 });
    expect(sync.board.clockOffset).toBe(-10 * 60_000);
  });
});
