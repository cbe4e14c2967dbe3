/**
 * A phone (360×800, touch): join with the code on the home page, add a card, vote on it.
 */
import { devices } from '@playwright/test';
import { card, column, createBoard, dots, expect, expectConnected, test } from './helpers';

test('on a phone: join with the code → add a card → vote', async ({ open }) => {
  const created = await createBoard({ title: 'Kesäillan ideailta', name: 'Aino' });
  const code = created.links.join_code;

  const context = await open({
    viewport: { width: 360, height: 800 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: devices['Pixel 5'].userAgent,
  });
  const page = await context.newPage();

  await page.goto('/');
  const form = page.getByTestId('join-code-form');
  // Typed in lower case, as a person on a phone might: the code still works.
  await form.getByLabel('Liittymiskoodi').fill(code.toLowerCase());
  await form.getByLabel('Nimesi').fill('Pekka puhelimella');
  await form.getByRole('button', { name: 'Liity' }).tap();

  await expect(page).toHaveURL(new RegExp(`/b/${created.session.board}$`));
  await expectConnected(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kesäillan ideailta');
  const votesLeft = page.getByTestId('votes-left');
  await expect(votesLeft).toContainText('Ääniä jäljellä: 5/5');

  // Nothing on the page is wider than the phone (the columns scroll inside their strip).
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'the page scrolls sideways on a 360 px phone').toBeLessThanOrEqual(0);

  // Add a card to the second column (reached by scrolling the strip).
  const target = column(page, 'Paikallinen kumppanuus');
  await target.getByRole('button', { name: 'Lisää kortti sarakkeeseen Paikallinen kumppanuus' }).tap();
  await target.getByLabel('Otsikko').fill('Yhteiskyyti kylältä kaupunkiin');
  await target.getByRole('button', { name: 'Tallenna' }).tap();
  const added = card(target, 'Yhteiskyyti kylältä kaupunkiin');
  await expect(added).toBeVisible();
  await expect(added).toBeInViewport();
  await expect(target.getByTestId('card-pending')).toHaveCount(0);

  // Vote on it: the remaining budget goes down, the card shows the dot.
  await added.getByRole('button', { name: 'Anna ääni' }).tap();
  await expect(votesLeft).toContainText('Ääniä jäljellä: 4/5');
  await expect(dots(added)).toHaveText('1 ääni, joista sinun 1');
  await added.getByRole('button', { name: 'Anna ääni' }).tap();
  await expect(votesLeft).toContainText('Ääniä jäljellä: 3/5');
  await expect(dots(added)).toHaveText('2 ääntä, joista sinun 2');
  // The remaining budget is always visible, not scrolled away.
  await expect(votesLeft).toBeInViewport();

});
