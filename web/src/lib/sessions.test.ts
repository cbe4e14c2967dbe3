import { describe, expect, it } from 'vitest';
import { knownTokens, observerSession, saveSession } from './sessions';
import { MemoryStore } from './storage';

describe('knownTokens', () => {
  it('lists the participant tokens this browser holds, not observer links', () => {
    const store = new MemoryStore();
    saveSession({ board: 'b1', participant: 'p1', role: 'participant', token: 'kp_one' }, store);
    saveSession({ board: 'b2', participant: 'p2', role: 'facilitator', token: 'kp_two' }, store);
    saveSession(observerSession('b3', 'secret'), store);
    store.setItem('kipina.other', 'x');
    expect(knownTokens(store).sort()).toEqual(['kp_one', 'kp_two']);
  });
});
