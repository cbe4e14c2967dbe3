import { clockOffset } from '../clock';
import { Connection, type ConnectionOptions, type ConnectionStatus } from '../connection';
import type { BoardView } from '../proto/BoardView';
import type { Command } from '../proto/Command';
import type { ParticipantId } from '../proto/ParticipantId';
import type { Role } from '../proto/Role';
import type { Failure } from '../api';
import type { ServerMessage } from '../proto/ServerMessage';
import type { KeyValueStore } from '../storage';
import { BoardState } from './board.svelte';
import { Outbox, outboxKey, type OutboxOptions } from './outbox.svelte';

export interface SyncOptions {
  board: string;
  token: string;
  url: string;
  store: KeyValueStore;
  /** For tests: replaces parts of the connection (socket factory, timers, online check). */
  connection?: Partial<ConnectionOptions>;
  outbox?: Partial<OutboxOptions>;
  /**
   * Asks over HTTP why a WebSocket could not be opened: an `ErrorBody` when access is refused
   * for good (the board is gone, the token is not valid), null when it may work later.
   */
  probe?: () => Promise<Failure | null>;
  /** This browser's clock (for tests). */
  now?: () => number;
  /**
   * Fetches the board's first view over HTTP, where it is compressed (a big board is a tenth of
   * its size in brotli); the WebSocket then only catches up from its `seq`. Null or a failure
   * leaves the first view to the WebSocket's `snapshot`.
   */
  initial?: () => Promise<BoardView | null>;
  /**
   * Who this browser is on the board (its stored session), known before the WebSocket's
   * `welcome` says so: the first view over HTTP is applied as that participant's.
   */
  viewer?: { me: ParticipantId | null; role: Role };
}

/**
 * One board in this browser: the server's state, the commands on their way, and the
 * connection that carries both. Server messages go in; commands go out through the outbox.
 */
export class BoardSync {
  readonly board: BoardState;
  readonly outbox: Outbox;
  readonly connection: Connection;
  status = $state<ConnectionStatus>('connecting');
  /** The last error that was about no command (e.g. the board is gone). */
  problem = $state<Failure | null>(null);
  /** Resubscriptions caused by a gap in the sequence, for diagnostics and tests. */
  gaps = $state(0);

  constructor(options: SyncOptions) {
    this.board = new BoardState(options.board);
    this.outbox = new Outbox({ store: options.store, key: outboxKey(options.board), ...options.outbox });
    this.probe = options.probe;
    this.initial = options.initial;
    this.viewer = options.viewer;
    this.now = options.now ?? (() => Date.now());
    this.connection = new Connection({
      url: options.url,
      subscribe: () => ({ type: 'subscribe', token: options.token, last_seq: this.board.seq }),
      onMessage: (message) => this.receive(message),
      onStatus: (status) => {
        this.status = status;
      },
      onDisconnect: () => this.detached(),
      onHandshakeFailure: () => this.handshakeFailed(),
      ...options.connection,
    });
  }

  start(): void {
    this.stopped = false;
    const initial = this.initial;
    // Once: a later start (or a board already loaded) resumes over the WebSocket from its seq.
    this.initial = undefined;
    if (!initial || this.board.loaded) {
      this.connection.start();
      return;
    }
    initial()
      .then((view) => {
        if (!view || this.board.loaded || this.stopped) return;
        if (this.viewer) {
          this.board.me = this.viewer.me;
          this.board.role = this.viewer.role;
        }
        this.board.applySnapshot(view);
      })
      .catch(() => {})
      .finally(() => {
        if (!this.stopped) this.connection.start();
      });
  }

  stop(): void {
    this.stopped = true;
    this.connection.stop();
    this.detached();
  }

  /** Makes a command: kept in the outbox and sent when there is a connection. */
  send(command: Command): void {
    this.outbox.add(command);
  }

  receive(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        this.board.me = message.you;
        this.board.role = message.role;
        this.board.clockOffset = clockOffset(message.server_time, this.now());
        this.problem = null;
        break;
      case 'snapshot':
        this.board.applySnapshot(message.board);
        this.ready();
        break;
      case 'changed': {
        const result = this.board.applyChanged(message.first_seq, message.last_seq, message.changes);
        if (result === 'gap') {
          this.gaps += 1;
          this.connection.restart();
          return;
        }
        this.ready();
        break;
      }
      case 'ack':
        this.outbox.acknowledged(message.command_id);
        break;
      case 'error':
        if (message.command_id !== null && this.outbox.find(message.command_id)) {
          this.outbox.refused(message.command_id, { code: message.code, message: message.message });
        } else {
          this.problem = { code: message.code, message: message.message };
        }
        break;
      case 'presence':
        this.board.online = message.online;
        this.board.observers = message.observers;
        // A subscriber that was already at the head gets no `changed`; presence ends the catch-up.
        this.ready();
        break;
      case 'resync':
        this.connection.restart();
        break;
      case 'pong':
        break;
    }
  }

  /** The state has caught up on this connection: commands may go (again). */
  private ready(): void {
    if (this.connection.current !== 'connected' || !this.board.loaded) return;
    if (this.attached) return;
    this.attached = true;
    this.outbox.attach((id, command) =>
      this.connection.send({ type: 'command', command_id: id, command }),
    );
  }

  private attached = false;
  private stopped = false;
  private initial: (() => Promise<BoardView | null>) | undefined;
  private readonly viewer: { me: ParticipantId | null; role: Role } | undefined;
  private readonly now: () => number;
  private readonly probe: (() => Promise<Failure | null>) | undefined;
  private probing = false;

  /** A connection attempt was refused before it opened: find out whether to keep trying. */
  private handshakeFailed(): void {
    if (!this.probe || this.probing) return;
    this.probing = true;
    this.probe()
      .then((refusal) => {
        if (!refusal) return;
        this.problem = refusal;
        this.connection.stop(refusal.code === 'unauthorized' ? 'unauthorized' : 'stopped');
      })
      .catch(() => {})
      .finally(() => {
        this.probing = false;
      });
  }

  /** The connection ended: unanswered commands wait for the next one. */
  private detached(): void {
    this.attached = false;
    this.outbox.detach();
  }
}
