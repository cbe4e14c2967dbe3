import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import { locale } from './i18n/index.svelte';
import { forgetImportReport, importReportKey, isTrelloReport, loadImportReport, saveImportReport } from './importReport';
import { MemoryStore } from './storage';
import {
  exportPath,
  fallbackFileName,
  fetchExport,
  fileNameFromDisposition,
  fileProblemText,
  importLog,
  importTrello,
  logBoardId,
  MAX_UPLOAD_BYTES,
  REVOKE_AFTER_MS,
  reportSummary,
  safeFileName,
  saveBlob,
  uploadFailure,
  uploadProblem,
  type SaveTarget,
  type TrelloReport,
} from './transfer';

const BOARD = '0196f3b2-7c1a-7d2e-9a44-1b2c3d4e5f60';

describe('the file name in Content-Disposition', () => {
  it('reads the quoted name the server sends', () => {
    expect(fileNameFromDisposition('attachment; filename="Kylatoimikunta-2026-2026-05-12.csv"')).toBe(
      'Kylatoimikunta-2026-2026-05-12.csv',
    );
  });

  it('reads a token, escapes in quotes, and any letter case or spacing', () => {
    expect(fileNameFromDisposition('attachment; filename=yhteenveto.md')).toBe('yhteenveto.md');
    expect(fileNameFromDisposition('Attachment;FileName = "a \\"b\\".md"')).toBe('a "b".md');
    expect(fileNameFromDisposition('attachment; filename="a;b.md"; size=12')).toBe('a;b.md');
  });

  it('prefers filename* (RFC 5987) and decodes UTF-8 and Latin-1', () => {
    expect(
      fileNameFromDisposition(`attachment; filename="Kylatoimikunta.md"; filename*=UTF-8''Kyl%C3%A4toimikunta.md`),
    ).toBe('Kylätoimikunta.md');
    expect(fileNameFromDisposition(`attachment; filename*=iso-8859-1'fi'Ty%F6kirja.xlsx`)).toBe('Työkirja.xlsx');
    // A broken extended value falls back to the plain one.
    expect(fileNameFromDisposition(`attachment; filename*=UTF-8''%E0%A4%A; filename="varalla.md"`)).toBe('varalla.md');
  });

  it('gives nothing without a name, and never a folder or a hidden file', () => {
    expect(fileNameFromDisposition(null)).toBeNull();
    expect(fileNameFromDisposition('')).toBeNull();
    expect(fileNameFromDisposition('attachment')).toBeNull();
    expect(fileNameFromDisposition('attachment; filename=""')).toBeNull();
    expect(fileNameFromDisposition('attachment; filename="../../etc/passwd"')).toBe('passwd');
    expect(fileNameFromDisposition('attachment; filename="C:\\\\Users\\\\x\\\\raportti.docx"')).toBe('raportti.docx');
    expect(safeFileName('..hidden.md')).toBe('hidden.md');
    expect(safeFileName('a\u0000b\nc.md')).toBe('abc.md');
    expect(safeFileName('...')).toBeNull();
    expect(fallbackFileName('xlsx')).toBe('kipina.xlsx');
  });
});

describe('saving a download', () => {
  it('clicks an <a download> on an object URL, removes it, and revokes the URL afterwards', () => {
    const events: string[] = [];
    const anchor = {
      href: '',
      download: '',
      hidden: false,
      click: () => events.push(`click ${anchor.href} as ${anchor.download} hidden=${anchor.hidden}`),
      remove: () => events.push('remove'),
    };
    let pending: (() => void) | undefined;
    const target = {
      document: {
        createElement: () => anchor,
        body: { append: () => events.push('append') },
      },
      url: {
        createObjectURL: () => 'blob:kipina/1',
        revokeObjectURL: (url: string) => events.push(`revoke ${url}`),
      },
      later: (run: () => void, ms: number) => {
        events.push(`later ${ms}`);
        pending = run;
      },
    } as unknown as SaveTarget;
    saveBlob(new Blob(['# Yhteenveto']), 'yhteenveto.md', target);
    expect(events).toEqual(['append', 'click blob:kipina/1 as yhteenveto.md hidden=true', 'remove', `later ${REVOKE_AFTER_MS}`]);
    pending!();
    expect(events.at(-1)).toBe('revoke blob:kipina/1');
  });
});

describe('the HTTP calls', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('asks for an export with the token, limited to a session, and names the file as the server says', async () => {
    expect(exportPath(BOARD, 'md')).toBe(`/api/boards/${BOARD}/export?format=md`);
    expect(exportPath(BOARD, 'csv', 's-1')).toBe(`/api/boards/${BOARD}/export?format=csv&session=s-1`);
    const fetch = vi.fn(
      async () =>
        new Response('\uFEFFSarake,Otsikko', {
          status: 200,
          headers: { 'Content-Disposition': 'attachment; filename="Taulu-2026-05-12.csv"' },
        }),
    );
    vi.stubGlobal('fetch', fetch);
    const found = await fetchExport(BOARD, 'kp_token', 'csv', 's-1');
    expect(found.fileName).toBe('Taulu-2026-05-12.csv');
    expect(await found.blob.text()).toContain('Sarake,Otsikko');
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe(`/api/boards/${BOARD}/export?format=csv&session=s-1`);
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer kp_token');
  });

  it('falls back to a name of its own, and turns a refusal into an ApiError', async () => {
    vi.stubGlobal('fetch', async () => new Response('{}', { status: 200 }));
    expect((await fetchExport(BOARD, 't', 'docx')).fileName).toBe('kipina.docx');
    vi.stubGlobal(
      'fetch',
      async () => new Response(JSON.stringify({ code: 'forbidden', message: 'only facilitators export the board' }), { status: 403 }),
    );
    await expect(fetchExport(BOARD, 't', 'md')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(fetchExport(BOARD, 't', 'md')).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('uploads the file’s bytes as they are, with the uploader’s name in the query', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ board: BOARD, events: 12, links: {} }), { status: 201 }));
    vi.stubGlobal('fetch', fetch);
    const file = new Blob(['{"name":"Kylätoimikunta"}'], { type: 'application/json' });
    await importTrello(file, 'Aino Ääkkönen & co');
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe('/api/import/trello?name=Aino+%C3%84%C3%A4kk%C3%B6nen+%26+co');
    expect(init.method).toBe('POST');
    expect(init.body).toBe(file);
    expect((await importLog(file)).events).toBe(12);
    expect((fetch.mock.calls[1] as unknown as [string])[0]).toBe('/api/import/log');
  });
});

describe('uploads', () => {
  it('refuses before sending when there is no file, an empty one or one over 32 MiB', () => {
    expect(uploadProblem(undefined)).toBe('no_file');
    expect(uploadProblem({ size: 0 })).toBe('empty_file');
    expect(uploadProblem({ size: MAX_UPLOAD_BYTES })).toBeNull();
    expect(uploadProblem({ size: MAX_UPLOAD_BYTES + 1 })).toBe('file_too_large');
    locale.set('fi');
    expect(fileProblemText('file_too_large')).toBe('Tiedosto on liian suuri: enintään 32 Mt.');
  });

  it('says what a refusal means for what was uploaded, with the server’s words where they add something', () => {
    locale.set('fi');
    const malformed = new ApiError(400, { code: 'malformed', message: 'missing field `lists` at line 1 column 2' });
    expect(uploadFailure('trello', malformed)).toEqual({
      text: 'Tiedosto ei ole Trellon JSON-vienti. Taulua ei luotu.',
      detail: 'missing field `lists` at line 1 column 2',
      code: 'malformed',
    });
    expect(uploadFailure('log', malformed).text).toBe('Tiedosto ei ole Kipinän varmuuskopio (JSON). Mitään ei palautettu.');
    const exists = new ApiError(409, { code: 'board_exists', message: `board ${BOARD} already exists here` });
    expect(uploadFailure('log', exists)).toEqual({
      text: 'Tämä taulu on jo tällä palvelimella, joten varmuuskopiota ei palautettu eikä mitään muutettu. Avaa taulu sen omilla linkeillä.',
      detail: null,
      code: 'board_exists',
    });
    const tooMany = new ApiError(422, { code: 'invalid_import', message: '60 labels, at most 50' });
    expect(uploadFailure('trello', tooMany).detail).toBe('60 labels, at most 50');
    expect(uploadFailure('trello', new ApiError(413, { code: 'too_large', message: '' })).text).toBe(
      'Tiedosto on liian suuri: enintään 32 Mt.',
    );
    expect(uploadFailure('log', new ApiError(429, { code: 'rate_limited', message: '' })).text).toBe(
      'Liian monta yritystä. Odota hetki ja yritä uudelleen.',
    );
    expect(uploadFailure('log', new Error('boom')).code).toBe('network');
    locale.set('en');
    expect(uploadFailure('trello', malformed).text).toBe('The file is not a Trello JSON export. No board was created.');
    locale.set('fi');
  });

  it('finds the board a backup is of in its first bytes', () => {
    const head = `{\n  "format": "kipina-log",\n  "version": 1,\n  "board": "${BOARD.toUpperCase()}",\n  "exported_at": 1`;
    expect(logBoardId(head)).toBe(BOARD);
    expect(logBoardId('{"name":"Trello"}')).toBeNull();
  });
});

const REPORT: TrelloReport = {
  board: BOARD,
  columns: 4,
  cards: 5,
  comments: 3,
  labels: 1,
  likes: 0,
  not_imported: ['1 attachment: Trello keeps them behind its own login, so they were not copied', '1 custom field: Kipinä cards have no custom fields'],
};

describe('the report of a Trello import', () => {
  it('says what came along, with plurals, in each language', () => {
    locale.set('fi');
    expect(reportSummary(REPORT)).toBe('4 saraketta, 5 korttia, 3 kommenttia, 1 tunniste, 0 tykkäystä');
    locale.set('sv');
    expect(reportSummary(REPORT)).toBe('4 kolumner, 5 kort, 3 kommentarer, 1 etikett, 0 gillningar');
    locale.set('en');
    expect(reportSummary(REPORT)).toBe('4 columns, 5 cards, 3 comments, 1 label, 0 likes');
    locale.set('fi');
  });

  it('is kept beside the board until dismissed, and a damaged one is not shown', () => {
    const store = new MemoryStore();
    expect(loadImportReport(BOARD, store)).toBeUndefined();
    saveImportReport(BOARD, REPORT, store);
    expect(loadImportReport(BOARD, store)).toEqual(REPORT);
    forgetImportReport(BOARD, store);
    expect(loadImportReport(BOARD, store)).toBeUndefined();
    store.setItem(importReportKey(BOARD), JSON.stringify({ ...REPORT, not_imported: [1] }));
    expect(loadImportReport(BOARD, store)).toBeUndefined();
    store.setItem(importReportKey(BOARD), '{not json');
    expect(loadImportReport(BOARD, store)).toBeUndefined();
    expect(isTrelloReport({ ...REPORT, cards: '5' })).toBe(false);
    expect(isTrelloReport(null)).toBe(false);
  });
});
