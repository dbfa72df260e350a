import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * Writes `.vite/modules.json`: every module the bundle was built from. test/web-bundle.test.ts
 * reads it to prove that the page pulls in no Node built-in (Vite would swap one for its
 * `__vite-browser-external` stub) and nothing of the Node-only `@pollmasters/shared/node`.
 */
const moduleList = (): Plugin => ({
  name: 'pollmasters-module-list',
  generateBundle() {
    this.emitFile({
      type: 'asset',
      fileName: '.vite/modules.json',
      source: `${JSON.stringify([...this.getModuleIds()].sort(), null, 1)}\n`,
    });
  },
});

// The dashboard, built to dist/ (served by the API at `/`, ../api/src/web/webApp.ts). No dev
// server in production and nothing from a CDN: everything the page loads is in dist/.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react(), moduleList()],
  logLevel: 'warn',
  // For work on the page only (`pnpm --filter @pollmasters/web exec vite`): the API of a
  // server started apart (`pnpm start`, port 3000) behind the dev server's own origin.
  server: {
    proxy: { '/trpc': { target: 'http://127.0.0.1:3000', ws: true } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    sourcemap: false,
    target: 'es2022',
    // The build prints the first load's gzipped size against its own target (buildWeb.ts).
    chunkSizeWarningLimit: 2048,
  },
});
