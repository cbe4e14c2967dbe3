import type { Command } from '../proto/Command';
import type { BoardState } from './board.svelte';
import type { Outbox, OutboxEntry } from './outbox.svelte';
import { currentVersion } from './statements.svelte';

/** A text as one side of a stale edit shows it. */
export interface Version {
  title?: string | null;
  body: string | null;
}

/**
 * A stale edit: what the person wrote, what the board says now, and how to send "mine" again
 * on top of the current version. `current` is undefined when the thing is gone (archived or
 * erased), and then only "take theirs" (drop mine) is possible.
 */
export interface StaleEdit {
  entry: OutboxEntry;
  kind: 'card' | 'comment' | 'column' | 'board' | 'statement';
  mine: Version;
  current: Version | undefined;
  /** The command that keeps my text on top of the current version, with that version's number. */
  keepMine: Command | undefined;
}

/** Describes a stale outbox entry against the board as it is now. */
export function describeStale(entry: OutboxEntry, board: BoardState): StaleEdit | undefined {
  const command = entry.command;
  switch (command.type) {
    case 'edit_card': {
      const card = board.cards.get(command.card);
      const usable = card && !card.archived && card.title !== null;
      return {
        entry,
        kind: 'card',
        mine: { title: command.title, body: command.body },
        current: card ? { title: card.title, body: card.body } : undefined,
        keepMine: usable ? { ...command, base_version: card.text_version } : undefined,
      };
    }
    case 'edit_comment': {
      const comment = board.comments.get(command.comment);
      const usable = comment && !comment.deleted && comment.body !== null;
      return {
        entry,
        kind: 'comment',
        mine: { body: command.body },
        current: comment ? { body: comment.body } : undefined,
        keepMine: usable ? { ...command, base_version: comment.text_version } : undefined,
      };
    }
    case 'rename_column': {
      const column = board.columns.get(command.column);
      return {
        entry,
        kind: 'column',
        mine: { body: command.title },
        current: column ? { body: column.title } : undefined,
        keepMine: column ? { ...command, base_version: column.text_version } : undefined,
      };
    }
    case 'edit_board': {
      const info = board.info;
      return {
        entry,
        kind: 'board',
        mine: { title: command.title, body: command.description },
        current: info ? { title: info.title, body: info.description } : undefined,
        keepMine: info ? { ...command, base_version: info.text_version } : undefined,
      };
    }
    case 'propose_wording': {
      // A new version was adopted while the wording was being written: it can be proposed
      // again on top of the current version, or dropped.
      const column = board.columns.get(command.statement);
      const current = currentVersion(column);
      const usable = column && !column.archived && current;
      return {
        entry,
        kind: 'statement',
        mine: { body: command.text },
        current: current ? { body: current.text } : undefined,
        keepMine: usable ? { ...command, base_version: current.number } : undefined,
      };
    }
    case 'rebase_proposal': {
      const card = board.cards.get(command.card);
      const column = card ? board.columns.get(card.column) : undefined;
      const current = currentVersion(column);
      const open = card && !card.archived && card.proposal?.adopted_as === null && column && !column.archived;
      return {
        entry,
        kind: 'statement',
        mine: { body: command.text },
        current: current ? { body: current.text } : undefined,
        keepMine: open && current ? { ...command, base_version: current.number } : undefined,
      };
    }
    default:
      return undefined;
  }
}

/**
 * Resolves a stale edit. "mine" sends my text again based on the current version, as a new
 * command; "theirs" drops my edit and keeps what the board has. Nothing else is overwritten.
 */
export function resolveStale(outbox: Outbox, stale: StaleEdit, choice: 'mine' | 'theirs'): void {
  if (choice === 'mine' && stale.keepMine) {
    outbox.replace(stale.entry.id, stale.keepMine);
  } else {
    outbox.drop(stale.entry.id);
  }
}
