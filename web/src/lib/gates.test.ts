import { describe, expect, it } from 'vitest';
import { gateReason, gateReasonId } from './gates';
import { locale } from './i18n/index.svelte';

describe('why an action is not possible now', () => {
  it('says it in words from the code the gates carry, in the reader’s language', () => {
    locale.set('fi');
    expect(gateReason('add_card', 'phase_forbids', 'discuss')).toBe('Keskusteluvaiheessa ei lisätä eikä muokata kortteja.');
    expect(gateReason('vote', 'phase_forbids', 'ideate')).toBe('Ideointivaiheessa ei äänestetä.');
    expect(gateReason('comment', 'board_locked', 'ideate')).toBe('Fasilitaattori on lukinnut taulun: voit nyt vain lukea.');
    expect(gateReason('group', 'forbidden', null)).toBe('Tällä taululla vain fasilitaattorit ryhmittelevät kortteja.');
    // Any other code says what the error table says (every code has a translation).
    expect(gateReason('react', 'read_only', null)).toBe('Tämä on lukunäkymä.');
    locale.set('sv');
    expect(gateReason('add_card', 'phase_forbids', 'vote')).toBe('I röstningsfasen läggs inga kort till och inga ändras.');
    locale.set('en');
    expect(gateReason('vote', 'phase_forbids', 'results')).toBe('No voting in the results phase.');
    locale.set('fi');
  });

  it('points every action of a locked board to the one lock notice', () => {
    expect(gateReasonId('vote', 'board_locked')).toBe('gate-why-locked');
    expect(gateReasonId('react', 'board_locked')).toBe('gate-why-locked');
    expect(gateReasonId('vote', 'phase_forbids')).toBe('gate-why-vote');
  });
});
