/**
 * Keeps keyboard focus on the same control when the board redraws it somewhere else.
 *
 * A card that moves to another column is drawn anew there, so the button that had focus is
 * removed and focus falls back to the page: a keyboard user would have to Tab through everything
 * again (WCAG 2.4.3). Controls that may be redrawn carry `data-focus-key`; when the focused one
 * disappears, focus goes to the control with the same key in its new place.
 */
export function keepFocusAcrossRedraws(root: HTMLElement): () => void {
  let lastKey: string | null = null;

  const onFocusIn = (event: FocusEvent) => {
    const target = event.target instanceof HTMLElement ? event.target : null;
    lastKey = target?.closest<HTMLElement>('[data-focus-key]')?.dataset.focusKey ?? null;
  };
  // A click elsewhere is a deliberate move of attention: don't pull focus back after it.
  const onPointerDown = () => {
    lastKey = null;
  };
  const observer = new MutationObserver(() => {
    if (lastKey === null) return;
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    const replacement = root.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(lastKey)}"]`);
    replacement?.focus();
  });

  root.addEventListener('focusin', onFocusIn);
  root.addEventListener('pointerdown', onPointerDown, true);
  observer.observe(root, { childList: true, subtree: true });
  return () => {
    root.removeEventListener('focusin', onFocusIn);
    root.removeEventListener('pointerdown', onPointerDown, true);
    observer.disconnect();
  };
}
