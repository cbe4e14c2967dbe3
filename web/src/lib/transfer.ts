/**
 * Exports and imports (docs/protocol.md, "HTTP" and "Exports"): downloading a board as a file
 * with the facilitator's token, uploading a Trello export or a Kipinä log. Imported only by the
 * components that offer them, which are loaded on demand.
 */
import { ApiError, errorOf } from './api';
import { errorText, t } from './i18n/index.svelte';
import type { BoardId } from './proto/BoardId';
import type { BoardLinks } from './proto/BoardLinks';
import type { CreateBoardResponse } from './proto/CreateBoardResponse';
import type { SessionId } from './proto/SessionId';

export type ExportFormat = 'md' | 'csv' | 'xlsx' | 'docx' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['md', 'csv', 'xlsx', 'docx', 'json'];

/** The largest upload the server takes (`MAX_UPLOAD` in `server/src/routes/transfer.rs`). */
export const MAX_UPLOAD_BYTES = 32 * 1024 * 1024;

/**
 * What a Trello import brought and what it left behind (`TrelloReport` on the server; not in
 * the generated wire types, so written out here). `not_imported` lines are in English.
 */
export interface TrelloReport {
  board: BoardId | null;
  columns: number;
  cards: number;
  comments: number;
  labels: number;
  likes: number;
  not_imported: string[];
}

/** `201` of `POST /api/import/trello`: as creating a board, plus the report. */
export interface TrelloImport extends CreateBoardResponse {
  report: TrelloReport;
}

/** `201` of `POST /api/import/log`: the restored board, its number of events, its links. */
export interface RestoredLog {
  board: BoardId;
  events: number;
  links: BoardLinks;
}

// ---------------------------------------------------------------------------------------------
// File names.

/** Splits a header's parameters on `;` outside quoted strings. */
function parameters(header: string): Map<string, string> {
  const found = new Map<string, string>();
  let index = 0;
  const length = header.length;
  // The disposition type comes first and has no `=`.
  const first = header.indexOf(';');
  if (first < 0) return found;
  index = first + 1;
  while (index < length) {
    while (index < length && (header[index] === ' ' || header[index] === '\t' || header[index] === ';')) index++;
    const equals = header.indexOf('=', index);
    if (equals < 0) break;
    const name = header.slice(index, equals).trim().toLowerCase();
    index = equals + 1;
    while (index < length && (header[index] === ' ' || header[index] === '\t')) index++;
    let value = '';
    if (header[index] === '"') {
      index++;
      while (index < length && header[index] !== '"') {
        if (header[index] === '\\' && index + 1 < length) index++;
        value += header[index];
        index++;
      }
      index++; // the closing quote
      const next = header.indexOf(';', index);
      index = next < 0 ? length : next;
    } else {
      const next = header.indexOf(';', index);
      const end = next < 0 ? length : next;
      value = header.slice(index, end).trim();
      index = end;
    }
    if (name && !found.has(name)) found.set(name, value);
  }
  return found;
}

/** An RFC 5987 `charset'language'percent-encoded` value, decoded; `null` if it cannot be. */
function extendedValue(value: string): string | null {
  const found = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!found) return null;
  const charset = found[1]!.toLowerCase();
  const encoded = found[2]!;
  try {
    if (charset === 'utf-8') return decodeURIComponent(encoded);
    if (charset === 'iso-8859-1') {
      return encoded.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * A safe file name: no folders (only what follows the last `/` or `\`), no control characters,
 * no leading dots; `null` when nothing is left.
 */
export function safeFileName(name: string): string | null {
  const base = name.split(/[/\\]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().replace(/^\.+/, '');
  return clean === '' ? null : clean;
}

/**
 * The file name a `Content-Disposition` header gives (`filename*` before `filename`, RFC 6266),
 * made safe; `null` when it gives none.
 */
export function fileNameFromDisposition(header: string | null | undefined): string | null {
  if (!header) return null;
  const found = parameters(header);
  const extended = found.get('filename*');
  if (extended !== undefined) {
    const decoded = extendedValue(extended);
    const safe = decoded === null ? null : safeFileName(decoded);
    if (safe) return safe;
  }
  const plain = found.get('filename');
  return plain === undefined ? null : safeFileName(plain);
}

/** The name to save an export under when the server names none. */
export function fallbackFileName(format: ExportFormat): string {
  return `kipina.${format}`;
}

// ---------------------------------------------------------------------------------------------
// Downloads.

/** What `saveBlob` needs of the browser (handed in by tests). */
export interface SaveTarget {
  document: Pick<Document, 'createElement' | 'body'>;
  url: Pick<typeof URL, 'createObjectURL' | 'revokeObjectURL'>;
  later: (run: () => void, ms: number) => unknown;
}

/** How long an object URL outlives the click that saves it (a slow disk, a "save as" box). */
export const REVOKE_AFTER_MS = 30_000;

/**
 * Saves `blob` as a file named `name`: an `<a download>` on an object URL, clicked, removed at
 * once, and the URL revoked afterwards.
 */
export function saveBlob(
  blob: Blob,
  name: string,
  target: SaveTarget = { document, url: URL, later: (run, ms) => setTimeout(run, ms) },
): void {
  const href = target.url.createObjectURL(blob);
  const anchor = target.document.createElement('a');
  anchor.href = href;
  anchor.download = name;
  anchor.hidden = true;
  target.document.body.append(anchor);
  try {
    anchor.click();
  } finally {
    anchor.remove();
    target.later(() => target.url.revokeObjectURL(href), REVOKE_AFTER_MS);
  }
}

/** The export's address (`session` limits a document to one session; the log is always whole). */
export function exportPath(board: BoardId, format: ExportFormat, session?: SessionId | null): string {
  const query = new URLSearchParams({ format });
  if (session) query.set('session', session);
  return `/api/boards/${encodeURIComponent(board)}/export?${query.toString()}`;
}

/** Fetches an export with the facilitator's token: the file and the name the server gave it. */
export async function fetchExport(
  board: BoardId,
  token: string,
  format: ExportFormat,
  session?: SessionId | null,
): Promise<{ blob: Blob; fileName: string }> {
  let response: Response;
  try {
    response = await fetch(exportPath(board, format, session), {
      headers: { Authorization: `Bearer ${token}` },
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, { code: 'network', message: String(error) });
  }
  if (!response.ok) throw await errorOf(response);
  const blob = await response.blob();
  const fileName = fileNameFromDisposition(response.headers.get('Content-Disposition')) ?? fallbackFileName(format);
  return { blob, fileName };
}

// ---------------------------------------------------------------------------------------------
// Uploads.

/** Why a chosen file is not sent at all (`null`: it may be sent). */
export function uploadProblem(file: Pick<File, 'size'> | null | undefined): 'no_file' | 'empty_file' | 'file_too_large' | null {
  if (!file) return 'no_file';
  if (file.size === 0) return 'empty_file';
  if (file.size > MAX_UPLOAD_BYTES) return 'file_too_large';
  return null;
}

async function upload<T>(path: string, file: Blob): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: file,
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError(0, { code: 'network', message: String(error) });
  }
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

/** A Trello board's JSON export as a new board whose facilitator is `name`. */
export function importTrello(file: Blob, name: string): Promise<TrelloImport> {
  return upload(`/api/import/trello?${new URLSearchParams({ name }).toString()}`, file);
}

/** A Kipinä log (`export?format=json`) restored onto this server. */
export function importLog(file: Blob): Promise<RestoredLog> {
  return upload('/api/import/log', file);
}

/**
 * The board a Kipinä log is of, read from its first bytes (the server writes `format`,
 * `version` and `board` first), without parsing a file of up to 32 MiB; `null` if not found.
 */
export function logBoardId(head: string): BoardId | null {
  const found = /"board"\s*:\s*"([0-9a-fA-F-]{36})"/.exec(head);
  return found ? found[1]!.toLowerCase() : null;
}

/** An upload's refusal in words: the server's code in the context of what was uploaded. */
export interface UploadFailure {
  text: string;
  /** The server's own message (English), when it says more than the text. */
  detail: string | null;
  code: string;
}

export function uploadFailure(kind: 'trello' | 'log', error: unknown): UploadFailure {
  if (!(error instanceof ApiError)) return { text: t('errors.network'), detail: null, code: 'network' };
  const withDetail = (text: string): UploadFailure => ({ text, detail: error.message || null, code: error.code });
  switch (error.code) {
    case 'malformed':
      return withDetail(kind === 'trello' ? t('transfer.notTrello') : t('transfer.notLog'));
    case 'invalid_import':
      return withDetail(t('transfer.tooBigForBoard'));
    case 'board_exists':
      return { text: t('transfer.boardExists'), detail: null, code: error.code };
    case 'too_large':
      return { text: t('transfer.file_too_large', { size: MAX_UPLOAD_BYTES / 1024 / 1024 }), detail: null, code: error.code };
    default:
      return { text: errorText(error), detail: null, code: error.code };
  }
}

/** A file refused before uploading, in words. */
export function fileProblemText(problem: 'no_file' | 'empty_file' | 'file_too_large'): string {
  return t(`transfer.${problem}`, { size: MAX_UPLOAD_BYTES / 1024 / 1024 });
}

// ---------------------------------------------------------------------------------------------
// The report of a Trello import.

export const REPORT_COUNTS = ['columns', 'cards', 'comments', 'labels', 'likes'] as const;
export type ReportCount = (typeof REPORT_COUNTS)[number];

/** What came along, in words: "3 saraketta, 5 korttia, …". */
export function reportSummary(report: TrelloReport): string {
  return REPORT_COUNTS.map((kind) => t(`transfer.counts.${kind}`, { count: report[kind] })).join(', ');
}
