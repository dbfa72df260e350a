import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard, built to dist/ (served by the API at `/`, ../api/src/web/webApp.ts). No dev
// server in production and nothing from a CDN: everything the page loads is in dist/.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    sourcemap: false,
    target: 'es2022',
  },
});
