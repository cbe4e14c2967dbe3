import { SvelteMap } from 'svelte/reactivity';
import type { Action } from '../proto/Action';
import type { ErrorCode } from '../proto/ErrorCode';
import type { BoardInfoView } from '../proto/BoardInfoView';
import type { BoardView } from '../proto/BoardView';
import type { CardId } from '../proto/CardId';
import type { Permissions } from '../proto/Permissions';
import type { CardView } from '../proto/CardView';
import type { Change } from '../proto/Change';
import type { ColumnId } from '../proto/ColumnId';
import type { ColumnView } from '../proto/ColumnView';
import type { CommentId } from '../proto/CommentId';
import type { CommentView } from '../proto/CommentView';
import type { LabelId } from '../proto/LabelId';
import type { LabelView } from '../proto/LabelView';
import type { NotificationView } from '../proto/NotificationView';
import type { OwnView } from '../proto/OwnView';
import type { ParticipantId } from '../proto/ParticipantId';
import type { ParticipantView } from '../proto/ParticipantView';
import type { Role } from '../proto/Role';
import type { RoundView } from '../proto/RoundView';
import type { SessionId } from '../proto/SessionId';
import type { SessionView } from '../proto/SessionView';

/**
 * What `applyChanged` did:
 * - `applied`: the changes were new and are now in the state;
 * - `old`: everything in them was seen already (a duplicate), nothing changed;
 * - `gap`: changes before them were missed; the caller must resubscribe with `seq`.
 */
export type ApplyResult = 'applied' | 'old' | 'gap';

/** The author of a card or comment as shown: a name, "anonymous", or erased. */
export type Author = { kind: 'name'; name: string; mine: boolean } | { kind: 'anonymous'; mine: boolean } | { kind: 'erased' };

/**
 * The board as the server last described it. It holds the server's views and nothing else:
 * a `snapshot` replaces everything, a `changed` replaces the views it carries (views are whole
 * replacements by id). No rule of the board is decided here. The tests' copy of a board in Rust
 * (`BoardMirror` in `proto/src/mirror.rs`) folds messages by the same rules; change both together.
 */
export class BoardState {
  /** The sequence number of the last event the state includes; null before the first snapshot. */
  seq = $state<number | null>(null);
  info = $state.raw<BoardInfoView | null>(null);
  /** Active columns in board order. */
  columnOrder = $state.raw<ColumnId[]>([]);
  columns = $state.raw(new SvelteMap<ColumnId, ColumnView>());
  cards = $state.raw(new SvelteMap<CardId, CardView>());
  comments = $state.raw(new SvelteMap<CommentId, CommentView>());
  participants = $state.raw(new SvelteMap<ParticipantId, ParticipantView>());
  labels = $state.raw(new SvelteMap<LabelId, LabelView>());
  /** Sessions in the order they were planned (a map keeps the order of insertion). */
  sessions = $state.raw(new SvelteMap<SessionId, SessionView>());
  /** Vote rounds, oldest first; the last one takes votes now. */
  rounds = $state.raw<RoundView[]>([]);
  /** This participant's notifications, oldest first (the most recent ones the server keeps). */
  notifications = $state.raw<NotificationView[]>([]);
  /** How many notifications the server keeps per participant (from the snapshot); as many are kept here. */
  private notificationsKept = 0;

  /**
   * What counts as new on this visit: things made after this sequence number. It is what the
   * server said this participant had seen when the page first got the board (on any device),
   * and moves only when they mark everything seen here. Null for observers. On a first visit
   * (nothing marked yet) it is the board as first shown: nothing is new on a first visit.
   */
  visitBaseline = $state<number | null>(null);
  /** The board's sequence number when the page first got it: what came later arrived live. */
  visitUntil = $state<number | null>(null);
  /** Whether the server had no "seen" mark for this participant when the page got the board. */
  firstVisit = $state(false);

  /**
   * The server's clock minus this browser's, measured at `welcome` (see `clock.ts`): a
   * countdown to `timer_ends_at` is read on the server's clock.
   */
  clockOffset = $state(0);

  /** Who this browser is on the board (from `welcome`); null for an observer. */
  me = $state<ParticipantId | null>(null);
  role = $state<Role | null>(null);
  /** Who is online now (from `presence`). */
  online = $state.raw<ParticipantId[]>([]);
  observers = $state(0);

  readonly id: string;

  constructor(id: string) {
    this.id = id;
  }

  get loaded(): boolean {
    return this.seq !== null;
  }

  /** Replaces everything with a whole board. */
  applySnapshot(view: BoardView): void {
    this.info = view.info;
    this.columns = new SvelteMap(view.columns.map((column) => [column.id, column]));
    this.columnOrder = view.columns.filter((column) => !column.archived).map((column) => column.id);
    this.cards = new SvelteMap(view.cards.map((card) => [card.id, card]));
    this.comments = new SvelteMap(view.comments.map((comment) => [comment.id, comment]));
    this.participants = new SvelteMap(view.participants.map((participant) => [participant.id, participant]));
    this.labels = new SvelteMap(view.labels.map((label) => [label.id, label]));
    this.sessions = new SvelteMap(view.sessions.map((session) => [session.id, session]));
    this.rounds = [...view.rounds].sort((a, b) => a.number - b.number);
    this.notifications = view.notifications;
    this.notificationsKept = view.notifications_kept;
    this.seq = view.seq;
    if (this.visitBaseline === null && this.me !== null) {
      const seen = this.own?.seen_through ?? 0;
      this.firstVisit = seen === 0;
      this.visitBaseline = seen === 0 ? view.seq : seen;
      this.visitUntil = view.seq;
    }
  }

  /** What the server tells this participant alone: seen and read marks, followed cards. */
  get own(): OwnView | null {
    return this.me === null ? null : (this.participants.get(this.me)?.own ?? null);
  }

  /** Notifications not read yet, newest first. */
  get unreadNotifications(): NotificationView[] {
    const read = this.own?.notifications_read_through ?? 0;
    return this.notifications.filter((notification) => notification.seq > read).reverse();
  }

  /** Whether this participant follows a card. */
  follows(card: CardId): boolean {
    return this.own?.following.includes(card) ?? false;
  }

  /**
   * Applies a `changed` message covering `firstSeq..=lastSeq`. It is applied when it follows
   * the last sequence seen. One that overlaps what was seen and goes further is applied as
   * well: its views are the state at `lastSeq`, and views are whole replacements.
   */
  applyChanged(firstSeq: number, lastSeq: number, changes: Change[]): ApplyResult {
    if (this.seq === null) return 'gap';
    if (lastSeq <= this.seq) return 'old';
    if (firstSeq > this.seq + 1) return 'gap';
    for (const change of changes) this.applyChange(change);
    this.seq = lastSeq;
    return 'applied';
  }

  private applyChange(change: Change): void {
    switch (change.kind) {
      case 'board':
        this.info = change.value;
        break;
      case 'participant':
        this.participants.set(change.value.id, change.value);
        break;
      case 'column':
        this.columns.set(change.value.id, change.value);
        break;
      case 'column_order':
        this.columnOrder = change.value;
        break;
      case 'cards_inserted': {
        // Only where the new cards went: out of the list wherever they were, then in at their
        // places (top first), so applying it again is harmless.
        const column = this.columns.get(change.value.column);
        if (!column) break;
        const inserted = change.value.cards;
        const cards = column.cards.filter((card) => !inserted.some((place) => place.card === card));
        for (const place of inserted) cards.splice(Math.min(place.index, cards.length), 0, place.card);
        this.columns.set(column.id, { ...column, cards });
        break;
      }
      case 'label':
        this.labels.set(change.value.id, change.value);
        break;
      case 'card':
        this.cards.set(change.value.id, change.value);
        break;
      case 'comment':
        this.comments.set(change.value.id, change.value);
        break;
      case 'session':
        this.sessions.set(change.value.id, change.value);
        break;
      case 'notification': {
        const notification = change.value;
        const all = [...this.notifications.filter((found) => found.seq !== notification.seq), notification];
        all.sort((a, b) => a.seq - b.seq);
        this.notifications = all.slice(Math.max(0, all.length - this.notificationsKept));
        break;
      }
      case 'round': {
        const round = change.value;
        this.rounds = [...this.rounds.filter((found) => found.number !== round.number), round].sort(
          (a, b) => a.number - b.number,
        );
        break;
      }
    }
  }

  /** Active columns in board order. */
  get activeColumns(): ColumnView[] {
    const found: ColumnView[] = [];
    for (const id of this.columnOrder) {
      const column = this.columns.get(id);
      if (column && !column.archived) found.push(column);
    }
    return found;
  }

  get archivedColumns(): ColumnView[] {
    return [...this.columns.values()].filter((column) => column.archived);
  }

  /** The active cards of a column, top first. */
  cardsOf(column: ColumnView): CardView[] {
    const found: CardView[] = [];
    for (const id of column.cards) {
      const card = this.cards.get(id);
      if (card && !card.archived) found.push(card);
    }
    return found;
  }

  /** The cards inside a group, in the group's order (archived ones left out). */
  membersOf(group: CardView): CardView[] {
    const found: CardView[] = [];
    for (const id of group.members) {
      const card = this.cards.get(id);
      if (card && !card.archived) found.push(card);
    }
    return found;
  }

  /** The active cards of a column with the cards inside its groups. */
  cardsWithMembers(column: ColumnView): CardView[] {
    return this.cardsOf(column).flatMap((card) => (card.is_group ? [card, ...this.membersOf(card)] : [card]));
  }

  /** The groups on the board, in board order. */
  get groups(): CardView[] {
    return this.activeColumns.flatMap((column) => this.cardsOf(column).filter((card) => card.is_group));
  }

  /** A card's comments: top-level ones oldest first, each with its replies. */
  threadOf(card: CardView): { comment: CommentView; replies: CommentView[] }[] {
    const all = card.comments.map((id) => this.comments.get(id)).filter((found) => found !== undefined);
    const threads = all.filter((comment) => comment.reply_to === null).map((comment) => ({ comment, replies: [] as CommentView[] }));
    const byId = new Map(threads.map((thread) => [thread.comment.id, thread]));
    for (const comment of all) {
      if (comment.reply_to !== null) byId.get(comment.reply_to)?.replies.push(comment);
    }
    return threads;
  }

  participant(id: ParticipantId | null): ParticipantView | undefined {
    return id === null ? undefined : this.participants.get(id);
  }

  /**
   * Who wrote a card or a comment, as far as this viewer may know: the server sends no author
   * for anonymous writing, except to the author themself (`mine`).
   */
  authorOf(item: { author: ParticipantId | null; anonymous: boolean }): Author {
    const mine = this.me !== null && item.author === this.me;
    if (item.anonymous || item.author === null) return { kind: 'anonymous', mine };
    const name = this.participants.get(item.author)?.display_name;
    return name ? { kind: 'name', name, mine } : { kind: 'erased' };
  }

  /** The dots this browser's participant has on a card, as the server counts them. */
  myDots(card: CardView): number {
    if (this.me === null) return 0;
    return card.votes.find((vote) => vote.participant === this.me)?.dots ?? 0;
  }

  /** The session that runs now, as the server says. */
  get runningSession(): SessionView | undefined {
    const id = this.info?.running_session;
    return id ? this.sessions.get(id) : undefined;
  }

  /** The round that takes votes now (the last one). */
  get currentRound(): RoundView | undefined {
    return this.rounds[this.rounds.length - 1];
  }

  /** Whether the current round's dots are hidden: everyone sees only their own, and no totals. */
  get votesHidden(): boolean {
    const round = this.currentRound;
    return round !== undefined && round.hidden && !round.revealed;
  }

  /**
   * Whether this browser's participant may do `action` now: null when they may, otherwise the
   * code the server would refuse it with (from the board's `gates`). Observers never act.
   */
  gate(action: Action): ErrorCode | null {
    const mine = this.me === null ? undefined : this.participants.get(this.me);
    if (!mine || !mine.permissions.contribute || this.info === null) return 'read_only';
    const gate = this.info.gates[action];
    return mine.permissions.facilitate ? gate.facilitator : gate.participant;
  }

  /** The dots left to place: the board's budget less the dots the server says are used. */
  get votesLeft(): number | null {
    if (this.me === null || this.info === null) return null;
    const used = this.participants.get(this.me)?.votes_used ?? 0;
    return this.info.settings.vote_budget - used;
  }

  /** What this browser's participant may do, as the server's rules say (observers: nothing). */
  get permissions(): Permissions {
    const mine = this.me === null ? undefined : this.participants.get(this.me)?.permissions;
    return mine ?? { contribute: false, change_any_card: false, facilitate: false };
  }

  get isFacilitator(): boolean {
    return this.permissions.facilitate;
  }

  get mayContribute(): boolean {
    return this.permissions.contribute;
  }

  /** Whether to offer the author's controls (edit, move, archive) on a card; the server decides. */
  mayChange(card: CardView): boolean {
    const may = this.permissions;
    return may.contribute && (may.change_any_card || card.author === this.me);
  }
}
