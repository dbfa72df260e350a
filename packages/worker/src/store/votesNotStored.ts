import type { Logger } from '@pollmasters/shared';
import { FencedError } from './pg/pgSession.js';

/**
 * The handler of a vote commit that failed: logged as an error, unless it was refused for a
 * newer owner's fencing token. That one was said once, when the store found it (onFenced in
 * ../hostedSession.ts); the batch that met it and the session's closing flush would each say
 * it again.
 */
export const logVotesNotStored =
  (logger: Logger) =>
  (err: unknown): void => {
    if (err instanceof FencedError) return;
    logger.error({ err }, 'could not store votes');
  };
