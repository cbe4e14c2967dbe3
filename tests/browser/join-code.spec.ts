/**
 * Joining with the code as people copy it from the projector: with its space ("8Z8 25A"), with
 * a hyphen, in small letters. It was refused as "not found".
 */
import { createBoard, expect, expectConnected, test } from './helpers';

test('a join code typed with its space or a hyphen joins the board', async ({ open }) => {
  const created = await createBoard({ title: 'Koodi-ilta', name: 'Aino' });
  const code = created.links.join_code;
  for (const [typed, name] of [
    [`${code.slice(0, 3)} ${code.slice(3)}`, 'Välilyönnillä'],
    [`${code.slice(0, 3).toLowerCase()}-${code.slice(3)}`, 'Väliviivalla'],
  ] as const) {
    const context = await open();
    const page = await context.newPage();
    await page.goto('/');
    const form = page.getByTestId('join-code-form');
    await form.getByLabel('Liittymiskoodi').fill(typed);
    await form.getByLabel('Nimesi').fill(name);
    await form.getByRole('button', { name: 'Liity' }).click();
    await expect(page).toHaveURL(new RegExp(`/b/${created.session.board}$`));
    await expectConnected(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Koodi-ilta');
  }
});
