import superjson from 'superjson';

/**
 * The wire format of the tRPC API: superjson (Dates, Maps, undefined, NaN survive the trip),
 * used by the server and on each terminating link of the client.
 *
 * Both directions take a shortcut where superjson has nothing to add, with the same bytes on
 * the wire: a value that is plain JSON already (strings, finite numbers, booleans, null,
 * arrays and plain objects of those) is sent as `{ json: value }`, which is exactly what
 * `superjson.serialize` makes of it, without its walk (a path array, an identity map and a
 * result object per node: most of the API thread's time per vote event, docs/performance.md).
 * The one difference: an object referenced twice inside such a value arrives as two equal
 * objects, not one. Anything else goes through superjson, so any superjson client reads what
 * this one sends and the other way round (packages/shared/test/transformer.test.ts).
 */
export const transformer = {
  serialize(value: unknown): unknown {
    return isPlainJson(value, 0) ? { json: value } : superjson.serialize(value);
  },
  deserialize(payload: unknown): unknown {
    const { json, meta } = (payload ?? {}) as { json?: unknown; meta?: unknown };
    // Without annotations there is nothing to restore; the value comes fresh from JSON.parse,
    // so superjson's defensive deep copy is not needed either.
    if (meta === undefined && payload !== null && typeof payload === 'object') return json;
    return superjson.deserialize(payload as Parameters<typeof superjson.deserialize>[0]);
  },
};

/** Values their maker vouched for as plain JSON (`plainJson`): not walked again. */
const vouched = new WeakSet<object>();

/**
 * Vouches that `value` is plain JSON, as `isPlainJson` below would find it (no `undefined`
 * property, no NaN, ±Infinity or -0, no Date, Map or class instance anywhere inside), and that
 * it will not change: the transformer then sends it without walking it. For what the server
 * builds itself, in bulk, from values already checked: a `votes` event of a few hundred
 * changes was walked in full for every subscriber, 2-4 % of the API thread (docs/performance.md,
 * "Session 8"). Returns `value`.
 */
export const plainJson = <T extends object>(value: T): T => {
  vouched.add(value);
  return value;
};

/** Deeper than this is left to superjson (which also guards against cycles). */
const MAX_DEPTH = 64;

/**
 * True when JSON.stringify would keep `value` exactly and superjson would annotate nothing.
 * Our events are plain JSON (an absent name is left out, never `undefined`); that matters
 * beyond speed: they share selection arrays between voters, and superjson would record every
 * shared reference as an annotation.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      // NaN, ±Infinity and -0 carry superjson annotations.
      return Number.isFinite(value) && !(value === 0 && 1 / value < 0);
    case 'object': {
      if (value === null || vouched.has(value)) return true;
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isPlainJson(value[i], depth + 1)) return false;
        }
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) {
        // superjson refuses these keys (prototype pollution): let it say so.
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') return false;
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      // undefined, bigint, symbol, function
      return false;
  }
}
