// Builders of server views for the unit tests.
import type { BoardView } from '../lib/proto/BoardView';
import type { CardView } from '../lib/proto/CardView';
import type { ColumnView } from '../lib/proto/ColumnView';
import type { CommentView } from '../lib/proto/CommentView';
import type { Gate } from '../lib/proto/Gate';
import type { Gates } from '../lib/proto/Gates';
import type { ParticipantView } from '../lib/proto/ParticipantView';
import type { RoundView } from '../lib/proto/RoundView';
import type { SessionView } from '../lib/proto/SessionView';
import type { DiffSpan } from '../lib/proto/DiffSpan';
import type { StatementVersionView } from '../lib/proto/StatementVersionView';
import type { SocketLike } from '../lib/connection';
import type { ClientMessage } from '../lib/proto/ClientMessage';
import type { ServerMessage } from '../lib/proto/ServerMessage';

export const ME = 'p-me';
export const OTHER = 'p-other';

export function card(id: string, column: string, overrides: Partial<CardView> = {}): CardView {
  return {
    id,
    column,
    title: `Card ${id}`,
    body: '',
    author: ME,
    anonymous: false,
    moderated: false,
    text_version: 1,
    status: 'new',
    labels: [],
    archived: false,
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
    created_seq: 1,
    vote_total: 0,
    votes: [],
    group: null,
    is_group: false,
    members: [],
    proposal: null,
    likes: [],
    comments: [],
    total_likes: 0,
    total_comments: 0,
    ...overrides,
  };
}

export function column(id: string, cards: string[], overrides: Partial<ColumnView> = {}): ColumnView {
  return { id, title: `Column ${id}`, text_version: 1, archived: false, cards, statement: null, ...overrides };
}

/** One version of a statement; `diff` is what the server would send (given, never computed here). */
export function version(number: number, text: string, overrides: Partial<StatementVersionView> = {}): StatementVersionView {
  const diff: DiffSpan[] = number === 1 ? [{ kind: 'added', text }] : [{ kind: 'same', text }];
  return {
    number,
    text,
    author: ME,
    anonymous: false,
    reason: number === 1 ? null : `Reason ${number}`,
    adopted_at: 1_700_000_000_000 + number * 60_000,
    adopted_seq: number,
    session: null,
    proposal: number === 1 ? null : `proposal-v${number}`,
    diff,
    ...overrides,
  };
}

/** A statement: a column with its versions (oldest first) whose cards are its open proposals. */
export function statement(id: string, versions: StatementVersionView[], cards: string[] = [], overrides: Partial<ColumnView> = {}): ColumnView {
  return column(id, cards, { title: `Statement ${id}`, statement: { versions }, ...overrides });
}

/** A proposed wording: a card whose title is the reason and whose body is the wording. */
export function proposal(
  id: string,
  statementId: string,
  baseVersion: number,
  overrides: Partial<CardView> & { outdated?: boolean; adoptedAs?: number | null } = {},
): CardView {
  const { outdated = false, adoptedAs = null, ...rest } = overrides;
  return card(id, statementId, {
    title: `Reason ${id}`,
    body: `Wording ${id}`,
    proposal: { statement: statementId, base_version: baseVersion, outdated, adopted_as: adoptedAs },
    ...rest,
  });
}

export function participant(id: string, overrides: Partial<ParticipantView> = {}): ParticipantView {
  return { id, display_name: `Name ${id}`, role: 'participant', permissions: { contribute: true, change_any_card: false, facilitate: false }, erased: false, removed: false, joined_at: 1_700_000_000_000, votes_used: 0, own: null, ...overrides };
}

export function comment(id: string, cardId: string, overrides: Partial<CommentView> = {}): CommentView {
  return {
    id,
    card: cardId,
    reply_to: null,
    author: ME,
    anonymous: false,
    body: `Comment ${id}`,
    text_version: 1,
    deleted: false,
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
    created_seq: 1,
    mentions: [],
    likes: [],
    ...overrides,
  };
}

export function boardView(seq: number, overrides: Partial<BoardView> = {}): BoardView {
  return {
    id: 'b1',
    seq,
    info: {
      title: 'Leaderin kulmakivet',
      description: '',
      text_version: 1,
      language: 'fi',
      settings: { vote_budget: 5, votes_per_card: 3 },
      options: { anonymous: false, participants_may_group: false },
      created_at: 1_700_000_000_000,
      locked: false,
      running_session: null,
      phase: null,
      timer_ends_at: null,
      anonymous_now: false,
      gates: openGates(),
      voting: { voted: 0, voters: 2 },
    },
    columns: [column('c1', ['k1', 'k2']), column('c2', [])],
    participants: [participant(ME), participant(OTHER)],
    labels: [],
    cards: [card('k1', 'c1'), card('k2', 'c1', { author: OTHER })],
    comments: [],
    sessions: [],
    rounds: [round(1)],
    notifications: [],
    notifications_kept: 200,
    ...overrides,
  };
}

/** What the server sends between sessions: everyone may do everything (grouping is the facilitators'). */
export function openGates(): Gates {
  const open: Gate = { facilitator: null, participant: null };
  return {
    add_card: open,
    comment: open,
    react: open,
    vote: open,
    group: { facilitator: null, participant: 'forbidden' },
  };
}

export function session(id: string, overrides: Partial<SessionView> = {}): SessionView {
  return {
    id,
    name: `Työpaja ${id}`,
    date: '2026-06-01',
    anonymous: false,
    phase: null,
    created_at: 1_700_000_000_000,
    started_at: null,
    ended_at: null,
    started_seq: null,
    ended_seq: null,
    ...overrides,
  };
}

export function round(number: number, overrides: Partial<RoundView> = {}): RoundView {
  return {
    number,
    session: null,
    settings: { vote_budget: 5, votes_per_card: 3 },
    hidden: false,
    revealed: false,
    current: true,
    started_at: 1_700_000_000_000,
    results: [],
    ...overrides,
  };
}

/** A WebSocket stand-in: records what the client sends, lets the test play the server. */
export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: ClientMessage[] = [];
  closedWith: number | undefined;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static latest(): FakeSocket {
    const socket = FakeSocket.all[FakeSocket.all.length - 1];
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as ClientMessage);
  }

  close(code?: number): void {
    this.readyState = 3;
    this.closedWith = code ?? 1000;
  }

  /** The server accepted the connection. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }

  /** The server sent a message. */
  receive(message: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }

  /** The connection broke. */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }

  commands(): { command_id: string; type: string }[] {
    return this.sent.flatMap((message) =>
      message.type === 'command' ? [{ command_id: message.command_id, type: message.command.type }] : [],
    );
  }
}
