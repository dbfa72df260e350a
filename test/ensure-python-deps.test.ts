import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { root } from './helpers/childServer.js';

// Issue 16: `pnpm test` installs the Python compat test's Debian packages when they are
// missing (as root), or stops at once with the command to run; it never skips that test.

const SCRIPT = join(root, 'scripts/ensure-python-deps.sh');
const isRoot = process.getuid?.() === 0;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory every user can read, with executable `files`. */
const toolDir = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'pollmasters-pydeps-'));
  dirs.push(dir);
  chmodSync(dir, 0o777);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
};

/** An `apt-get` (and `sudo`) that record how they were called, first on PATH. */
const recordingApt = (onInstall = 'exit 0') =>
  toolDir({
    'apt-get': `#!/bin/sh\necho "DEBIAN_FRONTEND=\${DEBIAN_FRONTEND:-} $*" >> "$(dirname "$0")/calls"\ncase "$1" in install) ${onInstall};; esac\n`,
    sudo: '#!/bin/sh\necho "sudo $*" >> "$(dirname "$0")/calls"\n',
  });

const calls = (dir: string): string[] =>
  existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : [];

const run = (env: Record<string, string>, asNobody = false) => {
  const command = asNobody
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'sh', SCRIPT]
    : ['sh', SCRIPT];
  const result = spawnSync(command[0]!, command.slice(1), {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

it('not as root: fails at once with one line that gives the command, and installs nothing', () => {
  // A real Python that lacks the modules: Debian's, without its site-packages.
  const python = join(toolDir({ python: '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n' }), 'python');
  const apt = recordingApt();
  const result = run(
    { POLLMASTERS_PYTHON: python, PATH: `${apt}:${process.env.PATH}` },
    // Already not root: run as is.
    isRoot,
  );
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(
    `pnpm test: ${python} cannot import socketio and requests; run: sudo apt-get update && sudo apt-get install -y python3-socketio python3-requests\n`,
  );
  expect(calls(apt)).toEqual([]);
});

it.runIf(isRoot)('as root: updates the package lists, installs both packages, then passes', () => {
  const apt = recordingApt('touch "$(dirname "$0")/installed"');
  // Importable once `apt-get install` ran.
  const python = join(toolDir({ python: `#!/bin/sh\n[ -e "${apt}/installed" ]\n` }), 'python');
  // Unset here, so that the script's own setting shows.
  const env = {
    POLLMASTERS_PYTHON: python,
    PATH: `${apt}:${process.env.PATH}`,
    DEBIAN_FRONTEND: '',
  };
  const result = run(env);
  expect(result.code, result.stderr).toBe(0);
  expect(calls(apt)).toEqual([
    'DEBIAN_FRONTEND= update -qq',
    'DEBIAN_FRONTEND=noninteractive install -y -qq python3-socketio python3-requests',
  ]);
  // Installed now: the next run does nothing.
  expect(run(env).code).toBe(0);
  expect(calls(apt)).toHaveLength(2);
});

it.runIf(isRoot)('as root: a failed install fails the run, with apt-get’s error shown', () => {
  const apt = recordingApt('echo "E: Unable to locate package python3-socketio" >&2; exit 100');
  const python = join(toolDir({ python: '#!/bin/sh\nexit 1\n' }), 'python');
  const result = run({ POLLMASTERS_PYTHON: python, PATH: `${apt}:${process.env.PATH}` });
  expect(result.code).toBe(100);
  expect(result.stderr).toContain('E: Unable to locate package python3-socketio');
});
