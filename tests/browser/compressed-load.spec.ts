/**
 * A phone on a camp's crowded Wi-Fi loads the board compressed: the page takes the board's first
 * view over HTTP (brotli when the browser offers it, a tenth of the JSON on a big board), and the
 * WebSocket only catches up from that view's seq, never sending the whole board again.
 */
import { addCard, boardView, card, createBoard, expect, expectConnected, test } from './helpers';

test('the board page loads its first view compressed and then follows live changes', async ({ open }) => {
  const created = await createBoard({ title: 'Pakattu ilta', name: 'Aino' });
  const view = await boardView(created.session);
  const column = view.columns[0]!.id;
  for (let number = 0; number < 30; number += 1) {
    await addCard(created.session, column, `Kortti ${number}`, 'Kylätalon ilta '.repeat(20));
  }

  const context = await open({ session: created.session, title: 'Pakattu ilta' });
  const page = await context.newPage();
  const frames: string[] = [];
  page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
  const first = page.waitForResponse((response) => new URL(response.url()).pathname === `/api/boards/${created.session.board}`);
  await page.goto(`/b/${created.session.board}`);
  const response = await first;
  expect(response.status()).toBe(200);
  // Brotli where Chromium offers it, gzip otherwise: compressed either way.
  expect(['br', 'gzip']).toContain((await response.allHeaders())['content-encoding']);
  await expectConnected(page);
  await expect(card(page, 'Kortti 29')).toBeVisible();
  expect(frames.some((frame) => frame.includes('"type":"snapshot"'))).toBe(false);

  // The catch-up from that seq works: a card added now arrives live.
  await addCard(created.session, column, 'Myöhemmin');
  await expect(card(page, 'Myöhemmin')).toBeVisible();
  expect(frames.some((frame) => frame.includes('"type":"changed"'))).toBe(true);
});
