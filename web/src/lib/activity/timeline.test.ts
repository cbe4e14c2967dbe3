import { describe, expect, it } from 'vitest';
import { session } from '../../test/fixtures';
import { sessionMarks, step, timeOf } from './timeline';

describe('the timeline', () => {
  const points = [
    { seq: 1, at: 1000 },
    { seq: 5, at: 5000 },
    { seq: 9, at: 9500 },
  ];

  it('tells the time of a point from the nearest point at or before it', () => {
    expect(timeOf(points, 1)).toBe(1000);
    expect(timeOf(points, 7)).toBe(5000);
    expect(timeOf(points, 9)).toBe(9500);
    expect(timeOf(points, 0)).toBe(null);
  });

  it('marks where sessions started and ended, in order', () => {
    const marks = sessionMarks(
      [
        session('s2', { name: 'Syysleiri', started_seq: 51 }),
        session('s1', { name: 'Kesäleiri', started_seq: 11, ended_seq: 41 }),
      ],
      101,
    );
    expect(marks.map((mark) => [mark.name, mark.edge, mark.seq, mark.percent])).toEqual([
      ['Kesäleiri', 'start', 11, 10],
      ['Kesäleiri', 'end', 41, 40],
      ['Syysleiri', 'start', 51, 50],
    ]);
  });

  it('steps within the board’s history', () => {
    expect(step(5, -1, 9)).toBe(4);
    expect(step(1, -1, 9)).toBe(1);
    expect(step(9, 1, 9)).toBe(9);
  });
});
