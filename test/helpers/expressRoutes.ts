import type { RunningServer } from '@pollmasters/api';

/** What router 2 (Express 5) keeps of a mounted layer. */
interface Layer {
  rawPath?: string | string[];
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[]; length: number };
}

const paths = (path: string | string[] | undefined): string[] =>
  path === undefined ? [''] : Array.isArray(path) ? path : [path];

/** A mount path under `prefix`; `/` adds nothing. */
const joined = (prefix: string, path: string): string => `${prefix}${path === '/' ? '' : path}`;

/**
 * Every route an Express app answers, as `METHOD /path` in OpenAPI's form (`:id` -> `{id}`),
 * routers mounted with `app.use` included; a handler mounted on a path of its own (not a
 * router, not an error handler) shows as `USE /path`.
 */
export const expressRoutes = (app: RunningServer['app']): string[] => {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of paths(layer.route.path)) {
          for (const method of Object.keys(layer.route.methods)) {
            if (method === '_all') continue;
            const full = (joined(prefix, path) || '/').replace(/:(\w+)/g, '{$1}');
            found.push(`${method.toUpperCase()} ${full}`);
          }
        }
      } else if (layer.handle.stack) {
        for (const path of paths(layer.rawPath)) walk(layer.handle.stack, joined(prefix, path));
      } else if (layer.handle.length < 4) {
        for (const path of paths(layer.rawPath)) {
          if (path !== '/' && path !== '') found.push(`USE ${joined(prefix, path)}`);
        }
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...new Set(found)].sort();
};
