import { getContext, setContext } from 'svelte';
import type { CardId } from './proto/CardId';
import type { Command } from './proto/Command';
import type { BoardState } from './state/board.svelte';
import type { Outbox } from './state/outbox.svelte';

/** What the board page hands to the components inside it. */
export interface BoardContext {
  readonly board: BoardState;
  readonly outbox: Outbox;
  send(command: Command): void;
  newId(): string;
  openCard(card: CardId, focus?: 'comment'): void;
  openMove(card: CardId): void;
  /** The card being dragged (laptop drag and drop), if any. */
  drag: { card: CardId | null };
  /** "Ryhmittele": cards are being picked to go into a group. */
  grouping: Grouping;
}

/** Cards picked for a group, while picking is on. */
export interface Grouping {
  active: boolean;
  selected: Set<CardId>;
}

const KEY = Symbol('kipina.board');

export function setBoardContext(context: BoardContext): void {
  setContext(KEY, context);
}

export function boardContext(): BoardContext {
  const context = getContext<BoardContext | undefined>(KEY);
  if (!context) throw new Error('no board context');
  return context;
}
