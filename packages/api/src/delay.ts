/** Resolves after `ms`, without keeping the process alive for it. */
export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());
