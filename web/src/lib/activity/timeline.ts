import type { SessionId } from '../proto/SessionId';
import type { SessionView } from '../proto/SessionView';
import type { TimelinePoint } from '../proto/TimelinePoint';

/**
 * The time of event `seq`, as near as the timeline's points tell: the point at `seq`, else the
 * latest point before it (events are in time order). Null before the first point.
 */
export function timeOf(points: readonly TimelinePoint[], seq: number): number | null {
  let found: number | null = null;
  for (const point of points) {
    if (point.seq > seq) break;
    found = point.at;
  }
  return found;
}

/** Where a session started or ended on a timeline of `1..=head`, as a share of its length. */
export interface SessionMark {
  session: SessionId;
  name: string;
  edge: 'start' | 'end';
  seq: number;
  /** 0 to 100. */
  percent: number;
}

export function sessionMarks(sessions: readonly SessionView[], head: number): SessionMark[] {
  const percent = (seq: number) => (head <= 1 ? 100 : ((Math.min(seq, head) - 1) / (head - 1)) * 100);
  const marks: SessionMark[] = [];
  for (const session of sessions) {
    if (session.started_seq !== null) {
      marks.push({ session: session.id, name: session.name, edge: 'start', seq: session.started_seq, percent: percent(session.started_seq) });
    }
    if (session.ended_seq !== null) {
      marks.push({ session: session.id, name: session.name, edge: 'end', seq: session.ended_seq, percent: percent(session.ended_seq) });
    }
  }
  return marks.sort((a, b) => a.seq - b.seq);
}

/** `seq` moved by `steps`, kept within `1..=head`. */
export function step(seq: number, steps: number, head: number): number {
  return Math.min(Math.max(1, seq + steps), Math.max(1, head));
}
