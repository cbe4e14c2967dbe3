/** The part of `Storage` the client uses, so tests can hand in a map. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  readonly length: number;
  key(index: number): string | null;
}

/** A store that lives only in memory (tests, or a browser that refuses localStorage). */
export class MemoryStore implements KeyValueStore {
  private readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  get length(): number {
    return this.items.size;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
}

let fallback: MemoryStore | undefined;

/** The browser's localStorage, or a memory store where it cannot be used (private modes). */
export function browserStore(): KeyValueStore {
  try {
    const store = globalThis.localStorage;
    if (store) {
      const probe = 'kipina.probe';
      store.setItem(probe, '1');
      store.removeItem(probe);
      return store;
    }
  } catch {
    // fall through
  }
  fallback ??= new MemoryStore();
  return fallback;
}

export function readJson<T>(store: KeyValueStore, key: string): T | undefined {
  const text = store.getItem(key);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export function writeJson(store: KeyValueStore, key: string, value: unknown): void {
  try {
    store.setItem(key, JSON.stringify(value));
  } catch {
    // A full store must not break the app; the value stays in memory.
  }
}
