import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The import direction (shared <- worker <- api <- edges) and import cycles are Biome's
// `noRestrictedImports` and `noImportCycles` (biome.json). This checks what Biome cannot
// tell: whether an import is type-only, and where a relative import lands.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['shared', 'worker', 'api', 'client', 'web'];

interface ModuleReference {
  file: string;
  specifier: string;
  /** Erased by the compiler (`import type`, `export type`, `typeof import(...)`). */
  typeOnly: boolean;
}

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });

/** Every module a file names: static imports and re-exports, `import()` and import types. */
const referencesOf = (file: string): ModuleReference[] => {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found: ModuleReference[] = [];
  const add = (node: ts.Node | undefined, typeOnly: boolean) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ file, specifier: node.text, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
};

const referencesIn = (pkg: string): ModuleReference[] =>
  sourceFiles(join(root, 'packages', pkg, 'src')).flatMap(referencesOf);

const describeRef = (r: ModuleReference) => `${relative(root, r.file)}: '${r.specifier}'`;

describe('architecture', () => {
  it.each(packages)('%s: no relative import leaves its package', (pkg) => {
    const own = join(root, 'packages', pkg) + sep;
    const leaving = referencesIn(pkg).filter(
      (r) => r.specifier.startsWith('.') && !resolve(dirname(r.file), r.specifier).startsWith(own),
    );
    expect(leaving.map(describeRef), 'import another package by its name').toEqual([]);
  });

  it.each(['client', 'web'])(
    '%s: the API is seen only as the AppRouter type, erased at build time',
    (pkg) => {
      const refs = referencesIn(pkg).filter((r) => r.specifier.startsWith('@pollmasters/api'));
      // It must name the router, or this test would pass over a client that no longer does.
      expect(refs.map((r) => r.specifier)).toContain('@pollmasters/api/router');
      const loaded = refs.filter((r) => !r.typeOnly);
      expect(loaded.map(describeRef), 'use `import type` for the router').toEqual([]);
    },
  );
});
