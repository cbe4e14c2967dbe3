import { describe, expect, it } from 'vitest';
import { closeDialog, openDialog, shownDialog, type OpenDialog } from './dialogs';
import { column } from '../test/fixtures';

describe('which dialog the board shows', () => {
  it('opens one at a time: a new one replaces what was open', () => {
    let open: OpenDialog = null;
    open = openDialog(open, { kind: 'notifications' });
    expect(shownDialog(open, 'notifications')).toEqual({ kind: 'notifications' });
    // A notification closes its panel and opens the card, with the comment field.
    open = closeDialog(open, 'notifications');
    open = openDialog(open, { kind: 'card', id: 'k1', focus: 'comment' });
    expect(shownDialog(open, 'notifications')).toBeNull();
    expect(shownDialog(open, 'card')).toEqual({ kind: 'card', id: 'k1', focus: 'comment' });
    // A group's member opens in place of the group.
    open = openDialog(open, { kind: 'card', id: 'k2' });
    expect(shownDialog(open, 'card')).toEqual({ kind: 'card', id: 'k2' });
    const menu = column('c1', []);
    open = openDialog(null, { kind: 'column-menu', column: menu });
    expect(shownDialog(open, 'column-menu')?.column).toBe(menu);
    expect(shownDialog(open, 'card')).toBeNull();
  });

  it('opens a move over the card it was opened from, and goes back to the card when it closes', () => {
    const card: OpenDialog = { kind: 'card', id: 'k1' };
    const moving = openDialog(card, { kind: 'move', card: 'k1' });
    expect(moving).toEqual({ kind: 'move', card: 'k1', over: card });
    expect(shownDialog(moving, 'card')).toBe(card);
    expect(shownDialog(moving, 'move')).toBe(moving);
    expect(closeDialog(moving, 'move')).toBe(card);
    // From a card on the board, the move is all there is.
    const alone = openDialog(null, { kind: 'move', card: 'k1' });
    expect(alone).toEqual({ kind: 'move', card: 'k1', over: null });
    expect(shownDialog(alone, 'card')).toBeNull();
    expect(closeDialog(alone, 'move')).toBeNull();
    // The card going (archived elsewhere) leaves the move open on its own.
    expect(closeDialog(moving, 'card')).toEqual({ kind: 'move', card: 'k1', over: null });
  });

  it('keeps a member open when the group it was opened from reports its close late', () => {
    const group: OpenDialog = { kind: 'card', id: 'group' };
    const member = openDialog(group, { kind: 'card', id: 'member' });
    expect(closeDialog(member, 'card', 'group')).toBe(member);
    expect(closeDialog(member, 'card', 'member')).toBeNull();
    const moving = openDialog(member, { kind: 'move', card: 'member' });
    expect(closeDialog(moving, 'card', 'group')).toBe(moving);
    expect(closeDialog(moving, 'card', 'member')).toEqual({ kind: 'move', card: 'member', over: null });
  });

  it('lets a late close of a dialog already gone change nothing', () => {
    const card: OpenDialog = { kind: 'card', id: 'k1' };
    // The notifications panel reports its close after the card it opened is shown.
    expect(closeDialog(card, 'notifications')).toBe(card);
    expect(closeDialog(null, 'share')).toBeNull();
    // The move reports its close again after the card's dialog is back on top.
    expect(closeDialog(closeDialog(openDialog(card, { kind: 'move', card: 'k1' }), 'move'), 'move')).toBe(card);
    for (const kind of ['share', 'activity', 'history'] as const) {
      expect(closeDialog(openDialog(null, { kind }), kind)).toBeNull();
    }
  });
});
