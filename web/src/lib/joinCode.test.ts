import { describe, expect, it } from 'vitest';
import { typedInvitation } from './joinCode';

describe('typedInvitation', () => {
  it('reads a code as shown on the projector, with a hyphen or in small letters', () => {
    for (const typed of ['8Z825A', '8Z8 25A', ' 8z8 25a ', '8Z8-25A', '8z8\u00a025a', '8Z8\u201325A']) {
      expect(typedInvitation(typed)).toBe('8Z825A');
    }
  });

  it('leaves a join link as it is', () => {
    const link = 'https://kipina.example/join/0190c7a2-0000-7000-8000-000000000000/p/AbC-dEf_123';
    expect(typedInvitation(` ${link} `)).toBe(link);
  });
});
