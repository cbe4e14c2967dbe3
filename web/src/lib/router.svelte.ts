/** A tiny router on `location.pathname` with the history API. */

export type Route =
  | { name: 'home' }
  | { name: 'join'; board: string; role: string; secret: string }
  | { name: 'board'; board: string }
  | { name: 'present'; board: string }
  | { name: 'not_found' };

export function matchRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((part) => part !== '').map(safeDecode);
  if (parts.length === 0) return { name: 'home' };
  const [first, a, b, c] = parts;
  if (first === 'join' && parts.length === 4 && a && b && c) return { name: 'join', board: a, role: b, secret: c };
  if (first === 'b' && parts.length === 2 && a) return { name: 'board', board: a };
  if (first === 'b' && parts.length === 3 && a && b === 'present') return { name: 'present', board: a };
  return { name: 'not_found' };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

let path = $state(typeof location === 'undefined' ? '/' : location.pathname);

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', () => {
    path = location.pathname;
  });
}

export const router = {
  get path(): string {
    return path;
  },
  get route(): Route {
    return matchRoute(path);
  },
  navigate(to: string, options: { replace?: boolean } = {}): void {
    if (options.replace) history.replaceState(null, '', to);
    else history.pushState(null, '', to);
    path = location.pathname;
    window.scrollTo(0, 0);
  },
};

/** For `onclick` on same-origin links: navigates in the app unless a modifier asks for a new tab. */
export function linkClick(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  router.navigate(anchor.pathname);
}
