/**
 * Keeping up between camps, in the browser: what is new since the last visit, when the board
 * counts as seen, `@name` mentions while typing and when shown. Who a comment mentions is decided by the server (the
 * comment's `mentions`); here they are only found in the text to be shown, and suggested while
 * typing.
 */
import type { CardView } from './proto/CardView';
import type { Command } from './proto/Command';
import type { ColumnView } from './proto/ColumnView';
import type { CommentView } from './proto/CommentView';
import type { ParticipantId } from './proto/ParticipantId';
import type { ParticipantView } from './proto/ParticipantView';

/** Lower case without accents: "Ääniä" → "aania", as the server's search folds. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase();
}

/** Whether `char` is a letter or a digit (a name cannot start or end next to one). */
function isWordChar(char: string | undefined): boolean {
  return char !== undefined && /[\p{L}\p{N}]/u.test(char);
}

/** A run of a comment's text, with whether it is a mention. */
export interface TextSpan {
  text: string;
  mention: boolean;
}

/**
 * Splits `text` into plain runs and `@Name` runs for the given names (the people the server
 * says the comment mentions). Longer names are matched first; case does not matter.
 */
export function mentionSpans(text: string, names: string[]): TextSpan[] {
  const sorted = [...new Set(names.filter((name) => name.trim() !== ''))].sort((a, b) => b.length - a.length);
  const spans: TextSpan[] = [];
  let plain = '';
  let index = 0;
  const lower = text.toLowerCase();
  while (index < text.length) {
    const boundaryBefore = !isWordChar(text[index - 1]);
    if (text[index] === '@' && boundaryBefore) {
      const name = sorted.find((candidate) => {
        const end = index + 1 + candidate.length;
        return lower.startsWith(candidate.toLowerCase(), index + 1) && !isWordChar(text[end]);
      });
      if (name) {
        if (plain) spans.push({ text: plain, mention: false });
        plain = '';
        spans.push({ text: text.slice(index, index + 1 + name.length), mention: true });
        index += 1 + name.length;
        continue;
      }
    }
    plain += text[index];
    index += 1;
  }
  if (plain) spans.push({ text: plain, mention: false });
  return spans;
}

/** A mention being typed: the `@` at `start` and what follows it up to the caret. */
export interface MentionQuery {
  start: number;
  query: string;
}

/**
 * The mention being typed at `caret`, if any: an `@` at the start or after a space or
 * punctuation, followed by at most three words (names have spaces) and no line break.
 */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  if (isWordChar(before[at - 1])) return null;
  const query = before.slice(at + 1);
  if (/[\n\r]/.test(query) || query.split(' ').length > 3 || query.length > 60) return null;
  return { start: at, query };
}

/** People whose name (or any word of it) starts with `query`, folded; at most `limit`. */
export function suggestPeople(query: string, people: ParticipantView[], me: ParticipantId | null, limit = 6): ParticipantView[] {
  const wanted = fold(query.trim());
  return people
    .filter((person) => !person.erased && person.display_name && person.id !== me)
    .filter((person) => {
      const name = fold(person.display_name ?? '');
      return wanted === '' || name.startsWith(wanted) || name.split(/[\s-]+/).some((word) => word.startsWith(wanted));
    })
    .sort((a, b) => (a.display_name ?? '').localeCompare(b.display_name ?? ''))
    .slice(0, limit);
}

/** `text` with the mention being typed (from `start` to `caret`) replaced by `@name `. */
export function insertMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

/**
 * Whether something made at `seq` by `author` is new to this viewer: made after `baseline` and
 * no later than `until`, the board as the page first got it. What arrives while the page is
 * open is seen as it arrives, so it is not "new since your last visit".
 */
export function isNew(
  item: { created_seq: number; author: ParticipantId | null },
  baseline: number | null,
  me: ParticipantId | null,
  until: number | null = null,
): boolean {
  return (
    baseline !== null &&
    item.created_seq > baseline &&
    (until === null || item.created_seq <= until) &&
    (me === null || item.author !== me)
  );
}

/** Whether a statement got a new wording since `baseline` (its first version is not a change). */
export function statementChanged(column: ColumnView, baseline: number | null, until: number | null = null): boolean {
  const versions = column.statement?.versions ?? [];
  const current = versions[versions.length - 1];
  return (
    current !== undefined &&
    current.number > 1 &&
    baseline !== null &&
    current.adopted_seq > baseline &&
    (until === null || current.adopted_seq <= until)
  );
}

/** What is new in one column: cards, and comments on its cards. */
export interface ColumnNews {
  cards: number;
  comments: number;
}

/** Counts what is new in `column` since `baseline` (archived cards and deleted comments left out). */
export function columnNews(
  column: ColumnView,
  cards: (column: ColumnView) => CardView[],
  comment: (id: string) => CommentView | undefined,
  baseline: number | null,
  me: ParticipantId | null,
  until: number | null = null,
): ColumnNews {
  const news: ColumnNews = { cards: 0, comments: 0 };
  if (baseline === null) return news;
  for (const card of cards(column)) {
    if (isNew(card, baseline, me, until)) news.cards += 1;
    for (const id of card.comments) {
      const found = comment(id);
      if (found && !found.deleted && isNew(found, baseline, me, until)) news.comments += 1;
    }
  }
  return news;
}

/** What marking the board seen reads of it (a `BoardState`). */
export interface SeenBoard {
  readonly seq: number | null;
  readonly own: { seen_through: number } | null;
  readonly loaded: boolean;
  readonly firstVisit: boolean;
  visitBaseline: number | null;
}

/** The `mark_seen` that tells the server the board is seen as it is now; null when that would not move the mark forward. */
export function seenMark(board: Pick<SeenBoard, 'seq' | 'own'>): Command | null {
  const own = board.own;
  const seq = board.seq;
  if (!own || seq === null || seq <= own.seen_through) return null;
  return { type: 'mark_seen', through: seq };
}

/** The page as far as leaving it goes: a document that can be hidden, a window that can go. */
export interface PageEvents {
  document: EventTarget & { readonly visibilityState: DocumentVisibilityState };
  window: EventTarget;
}

/**
 * When the board counts as seen, for one page. The server remembers how far this participant has
 * seen, for every device they use; "your last visit" ends when the page is left or hidden (a phone
 * put away), a first visit is seen as soon as the board is there, and "mark all seen" ends it now.
 */
export class SeenMarking {
  #firstMarked = false;

  constructor(
    private readonly board: SeenBoard,
    private readonly send: (command: Command) => void,
  ) {}

  /** Tells the server this participant has seen the board as it is now (marks only move forward). */
  mark(): void {
    const command = seenMark(this.board);
    if (command) this.send(command);
  }

  /** Nothing stays highlighted: everything up to now counts as seen, here and on other devices. */
  markAll(): void {
    if (this.board.seq === null) return;
    this.board.visitBaseline = this.board.seq;
    this.mark();
  }

  /**
   * A first visit shows nothing as new; the next visit compares with where this one began. Call it
   * whenever the board changes (from an effect): it marks once, when the board first is there.
   */
  firstVisit(): void {
    if (this.#firstMarked || !this.board.loaded || !this.board.firstVisit) return;
    this.#firstMarked = true;
    this.mark();
  }

  /** Marks when the page is hidden or left. Returns the clean-up. */
  follow(page: PageEvents): () => void {
    const mark = () => this.mark();
    const leaving = () => {
      if (page.document.visibilityState === 'hidden') mark();
    };
    page.document.addEventListener('visibilitychange', leaving);
    page.window.addEventListener('pagehide', mark);
    return () => {
      page.document.removeEventListener('visibilitychange', leaving);
      page.window.removeEventListener('pagehide', mark);
    };
  }
}
