import type { Command } from '../proto/Command';
import type { CommandId } from '../proto/CommandId';
import type { ErrorBody } from '../proto/ErrorBody';
import { readJson, writeJson, type KeyValueStore } from '../storage';

/**
 * - `waiting`: not yet acknowledged; sent whenever there is a connection (again after a
 *   reconnect, with the same id, so the server never applies it twice);
 * - `failed`: the server refused it; kept, with the server's answer, until the person retries
 *   or drops it;
 * - `stale`: an edit based on a version someone else changed first; the person chooses.
 */
export type EntryStatus = 'waiting' | 'failed' | 'stale';

export interface OutboxEntry {
  id: CommandId;
  command: Command;
  status: EntryStatus;
  error?: ErrorBody;
  /** When the person made it (ms since the epoch, this browser's clock). */
  at: number;
}

/** Answers that say "not now" rather than "no": the same command is sent again later. */
const TRANSIENT = new Set(['rate_limited', 'unavailable', 'not_subscribed', 'shutting_down']);

/** Commands that name the version they were based on (a proposed wording: the statement's version). */
const EDITS = new Set<Command['type']>([
  'edit_card',
  'edit_comment',
  'rename_column',
  'edit_board',
  'propose_wording',
  'rebase_proposal',
]);

/**
 * Taps (a dot, a like) whose refusal is told where the person tapped rather than kept as
 * unsent: trying one again later means nothing ("all your dots are used" stays true).
 */
const MOMENTARY = new Set<Command['type']>(['cast_vote', 'withdraw_vote', 'toggle_reaction']);

/** A tap the server refused, to be told beside the control that made it. */
export interface Refusal {
  id: CommandId;
  command: Command;
  error: ErrorBody;
}

export interface OutboxOptions {
  store: KeyValueStore;
  key: string;
  newId?: () => string;
  now?: () => number;
  /** Schedules a call (for pacing); returns a function that cancels it. */
  schedule?: (run: () => void, ms: number) => () => void;
  /** Commands sent and not yet answered, at most. */
  window?: number;
  /** Sends per second, sustained; the server allows 20 per participant. */
  perSecond?: number;
  /** Sends at once after a quiet spell. */
  burst?: number;
}

export type Sender = (id: CommandId, command: Command) => boolean;

/**
 * Every command a person makes, kept (in storage) until the server answers it. Commands are
 * sent in the order they were made, a few at a time and paced below the server's rate limit.
 */
export class Outbox {
  entries = $state<OutboxEntry[]>([]);
  /** The latest refused tap (see `MOMENTARY`); it never stays in `entries`. */
  lastRefusal = $state.raw<Refusal | null>(null);

  private readonly store: KeyValueStore;
  private readonly key: string;
  private readonly newId: () => string;
  private readonly now: () => number;
  private readonly schedule: (run: () => void, ms: number) => () => void;
  private readonly window: number;
  private readonly perSecond: number;
  private readonly burst: number;

  private sender: Sender | null = null;
  private readonly inFlight = new Set<CommandId>();
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private cancelTimer: (() => void) | null = null;

  constructor(options: OutboxOptions) {
    this.store = options.store;
    this.key = options.key;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.now = options.now ?? (() => Date.now());
    this.schedule =
      options.schedule ??
      ((run, ms) => {
        const timer = setTimeout(run, ms);
        return () => clearTimeout(timer);
      });
    this.window = options.window ?? 8;
    this.perSecond = options.perSecond ?? 10;
    this.burst = options.burst ?? 20;
    this.tokens = this.burst;
    this.refilledAt = this.now();
    const saved = readJson<OutboxEntry[]>(this.store, this.key);
    // A refused tap kept by an older version of the client is no longer anything to do.
    this.entries = Array.isArray(saved)
      ? saved.filter(isEntry).filter((entry) => entry.status === 'waiting' || !MOMENTARY.has(entry.command.type))
      : [];
  }

  /** Keeps a new command and sends it when it can. Returns its entry. */
  add(command: Command): OutboxEntry {
    if (MOMENTARY.has(command.type)) this.lastRefusal = null;
    const entry: OutboxEntry = { id: this.newId(), command, status: 'waiting', at: this.now() };
    this.entries.push(entry);
    this.persist();
    this.pump();
    return entry;
  }

  /** A connection is ready for commands: everything waiting goes out again, oldest first. */
  attach(sender: Sender): void {
    this.sender = sender;
    this.inFlight.clear();
    this.pump();
  }

  /** The connection is gone: whatever was sent and not answered is sent again on the next one. */
  detach(): void {
    this.sender = null;
    this.inFlight.clear();
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  get waiting(): OutboxEntry[] {
    return this.entries.filter((entry) => entry.status === 'waiting');
  }

  get failed(): OutboxEntry[] {
    return this.entries.filter((entry) => entry.status === 'failed');
  }

  get stale(): OutboxEntry[] {
    return this.entries.filter((entry) => entry.status === 'stale');
  }

  find(id: CommandId): OutboxEntry | undefined {
    return this.entries.find((entry) => entry.id === id);
  }

  /** The server acknowledged a command (applied, duplicate or unchanged): it is done. */
  acknowledged(id: CommandId): OutboxEntry | undefined {
    const entry = this.find(id);
    this.inFlight.delete(id);
    if (entry) {
      this.entries = this.entries.filter((other) => other.id !== id);
      this.persist();
    }
    this.pump();
    return entry;
  }

  /** The server answered a command with an error. */
  refused(id: CommandId, error: ErrorBody): OutboxEntry | undefined {
    this.inFlight.delete(id);
    const index = this.entries.findIndex((entry) => entry.id === id);
    const entry = this.entries[index];
    if (!entry) {
      this.pump();
      return undefined;
    }
    if (TRANSIENT.has(error.code)) {
      // Not refused, only "not now": the same command (same id) goes again after a pause.
      this.pausedUntil = this.now() + 1000;
      this.pump();
      return entry;
    }
    if (MOMENTARY.has(entry.command.type)) {
      this.entries.splice(index, 1);
      this.lastRefusal = { id, command: entry.command, error };
      this.persist();
      this.pump();
      return { ...entry, status: 'failed', error };
    }
    const status: EntryStatus = error.code === 'stale_version' && EDITS.has(entry.command.type) ? 'stale' : 'failed';
    const updated: OutboxEntry = { ...entry, status, error };
    this.entries[index] = updated;
    this.persist();
    this.pump();
    return updated;
  }

  /** Sends a refused command again, as a new command (the refused id is spent). */
  retry(id: CommandId): void {
    const index = this.entries.findIndex((entry) => entry.id === id);
    const entry = this.entries[index];
    if (!entry || entry.status === 'waiting') return;
    this.entries.splice(index, 1);
    this.entries.push({ id: this.newId(), command: entry.command, status: 'waiting', at: this.now() });
    this.persist();
    this.pump();
  }

  /** Forgets a refused command. */
  drop(id: CommandId): void {
    const entry = this.find(id);
    if (!entry || entry.status === 'waiting') return;
    this.entries = this.entries.filter((other) => other.id !== id);
    this.persist();
  }

  /** Replaces a stale edit with a new command (a new id), e.g. the same text on the current version. */
  replace(id: CommandId, command: Command): OutboxEntry | undefined {
    const entry = this.find(id);
    if (!entry || entry.status === 'waiting') return undefined;
    this.entries = this.entries.filter((other) => other.id !== id);
    return this.add(command);
  }

  /** Sends what can be sent now; schedules itself when pacing holds commands back. */
  pump(): void {
    if (!this.sender) return;
    const now = this.now();
    if (now < this.pausedUntil) {
      this.later(this.pausedUntil - now);
      return;
    }
    this.refill(now);
    for (const entry of this.entries) {
      if (entry.status !== 'waiting' || this.inFlight.has(entry.id)) continue;
      if (this.inFlight.size >= this.window) return;
      if (this.tokens < 1) {
        this.later(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
        return;
      }
      if (!this.sender(entry.id, entry.command)) return;
      this.tokens -= 1;
      this.inFlight.add(entry.id);
    }
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.perSecond);
    this.refilledAt = now;
  }

  private later(ms: number): void {
    if (this.cancelTimer) return;
    this.cancelTimer = this.schedule(() => {
      this.cancelTimer = null;
      this.pump();
    }, ms);
  }

  private persist(): void {
    writeJson(
      this.store,
      this.key,
      this.entries.map((entry) => ({ ...entry })),
    );
  }
}

function isEntry(value: unknown): value is OutboxEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as OutboxEntry;
  return (
    typeof entry.id === 'string' &&
    typeof entry.command === 'object' &&
    entry.command !== null &&
    (entry.status === 'waiting' || entry.status === 'failed' || entry.status === 'stale')
  );
}

export function outboxKey(board: string): string {
  return `kipina.outbox.${board}`;
}
