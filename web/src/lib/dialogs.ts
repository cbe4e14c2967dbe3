/**
 * Which dialog the board page shows: one value instead of a flag per dialog. One dialog is open
 * at a time (a native modal makes the page behind it inert), with one exception: "Siirrä…" opened
 * from a card's dialog opens over it, and closing the move goes back to the card.
 */
import type { CardId } from './proto/CardId';
import type { ColumnView } from './proto/ColumnView';

/** A card's dialog; `focus: 'comment'` puts the keyboard in the comment field. */
export interface CardDialog {
  kind: 'card';
  id: CardId;
  focus?: 'comment';
}

/** Moving a card, over the card's dialog when it was opened from there. */
export interface MoveDialog {
  kind: 'move';
  card: CardId;
  over: CardDialog | null;
}

export type OpenDialog =
  | CardDialog
  | MoveDialog
  | { kind: 'column-menu'; column: ColumnView }
  | { kind: 'share' }
  | { kind: 'notifications' }
  | { kind: 'activity' }
  | { kind: 'history' }
  | null;

export type DialogKind = NonNullable<OpenDialog>['kind'];

/** What asks for a dialog: a move says which card; what it opens over follows from what is open. */
export type DialogRequest = Exclude<NonNullable<OpenDialog>, MoveDialog> | { kind: 'move'; card: CardId };

/** The dialog of `kind`, when it is shown (on top, or under a move). */
export type Shown<K extends DialogKind> = Extract<NonNullable<OpenDialog>, { kind: K }>;

/** What is open after `request`: it replaces what was open, except a move over a card's dialog. */
export function openDialog(current: OpenDialog, request: DialogRequest): OpenDialog {
  if (request.kind === 'move') return { kind: 'move', card: request.card, over: current?.kind === 'card' ? current : null };
  return request;
}

/**
 * What is open after the dialog of `kind` closes. Only that dialog goes: a late close of one
 * that has already gone (a native dialog reports its close after it is removed) changes nothing.
 * A card's dialog says which card it showed, so the late close of a group's dialog after one of
 * its members was opened from it leaves the member's dialog open.
 */
export function closeDialog(current: OpenDialog, kind: DialogKind, card?: CardId): OpenDialog {
  if (current === null) return null;
  const isIt = (dialog: NonNullable<OpenDialog>) =>
    dialog.kind === kind && (card === undefined || dialog.kind !== 'card' || dialog.id === card);
  if (isIt(current)) return current.kind === 'move' ? current.over : null;
  if (current.kind === 'move' && current.over !== null && isIt(current.over)) return { ...current, over: null };
  return current;
}

/** The dialog of `kind` if it is shown, on top or under a move; otherwise null. */
export function shownDialog<K extends DialogKind>(current: OpenDialog, kind: K): Shown<K> | null {
  if (current === null) return null;
  if (current.kind === kind) return current as Shown<K>;
  if (current.kind === 'move' && current.over?.kind === kind) return current.over as Shown<K>;
  return null;
}
