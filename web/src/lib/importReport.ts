import type { BoardId } from './proto/BoardId';
import { browserStore, readJson, writeJson, type KeyValueStore } from './storage';
import type { TrelloReport } from './transfer';

/**
 * The report of a Trello import, kept in the importer's browser beside the new board's session
 * until they dismiss it on the board, so nothing left behind goes unsaid (even after a reload).
 */
const PREFIX = 'kipina.importReport.';

export function importReportKey(board: BoardId): string {
  return PREFIX + board;
}

const COUNTS = ['columns', 'cards', 'comments', 'labels', 'likes'] as const;

/** Whether `value` has the shape of a report (a stored one may be old or edited by hand). */
export function isTrelloReport(value: unknown): value is TrelloReport {
  if (typeof value !== 'object' || value === null) return false;
  const report = value as Record<string, unknown>;
  return (
    COUNTS.every((key) => typeof report[key] === 'number' && Number.isFinite(report[key])) &&
    Array.isArray(report.not_imported) &&
    report.not_imported.every((line) => typeof line === 'string')
  );
}

export function saveImportReport(board: BoardId, report: TrelloReport, store: KeyValueStore = browserStore()): void {
  writeJson(store, importReportKey(board), report);
}

export function loadImportReport(board: BoardId, store: KeyValueStore = browserStore()): TrelloReport | undefined {
  const found = readJson<unknown>(store, importReportKey(board));
  return isTrelloReport(found) ? found : undefined;
}

export function forgetImportReport(board: BoardId, store: KeyValueStore = browserStore()): void {
  store.removeItem(importReportKey(board));
}
