import { buildPackages } from '../scripts/build.js';

/**
 * Builds packages/*\/dist once before any test file runs: the tests that start the server as
 * its own process run it as `pnpm start` does, from the build (helpers/childServer.ts).
 */
export default async function setup(): Promise<void> {
  await buildPackages();
}
