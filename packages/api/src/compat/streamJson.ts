import type { Response } from 'express';

/**
 * Writes a JSON answer piece by piece, waiting for the connection to take each piece before
 * the next is made: a large answer (every poll with every voter) is never held whole, as text
 * or as the objects it is made of. Ends early, quietly, if the client goes away.
 */
export const streamJson = async (res: Response, parts: Iterable<string>): Promise<void> => {
  res.status(200).type('json');
  for (const part of parts) {
    if (res.destroyed) return;
    if (!res.write(part)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!res.destroyed) res.end();
};
