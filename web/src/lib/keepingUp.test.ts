import { describe, expect, it } from 'vitest';
import { columnNews, fold, insertMention, isNew, mentionAt, mentionSpans, seenMark, SeenMarking, suggestPeople } from './keepingUp';
import { BoardState } from './state/board.svelte';
import { ME, OTHER, boardView, card, column, comment, participant } from '../test/fixtures';
import type { Command } from './proto/Command';
import type { NotificationView } from './proto/NotificationView';

const own = (seen: number, read = 0, following: string[] = []) => ({
  seen_through: seen,
  notifications_read_through: read,
  following,
});

function notification(seq: number, overrides: Partial<NotificationView> = {}): NotificationView {
  return { seq, at: 1_700_000_000_000, kind: 'mentioned', card: 'k1', comment: null, actor: OTHER, ...overrides };
}

describe('mentions', () => {
  it('folds case and accents as the server does', () => {
    expect(fold('Ääniä Åland')).toBe('aania aland');
  });

  it('marks the names the server found, longest first, with word boundaries', () => {
    const spans = mentionSpans('Kiitos @aino ääkkönen ja @Aino! posti@Aino', ['Aino', 'Aino Ääkkönen']);
    expect(spans).toEqual([
      { text: 'Kiitos ', mention: false },
      { text: '@aino ääkkönen', mention: true },
      { text: ' ja ', mention: false },
      { text: '@Aino', mention: true },
      { text: '! posti@Aino', mention: false },
    ]);
    expect(mentionSpans('@Ainoa', ['Aino'])).toEqual([{ text: '@Ainoa', mention: false }]);
  });

  it('finds the mention being typed and suggests people by any word of their name', () => {
    expect(mentionAt('Hei @mäk', 8)).toEqual({ start: 4, query: 'mäk' });
    expect(mentionAt('Hei @Eero Mä', 12)).toEqual({ start: 4, query: 'Eero Mä' });
    expect(mentionAt('posti@x', 7)).toBeNull();
    expect(mentionAt('@a\nb', 4)).toBeNull();
    const people = [
      participant(ME, { display_name: 'Aino Ääkkönen' }),
      participant(OTHER, { display_name: 'Eero Mäkelä' }),
      participant('p3', { display_name: 'Åsa Öhman' }),
      participant('p4', { display_name: null, erased: true }),
    ];
    expect(suggestPeople('mak', people, ME).map((found) => found.display_name)).toEqual(['Eero Mäkelä']);
    expect(suggestPeople('asa', people, ME).map((found) => found.display_name)).toEqual(['Åsa Öhman']);
    expect(suggestPeople('aino', people, ME)).toEqual([]); // not oneself
    expect(suggestPeople('', people, ME).length).toBe(2);
  });

  it('inserts the chosen name and puts the caret after it', () => {
    expect(insertMention('Hei @mäk kiitos', 4, 8, 'Eero Mäkelä')).toEqual({ text: 'Hei @Eero Mäkelä  kiitos', caret: 17 });
  });
});

describe('new since the last visit', () => {
  it('counts only what others made after the baseline', () => {
    expect(isNew({ created_seq: 11, author: OTHER }, 10, ME)).toBe(true);
    expect(isNew({ created_seq: 11, author: ME }, 10, ME)).toBe(false);
    expect(isNew({ created_seq: 10, author: OTHER }, 10, ME)).toBe(false);
    expect(isNew({ created_seq: 11, author: null }, null, ME)).toBe(false);
    // What arrived after the page got the board (at 12) came live: it is not "new since the last visit".
    expect(isNew({ created_seq: 12, author: OTHER }, 10, ME, 12)).toBe(true);
    expect(isNew({ created_seq: 13, author: OTHER }, 10, ME, 12)).toBe(false);
    const cards = [card('k1', 'c1', { created_seq: 12, author: null, comments: ['m1', 'm2', 'm3'] }), card('k2', 'c1', { created_seq: 5 })];
    const comments = new Map([
      ['m1', comment('m1', 'k1', { created_seq: 13, author: OTHER })],
      ['m2', comment('m2', 'k1', { created_seq: 14, author: OTHER, deleted: true })],
      ['m3', comment('m3', 'k1', { created_seq: 4, author: OTHER })],
    ]);
    const news = columnNews(column('c1', ['k1', 'k2']), () => cards, (id) => comments.get(id), 10, ME);
    expect(news).toEqual({ cards: 1, comments: 1 });
  });

  it('takes the baseline from the first snapshot and keeps it through later ones', () => {
    const board = new BoardState('b1');
    board.me = ME;
    board.applySnapshot(boardView(20, { participants: [participant(ME, { own: own(15) }), participant(OTHER)] }));
    expect(board.visitBaseline).toBe(15);
    expect(board.firstVisit).toBe(false);
    board.applySnapshot(boardView(30, { participants: [participant(ME, { own: own(30) }), participant(OTHER)] }));
    expect(board.visitBaseline).toBe(15);
  });

  it('shows nothing as new on a first visit', () => {
    const board = new BoardState('b1');
    board.me = ME;
    board.applySnapshot(boardView(20, { participants: [participant(ME, { own: own(0) })] }));
    expect(board.visitBaseline).toBe(20);
    expect(board.firstVisit).toBe(true);
  });
});

describe('notifications', () => {
  it('come from the snapshot and from changes, unread ones newest first', () => {
    const board = new BoardState('b1');
    board.me = ME;
    board.applySnapshot(
      boardView(20, { participants: [participant(ME, { own: own(20, 3, ['k1']) })], notifications: [notification(3), notification(7)] }),
    );
    expect(board.unreadNotifications.map((found) => found.seq)).toEqual([7]);
    expect(board.follows('k1')).toBe(true);
    expect(board.follows('k2')).toBe(false);
    board.applyChanged(21, 21, [{ kind: 'notification', value: notification(21, { kind: 'commented' }) }]);
    board.applyChanged(21, 22, [{ kind: 'notification', value: notification(21, { kind: 'commented' }) }]);
    expect(board.unreadNotifications.map((found) => found.seq)).toEqual([21, 7]);
    board.applyChanged(23, 23, [{ kind: 'participant', value: participant(ME, { own: own(20, 21, []) }) }]);
    expect(board.unreadNotifications).toEqual([]);
    expect(board.notifications.length).toBe(3);
  });

  it('keeps as many as the server says it keeps, the newest', () => {
    const board = new BoardState('b1');
    board.me = ME;
    board.applySnapshot(boardView(20, { notifications: [notification(3), notification(7)], notifications_kept: 2 }));
    board.applyChanged(21, 21, [{ kind: 'notification', value: notification(21) }]);
    expect(board.notifications.map((found) => found.seq)).toEqual([7, 21]);
    board.applySnapshot(boardView(22, { notifications: [notification(7), notification(21)], notifications_kept: 3 }));
    board.applyChanged(23, 23, [{ kind: 'notification', value: notification(23) }]);
    expect(board.notifications.map((found) => found.seq)).toEqual([7, 21, 23]);
  });
});

/** A page's document and window as far as leaving goes: real event targets, hidden at will. */
class Page {
  document = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
  window = new EventTarget();

  hide(): void {
    this.document.visibilityState = 'hidden';
    this.document.dispatchEvent(new Event('visibilitychange'));
  }

  show(): void {
    this.document.visibilityState = 'visible';
    this.document.dispatchEvent(new Event('visibilitychange'));
  }
}

/** A board as this participant gets it: `seen` is how far the server says they have seen. */
function seenBoard(seq: number, seen: number): BoardState {
  const board = new BoardState('b1');
  board.me = ME;
  board.applySnapshot(boardView(seq, { participants: [participant(ME, { own: own(seen) }), participant(OTHER)] }));
  return board;
}

describe('marking the board seen', () => {
  it('only moves the mark forward', () => {
    expect(seenMark({ seq: 20, own: own(15) })).toEqual({ type: 'mark_seen', through: 20 });
    expect(seenMark({ seq: 20, own: own(20) })).toBeNull();
    expect(seenMark({ seq: 20, own: null })).toBeNull(); // an observer, or not yet known
    expect(seenMark({ seq: null, own: own(0) })).toBeNull(); // no board yet
  });

  it('marks a first visit once, when the board is there', () => {
    const board = new BoardState('b1');
    board.me = ME;
    const sent: Command[] = [];
    const seen = new SeenMarking(board, (command) => sent.push(command));
    seen.firstVisit();
    expect(sent).toEqual([]);
    board.applySnapshot(boardView(20, { participants: [participant(ME, { own: own(0) })] }));
    seen.firstVisit();
    seen.firstVisit();
    expect(sent).toEqual([{ type: 'mark_seen', through: 20 }]);
  });

  it('leaves a returning visit’s news highlighted until the page is left or all is marked seen', () => {
    const board = seenBoard(20, 15);
    const sent: Command[] = [];
    const seen = new SeenMarking(board, (command) => sent.push(command));
    seen.firstVisit();
    expect(sent).toEqual([]);
    expect(board.visitBaseline).toBe(15);
    seen.markAll();
    expect(board.visitBaseline).toBe(20);
    expect(sent).toEqual([{ type: 'mark_seen', through: 20 }]);
  });

  it('marks when the page is hidden or left, until it stops following the page', () => {
    const board = seenBoard(20, 15);
    const sent: Command[] = [];
    const page = new Page();
    const unfollow = new SeenMarking(board, (command) => sent.push(command)).follow(page);
    page.show();
    expect(sent).toEqual([]);
    page.hide();
    expect(sent).toEqual([{ type: 'mark_seen', through: 20 }]);
    page.window.dispatchEvent(new Event('pagehide'));
    expect(sent.length).toBe(2);
    unfollow();
    page.hide();
    page.window.dispatchEvent(new Event('pagehide'));
    expect(sent.length).toBe(2);
  });
});
