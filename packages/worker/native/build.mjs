// Builds ./voteCipher.cc into ./build/vote_cipher.node: the worker package's `install` script,
// so `pnpm install` runs it. One compiler call against the headers of the node that runs this
// (N-API and node's own OpenSSL; nothing is downloaded, nothing else is linked).
//
// A failed build does not fail the install: the worker then opens votes with node:crypto,
// which is correct and about 3 µs per vote slower, and says so in its log. The test suite
// fails when the addon is missing (packages/worker/test/voteCipher.test.ts), so a machine that
// should build it does. `node native/build.mjs --strict` exits non-zero on failure instead.
// `--asan <file>` builds an AddressSanitizer copy there instead (strict), for
// packages/worker/test/voteCipherAsan.test.ts, which fuzzes it under LD_PRELOAD of libasan.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const source = join(here, 'voteCipher.cc');
const asan = process.argv.indexOf('--asan');
const target = asan >= 0 ? process.argv[asan + 1] : join(here, 'build', 'vote_cipher.node');
const strict = asan >= 0 || process.argv.includes('--strict');
const optimise =
  asan >= 0 ? ['-O1', '-g', '-fsanitize=address', '-fno-omit-frame-pointer'] : ['-O2'];

/** Where the running node keeps its headers: `<prefix>/include/node`, or npm's `nodedir`. */
const headers = () => {
  const dirs = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(dirname(process.execPath)), 'include', 'node'),
  ];
  return dirs.find(
    (dir) =>
      dir && existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'openssl', 'evp.h')),
  );
};

const build = () => {
  const include = headers();
  if (!target) throw new Error('--asan needs the file to build');
  if (!include)
    throw new Error(
      `no node_api.h and openssl/evp.h under ${dirname(dirname(process.execPath))}/include/node`,
    );
  mkdirSync(dirname(target), { recursive: true });
  const staged = `${target}.${process.pid}.tmp`;
  // Unresolved symbols (napi_*, EVP_*) are node's: resolved when node loads the addon.
  const link = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [];
  const compiler = process.env.CXX || 'c++';
  execFileSync(
    compiler,
    [
      '-std=c++17',
      ...optimise,
      '-fPIC',
      '-shared',
      '-fvisibility=hidden',
      '-Wall',
      '-DNODE_GYP_MODULE_NAME=vote_cipher',
      '-DNAPI_VERSION=8',
      `-I${include}`,
      ...link,
      '-o',
      staged,
      source,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  // Moved into place whole: a server loading the addon meanwhile never reads half a file.
  renameSync(staged, target);
  return compiler;
};

try {
  const compiler = build();
  process.stdout.write(`vote cipher: built ${target} (${compiler})\n`);
} catch (err) {
  rmSync(`${target}.${process.pid}.tmp`, { force: true });
  const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  process.stderr.write(
    `vote cipher: not built (${why}); the worker will open votes with node:crypto, about 3 µs per vote slower. Needs a C++ compiler (Debian: apt-get install g++) and node's headers.\n`,
  );
  if (strict) process.exit(1);
}
