/**
 * axe-core scans: the home page, the board page with cards and a comment, and the open card
 * dialog. No `serious` or `critical` violation; every violation found is printed.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page, TestInfo } from '@playwright/test';
import { addCard, addComment, boardView, command, createBoard, expect, joinBoard, openBoard, test } from './helpers';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

async function scan(page: Page, testInfo: TestInfo, name: string, include?: string): Promise<void> {
  let builder = new AxeBuilder({ page }).withTags(TAGS);
  if (include) builder = builder.include(include);
  const results = await builder.analyze();
  await testInfo.attach(`axe-${name}.json`, { body: JSON.stringify(results.violations, null, 2), contentType: 'application/json' });
  for (const violation of results.violations) {
    console.log(`axe ${name}: [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})`);
    for (const node of violation.nodes.slice(0, 5)) console.log(`    ${node.target.join(' ')} — ${node.failureSummary?.split('\n').join(' ')}`);
  }
  const blocking = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  expect(
    blocking.map((violation) => `${violation.impact} ${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`),
    `serious or critical axe violations on ${name}`,
  ).toEqual([]);
  expect(results.passes.length, `axe checked something on ${name}`).toBeGreaterThan(5);
}

test('home page: no serious or critical axe violations', async ({ open }, testInfo) => {
  const context = await open();
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByTestId('create-board-form')).toBeVisible();
  await scan(page, testInfo, 'home');
});

test('board page with cards and a comment: no serious or critical axe violations', async ({ open }, testInfo) => {
  const created = await createBoard({ title: 'Saavutettavuus', name: 'Fanni' });
  const other = await joinBoard(created.links.participant, 'Pertti');
  const view = await boardView(created.session);
  const [first, second] = view.columns;
  const cardId = await addCard(other, first!.id, 'Lähiruoka kouluihin', 'Paikalliset tuottajat mukaan');
  await addCard(created.session, first!.id, 'Kylätalon remontti');
  await addCard(other, second!.id, 'Nuorten oma tila');
  const commentId = await addComment(created.session, cardId, 'Hyvä ajatus!');
  await command(other, { type: 'add_comment', comment: crypto.randomUUID(), card: cardId, reply_to: commentId, body: 'Kiitos!' });
  await command(other, { type: 'cast_vote', card: cardId });
  await command(created.session, { type: 'set_card_status', card: cardId, status: 'selected' });

  // A participant's view (vote and like controls, "Siirrä…" on own cards).
  const context = await open({ session: other });
  const page = await context.newPage();
  await openBoard(page, other.board);
  await expect(page.getByTestId('card')).toHaveCount(3);
  await scan(page, testInfo, 'board (participant)');

  await page.getByRole('button', { name: 'Lähiruoka kouluihin', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Lähiruoka kouluihin' });
  await expect(dialog.getByTestId('comment')).toHaveCount(2);
  await scan(page, testInfo, 'card dialog', 'dialog[open]');
  await dialog.getByRole('button', { name: 'Sulje' }).click();
  await expect(dialog).toBeHidden();

  // The same board on a phone-wide window.
  await page.setViewportSize({ width: 360, height: 800 });
  await expect(page.getByTestId('votes-left')).toBeVisible();
  await scan(page, testInfo, 'board (360 px)');

  // The facilitator's view (share button, column menus, the new-column form, the share dialog).
  const facilitator = await open({ session: created.session });
  const facilitatorPage = await facilitator.newPage();
  await openBoard(facilitatorPage, created.session.board);
  await expect(facilitatorPage.getByTestId('card')).toHaveCount(3);
  await scan(facilitatorPage, testInfo, 'board (facilitator)');
  await facilitatorPage.getByRole('button', { name: 'Jaa linkit' }).click();
  await expect(facilitatorPage.getByTestId('join-code')).toBeVisible();
  await expect(facilitatorPage.getByRole('img', { name: 'Osallistujalinkin QR-koodi' })).toBeVisible();
  await scan(facilitatorPage, testInfo, 'share dialog', 'dialog[open]');
});
