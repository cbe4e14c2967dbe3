import type { ClientMessage } from './proto/ClientMessage';
import type { ServerMessage } from './proto/ServerMessage';

/**
 * - `connecting`: the first attempt;
 * - `connected`: subscribed (the server said `welcome`);
 * - `reconnecting`: the connection dropped, trying again;
 * - `offline`: the browser says it is offline, or several attempts failed (still trying);
 * - `unauthorized`: the server refused the token; no more attempts;
 * - `stopped`: closed on purpose.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'unauthorized' | 'stopped';

/** The part of `WebSocket` used here, so tests can hand in a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ConnectionOptions {
  url: string;
  /** The `subscribe` message for the next connection (it carries the last sequence seen). */
  subscribe: () => ClientMessage;
  onMessage: (message: ServerMessage) => void;
  onStatus: (status: ConnectionStatus) => void;
  /** Called when a connection ends, before any reconnect. */
  onDisconnect?: () => void;
  /** Called when an attempt closed before it ever opened (refused, or no network). */
  onHandshakeFailure?: () => void;
  createSocket?: (url: string) => SocketLike;
  isOnline?: () => boolean;
  /** Delay before attempt `n` (1-based) after a drop. */
  backoff?: (attempt: number) => number;
  pingEvery?: number;
  /** A connection that hears nothing for this long is taken as dead. */
  silenceLimit?: number;
  /** Failed attempts in a row after which the state shows as offline. */
  offlineAfter?: number;
}

const OPEN = 1;

export function defaultBackoff(attempt: number): number {
  const base = Math.min(15_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * One WebSocket to one board, kept alive: it subscribes on every (re)connect with the last
 * sequence seen, reconnects with backoff, pings, and notices a silent connection.
 */
export class Connection {
  private readonly options: Required<Omit<ConnectionOptions, 'onDisconnect' | 'onHandshakeFailure'>> &
    Pick<ConnectionOptions, 'onDisconnect' | 'onHandshakeFailure'>;
  private socket: SocketLike | null = null;
  private status: ConnectionStatus = 'connecting';
  private attempts = 0;
  private everConnected = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;

  constructor(options: ConnectionOptions) {
    this.options = {
      createSocket: (url) => new WebSocket(url),
      isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
      backoff: defaultBackoff,
      pingEvery: 15_000,
      silenceLimit: 40_000,
      offlineAfter: 3,
      ...options,
    };
  }

  get current(): ConnectionStatus {
    return this.status;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(status: 'stopped' | 'unauthorized' = 'stopped'): void {
    this.stopped = true;
    this.clearTimers();
    this.drop(1000, 'bye');
    this.setStatus(status);
  }

  /** Sends a message when subscribed; false when there is no connection to send on. */
  send(message: ClientMessage): boolean {
    if (this.status !== 'connected' || !this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Closes the connection and subscribes again at once (after a gap or a `resync`). */
  restart(): void {
    if (this.stopped || this.status === 'unauthorized') return;
    this.drop(4000, 'resubscribe');
    this.attempts = 0;
    this.setStatus('reconnecting');
    this.open();
  }

  /** The browser lost its network: no attempts until it is back. */
  wentOffline(): void {
    if (this.stopped || this.status === 'unauthorized') return;
    this.clearTimers();
    this.drop(1000, 'offline');
    this.setStatus('offline');
  }

  /**
   * The network is back, or the page became visible again: connect now if not connected; if a
   * connection seems open (a phone may have slept on it), make sure it still answers.
   */
  wake(): void {
    if (this.stopped || this.status === 'unauthorized') return;
    if (this.socket) {
      this.checkAlive(this.socket);
      return;
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.open();
  }

  private open(): void {
    if (this.stopped) return;
    if (!this.options.isOnline()) {
      this.setStatus('offline');
      return;
    }
    if (this.status !== 'connected' && this.status !== 'offline') {
      this.setStatus(this.everConnected ? 'reconnecting' : 'connecting');
    }
    let socket: SocketLike;
    try {
      socket = this.options.createSocket(this.options.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.lastHeard = Date.now();
      socket.send(JSON.stringify(this.options.subscribe()));
      this.startPing(socket);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      this.lastHeard = Date.now();
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'welcome') {
        this.attempts = 0;
        this.everConnected = true;
        this.setStatus('connected');
      }
      if (message.type === 'error' && message.command_id === null && message.code === 'unauthorized') {
        this.setStatus('unauthorized');
      }
      this.options.onMessage(message);
    };
    socket.onerror = () => {
      // A close event follows; it decides what happens next.
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopPing();
      this.options.onDisconnect?.();
      if (event.code === 4001 || this.status === 'unauthorized') {
        this.setStatus('unauthorized');
        return;
      }
      if (this.stopped) return;
      this.scheduleRetry();
      if (!opened) this.options.onHandshakeFailure?.();
    };
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.attempts += 1;
    if (!this.options.isOnline() || this.attempts >= this.options.offlineAfter) this.setStatus('offline');
    else this.setStatus(this.everConnected ? 'reconnecting' : 'connecting');
    if (!this.options.isOnline()) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, this.options.backoff(this.attempts));
  }

  private drop(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    this.stopPing();
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // already closed
    }
    this.options.onDisconnect?.();
  }

  private checkAlive(socket: SocketLike): void {
    if (socket.readyState !== OPEN) return;
    const asked = Date.now();
    socket.send(JSON.stringify({ type: 'ping' } satisfies ClientMessage));
    setTimeout(() => {
      if (this.socket === socket && this.lastHeard < asked) this.restart();
    }, 5_000);
  }

  private startPing(socket: SocketLike): void {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (this.socket !== socket) return;
      if (Date.now() - this.lastHeard > this.options.silenceLimit) {
        // Nothing heard for too long: the connection is dead even if the browser has not noticed.
        this.drop(4000, 'silent');
        this.scheduleRetry();
        return;
      }
      if (socket.readyState === OPEN) socket.send(JSON.stringify({ type: 'ping' } satisfies ClientMessage));
    }, this.options.pingEvery);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopPing();
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus(status);
  }
}
