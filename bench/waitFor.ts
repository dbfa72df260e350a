/**
 * Resolves once `check` holds, checked every 50 ms; rejects after `timeoutMs`, saying what it
 * waited for (`what` is read then, so it can name what is still missing).
 */
export const waitFor = async (
  what: string | (() => string),
  check: () => boolean,
  timeoutMs: number,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
};
