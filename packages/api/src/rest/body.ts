import { errors, parseInput } from '@pollmasters/shared';
import type { Request } from 'express';
import type { z } from 'zod';

/**
 * A route's JSON body checked against its schema: BAD_INPUT when there is none (no body, or
 * not sent as `application/json`, which the JSON parser leaves alone) or it does not match.
 */
export const jsonBodyOf = <S extends z.ZodType>(req: Request, schema: S): z.output<S> => {
  if (req.body === undefined) {
    throw errors.badInput('send a JSON body with Content-Type: application/json');
  }
  return parseInput(schema, req.body);
};
