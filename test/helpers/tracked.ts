import { createSandbox, type SandboxOptionsInput, type World } from '@pollmasters/worker/sandbox';

/** The world a sandbox with these options makes: the same options give the same world. */
export const worldOf = (options: SandboxOptionsInput): World => {
  const sandbox = createSandbox({
    ...options,
    channelName: `world-${process.pid}-${Math.random()}`,
  });
  sandbox.close();
  return sandbox.world;
};
