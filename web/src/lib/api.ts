import type { BoardLinks } from './proto/BoardLinks';
import type { CreateBoardRequest } from './proto/CreateBoardRequest';
import type { CreateBoardResponse } from './proto/CreateBoardResponse';
import type { ErrorBody } from './proto/ErrorBody';
import type { ErrorCode } from './proto/ErrorCode';
import type { InvitationInfo } from './proto/InvitationInfo';
import type { JoinRequest } from './proto/JoinRequest';
import type { Session } from './proto/Session';

/**
 * The codes the client gives a failure itself: `network` when the server was not reached,
 * `aborted` when the request was called off, `http_{status}` for an answer without an `ErrorBody`.
 */
export type ClientErrorCode = 'network' | 'aborted' | `http_${number}`;

/** A failure's code: the server's (`ErrorCode`) or the client's own. */
export type FailureCode = ErrorCode | ClientErrorCode;

/** The server's `ErrorBody`, or a failure the client describes in the same shape. */
export interface Failure {
  code: FailureCode;
  message: string;
}

/** A refused or failed HTTP request: the server's `ErrorBody`, or a `ClientErrorCode`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: FailureCode;
  constructor(status: number, body: Failure) {
    super(body.message);
    this.status = status;
    this.code = body.code;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorBody).code === 'string' &&
    typeof (value as ErrorBody).message === 'string'
  );
}

/** The `ApiError` of an answer that is not OK: its `ErrorBody`, or `http_{status}` without one. */
export async function errorOf(response: Response): Promise<ApiError> {
  let body: unknown = undefined;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return new ApiError(
    response.status,
    isErrorBody(body) ? body : { code: `http_${response.status}`, message: response.statusText },
  );
}

async function request<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError(0, { code: 'network', message: String(error) });
  }
  let answer: unknown = undefined;
  try {
    answer = await response.json();
  } catch {
    answer = undefined;
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      isErrorBody(answer) ? answer : { code: `http_${response.status}`, message: response.statusText },
    );
  }
  return answer as T;
}

export function createBoard(body: CreateBoardRequest): Promise<CreateBoardResponse> {
  return request('POST', '/api/boards', body);
}

export function invitation(board: string, role: string, secret: string): Promise<InvitationInfo> {
  const path = [board, role, secret].map(encodeURIComponent).join('/');
  return request('GET', `/api/invitations/${path}`);
}

export function join(body: JoinRequest): Promise<Session> {
  return request('POST', '/api/join', body);
}

/** Whether a participant's token still opens a board (the answer is only its status). */
export function boardView(board: string, token: string): Promise<unknown> {
  return request('GET', `/api/boards/${encodeURIComponent(board)}`, undefined, token);
}

export function boardLinks(board: string, token: string): Promise<BoardLinks> {
  return request('GET', `/api/boards/${encodeURIComponent(board)}/links`, undefined, token);
}

/**
 * The server's QR code of one of the board's join links (facilitators only), as a `data:` URL
 * for an `<img>`: the page's Content-Security-Policy allows images from `data:`.
 */
export async function qrCode(board: string, token: string, link: 'participant' | 'observer' | 'facilitator'): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`/api/boards/${encodeURIComponent(board)}/qr.svg?link=${link}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'image/svg+xml' },
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError(0, { code: 'network', message: String(error) });
  }
  if (!response.ok) throw await errorOf(response);
  const svg = new Uint8Array(await response.arrayBuffer());
  let binary = '';
  for (const byte of svg) binary += String.fromCharCode(byte);
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}

/** The WebSocket address of a board on the server that served this page. */
export function socketUrl(board: string, base: string = location.href): string {
  const url = new URL(`/api/boards/${encodeURIComponent(board)}/ws`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
