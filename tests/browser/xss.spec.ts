/**
 * Text that looks like HTML or script, in every field people can write, is shown as text: no
 * element it describes appears in the page, nothing it says runs, and the words are visible as
 * typed. Checked on the board (idea columns, a statement, a group, the card dialog), the results
 * view and the projector, for the facilitator and a participant.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from '@playwright/test';
import { addCard, addComment, boardView, command, createBoard, expect, expectConnected, joinBoard, test } from './helpers';

/** Each payload tries to add an element with `data-xss` or set `window.__xss`. */
const PAYLOADS = [
  '<img src=x data-xss onerror="window.__xss=1">',
  '<script data-xss>window.__xss=1</script>',
  '"><svg data-xss onload="window.__xss=1">',
  "<a data-xss href=\"javascript:window.__xss=1\">linkki</a>",
  '{{constructor.constructor("window.__xss=1")()}}',
  '<iframe data-xss srcdoc="<script>parent.__xss=1</script>"></iframe>',
];

/** Nothing injected is in the page and nothing ran. */
async function expectInert(page: Page): Promise<void> {
  await expect(page.locator('[data-xss]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
}

test('script-like text in every user field is shown as text and never runs', async ({ open }) => {
  const payload = (index: number) => `${PAYLOADS[index % PAYLOADS.length]} #${index}`;
  const created = await createBoard({ title: payload(0), description: payload(1), name: payload(2), template: 'empty' });
  const facilitator = created.session;
  const column = randomUUID();
  await command(facilitator, { type: 'add_column', column, title: payload(3) });
  const participant = await joinBoard(created.links.participant, payload(4));
  const first = await addCard(participant, column, payload(5), payload(0));
  const second = await addCard(participant, column, payload(1), payload(2));
  const third = await addCard(participant, column, payload(3), '');
  await addComment(participant, first, payload(4));
  const label = randomUUID();
  // Label names are short (40 characters).
  await command(facilitator, { type: 'create_label', label, name: '<b data-xss>x</b>', color: 'red' });
  await command(facilitator, { type: 'set_card_label', card: first, label, on: true });
  await command(facilitator, { type: 'group_cards', group: randomUUID(), heading: payload(0), cards: [second, third] });
  const statement = randomUUID();
  await command(facilitator, { type: 'add_statement', column: statement, title: payload(1), text: payload(2) });
  await command(participant, {
    type: 'propose_wording',
    card: randomUUID(),
    statement,
    text: payload(3),
    reason: payload(4),
    base_version: 1,
  });
  const session = randomUUID();
  await command(facilitator, { type: 'create_session', session, name: payload(5), date: '2026-11-23', anonymous: false });
  await command(participant, { type: 'cast_vote', card: first });
  await command(facilitator, { type: 'start_session', session });

  for (const who of [facilitator, participant]) {
    const context = await open({ session: who });
    const page = await context.newPage();
    await page.goto(`/b/${who.board}`);
    await expectConnected(page);
    await expect(page.getByTestId('card').first()).toBeVisible();
    // The words are there, as text.
    await expect(page.getByText(payload(5), { exact: false }).first()).toBeVisible();
    await expectInert(page);
    // The card dialog with its comment and label.
    await page.getByTestId('card').filter({ hasText: payload(5) }).first().getByRole('button').first().click();
    await expect(page.getByRole('dialog')).toBeVisible();
    await expect(page.getByRole('dialog').getByText(payload(4), { exact: false }).first()).toBeVisible();
    await expectInert(page);
    await page.keyboard.press('Escape');
    await context.close();
  }

  // The results phase and the projector.
  await command(facilitator, { type: 'set_phase', session, phase: 'results' });
  const context = await open({ session: facilitator });
  const page = await context.newPage();
  await page.goto(`/b/${facilitator.board}/present`);
  await expectConnected(page);
  await expect(page.getByText(payload(0), { exact: false }).first()).toBeVisible();
  await expectInert(page);
  const view = await boardView(facilitator);
  expect(view.info.title).toBe(payload(0));
});
