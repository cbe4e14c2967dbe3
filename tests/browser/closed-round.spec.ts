/**
 * Closing a session ends its vote round: the dots shown at the close stay, and nobody can add or
 * take back one — the buttons say why. (The round used to stay open, so the results on the
 * projector changed after the session had ended.)
 */
import { randomUUID } from 'node:crypto';
import { addCard, boardView, card, command, createBoard, dots, expect, joinBoard, openBoard, test } from './helpers';

test('after its session is closed the vote round takes no dots and says why', async ({ open }) => {
  const created = await createBoard({ title: 'Suljettu kierros', name: 'Fanni' });
  const voter = await joinBoard(created.links.participant, 'Ville');
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Yhteinen sauna');
  const session = randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'Kevään työpaja', date: '2026-05-12', anonymous: false });
  await command(created.session, { type: 'start_session', session });
  await command(created.session, { type: 'set_phase', session, phase: 'vote' });

  const context = await open({ session: voter });
  const page = await context.newPage();
  await openBoard(page, voter.board);
  const sauna = card(page, 'Yhteinen sauna');
  const plus = sauna.getByRole('button', { name: 'Anna ääni' });
  await plus.click();
  await expect(dots(sauna)).toHaveText('1 ääni, joista sinun 1');

  await command(created.session, { type: 'set_phase', session, phase: 'closed' });
  await expect(plus).toBeDisabled();
  await expect(sauna.getByRole('button', { name: 'Peru ääni' })).toBeDisabled();
  await expect(page.getByText('Äänestyskierros päättyi, kun työpaja päätettiin.', { exact: false })).toBeVisible();
  await expect(dots(sauna)).toHaveText('1 ääni, joista sinun 1');
});
