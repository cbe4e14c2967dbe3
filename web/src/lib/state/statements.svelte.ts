/**
 * Statements as the server describes them: a statement is a column whose `statement` holds its
 * versions (the last is the current wording, each with the server's word difference against the
 * one before), and whose cards are its open proposals. Nothing here decides a rule: whether a
 * proposal is outdated, who may rebase or adopt it and what changed are the server's answers.
 */
import type { CardId } from '../proto/CardId';
import type { CardView } from '../proto/CardView';
import type { ColumnId } from '../proto/ColumnId';
import type { ColumnView } from '../proto/ColumnView';
import type { StatementVersionView } from '../proto/StatementVersionView';
import type { StatementView } from '../proto/StatementView';
import type { OutboxEntry } from './outbox.svelte';

/** The statement's current wording (its last version); undefined for an idea column. */
export function currentVersion(column: ColumnView | undefined): StatementVersionView | undefined {
  const versions = column?.statement?.versions;
  return versions ? versions[versions.length - 1] : undefined;
}

/**
 * The versions adopted after `base`, oldest first: what changed since a proposal was written.
 * Each carries its own difference against the one before, so together they tell the whole change.
 */
export function versionsAfter(statement: StatementView, base: number): StatementVersionView[] {
  return statement.versions.filter((version) => version.number > base);
}

/** Whether a column is a statement (a vision, a mission, a service promise). */
export function isStatement(column: ColumnView | undefined): boolean {
  return column?.statement != null;
}

/** Whether a card is a proposed wording of a statement. */
export function isProposal(card: CardView | undefined): boolean {
  return card?.proposal != null;
}

/**
 * One's own proposals for a statement that the server has not shown yet: waiting in the outbox,
 * or refused and kept there until the person retries or drops them.
 */
export function pendingProposals(
  entries: readonly OutboxEntry[],
  statement: ColumnId,
  cards: ReadonlyMap<CardId, CardView>,
): OutboxEntry[] {
  return entries.filter(
    (entry) =>
      entry.command.type === 'propose_wording' &&
      entry.command.statement === statement &&
      entry.status !== 'stale' &&
      !cards.has(entry.command.card),
  );
}

/** How long a newly adopted version shows what changed before it reads as plain text again. */
export const FRESH_MS = 20_000;

type Schedule = (run: () => void, ms: number) => () => void;

const timeout: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
};

/**
 * Notices when a statement gets a new version while someone is looking at it, so the new wording
 * can show its difference for a while. The version a page first sees is not new: only a later,
 * higher number is.
 */
export class FreshVersion {
  /** The version to show with its difference now, or null. */
  number = $state<number | null>(null);

  private seen: number | undefined;
  private cancel: (() => void) | null = null;
  private readonly schedule: Schedule;
  private readonly ms: number;

  constructor(schedule: Schedule = timeout, ms = FRESH_MS) {
    this.schedule = schedule;
    this.ms = ms;
  }

  /** Tells the current version's number (after every change the server sent). */
  observe(current: number | undefined): void {
    if (current === undefined) return;
    if (this.seen !== undefined && current > this.seen) {
      this.cancel?.();
      this.number = current;
      this.cancel = this.schedule(() => {
        this.number = null;
        this.cancel = null;
      }, this.ms);
    }
    this.seen = current;
  }

  /** The page goes away: no timer is left behind. */
  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }
}
