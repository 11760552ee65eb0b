// Host → webview message intake: one validated entry point per view, plus the helper that makes
// `switch (message.type)` exhaustive at compile time.

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/**
 * Calls `handle` for every window message that passes `guard`. Messages that fail it are logged
 * and dropped: the host is trusted, but a bad message must not take the view down with it.
 */
export function listenToHost<M>(guard: (value: unknown) => value is M, handle: (message: M) => void): () => void {
  const listener = (event: MessageEvent<unknown>): void => {
    if (!guard(event.data)) {
      console.warn('DoRA Studio: ignored a message that does not match the contract', event.data);
      return;
    }
    handle(event.data);
  };
  window.addEventListener('message', listener);
  return () => window.removeEventListener('message', listener);
}
