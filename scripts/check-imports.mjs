#!/usr/bin/env node
// The import rules of the monorepo, checked over every package's src/ (run by `pnpm lint`):
//   1. no import cycle between files (type-only imports included: they are still a knot of modules);
//   2. no import of another package's src/ (import the package by its name: `@img/oci-spec`); tests
//      may import the repository's shared test helpers under test/ (e.g. test/fuzz.ts);
//   3. no import of a dependency's private files: a subpath must be one its package.json `exports`
//      lists (`undici/lib/...` is not); build config (scripts/*.mjs bundler plugins) is not source.
// Prints one line per violation and exits 1, or prints a summary and exits 0.
//
//   node scripts/check-imports.mjs [--root DIR]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const rootArg = args.indexOf('--root');
const root = resolve(rootArg >= 0 ? args[rootArg + 1] : join(dirname(fileURLToPath(import.meta.url)), '..'));
const require = createRequire(import.meta.url);
const ts = require('typescript');

const SOURCE = /\.(ts|tsx|mts|cts)$/;
const NODE_BUILTIN = /^node:/;
const TEST_FILE = /\.test\.tsx?$/;

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every module specifier a file names: static imports and re-exports, import(), require(). */
function specifiers(path) {
  const text = readFileSync(path, 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) found.push(e.text);
    } else if (ts.isCallExpression(node)) {
      const [arg] = node.arguments;
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isImport || isRequire) && arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const lit = node.argument.literal;
      if (ts.isStringLiteral(lit)) found.push(lit.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The source file a relative specifier names (`./x.js` is `./x.ts`), if it exists. */
function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    base.replace(/\.cjs$/, '.cts'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** `@scope/name/sub` -> ['@scope/name', './sub']; `name` -> ['name', '.']. */
function splitBare(spec) {
  const parts = spec.split('/');
  const n = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, n).join('/');
  const sub = parts.slice(n).join('/');
  return [name, sub ? `./${sub}` : '.'];
}

function exportsAllow(exportsField, subpath) {
  if (typeof exportsField === 'string' || Array.isArray(exportsField)) return subpath === '.';
  const keys = Object.keys(exportsField);
  if (!keys.some((k) => k.startsWith('.'))) return subpath === '.'; // conditions only: the root
  return keys.some((k) => {
    if (k === subpath) return true;
    const star = k.indexOf('*');
    return star >= 0 && subpath.startsWith(k.slice(0, star)) && subpath.endsWith(k.slice(star + 1));
  });
}

const packageJsonCache = new Map();
/** The package.json of dependency `name` as seen from `fromDir`, or undefined. */
function dependencyPackageJson(name, fromDir) {
  const key = `${fromDir}\0${name}`;
  if (!packageJsonCache.has(key)) {
    let found;
    for (let dir = fromDir; ; dir = dirname(dir)) {
      const p = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(p)) {
        found = JSON.parse(readFileSync(p, 'utf8'));
        break;
      }
      if (dirname(dir) === dir) break;
    }
    packageJsonCache.set(key, found);
  }
  return packageJsonCache.get(key);
}

const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir)
  .map((name) => join(packagesDir, name))
  .filter((dir) => existsSync(join(dir, 'src')) && existsSync(join(dir, 'package.json')));
const packageOf = (file) => packages.find((dir) => file.startsWith(dir + sep));

const violations = [];
const graph = new Map();
let fileCount = 0;
for (const pkg of packages) {
  for (const file of sourceFiles(join(pkg, 'src'))) {
    fileCount++;
    const edges = [];
    graph.set(file, edges);
    for (const spec of specifiers(file)) {
      const at = relative(root, file);
      if (spec.startsWith('.')) {
        const target = resolveRelative(file, spec);
        if (!target) continue; // a JSON or asset file, or typecheck's problem
        const owner = packageOf(target);
        // Tests may use the repository's own test helpers (test/, no package of its own).
        if (owner === undefined && TEST_FILE.test(file) && target.startsWith(join(root, 'test') + sep))
          continue;
        if (owner !== pkg) {
          violations.push(`${at}: imports ${spec}: another package's files (import it by its package name)`);
        } else if (!target.startsWith(join(pkg, 'src') + sep) && SOURCE.test(target)) {
          continue; // its own package.json, schema files and the like
        } else if (SOURCE.test(target)) {
          edges.push(target);
        }
        continue;
      }
      if (NODE_BUILTIN.test(spec)) continue;
      const [name, subpath] = splitBare(spec);
      if (subpath === '.') continue;
      if (/(^|\/)src(\/|$)/.test(subpath) && name.startsWith('@img/')) {
        violations.push(`${at}: imports ${spec}: another package's src/ (import "${name}")`);
        continue;
      }
      const pj = dependencyPackageJson(name, dirname(file));
      if (!pj) continue; // not installed: typecheck reports it
      if (pj.exports === undefined) {
        violations.push(`${at}: imports ${spec}: ${name} has no exports map, so its files are private`);
      } else if (!exportsAllow(pj.exports, subpath)) {
        violations.push(`${at}: imports ${spec}: not an entry point ${name} exports (a private file)`);
      }
    }
  }
}

// Cycles: strongly connected components of more than one file (or a file importing itself).
let index = 0;
const indices = new Map();
const lowlinks = new Map();
const stack = [];
const onStack = new Set();
const components = [];
function strongConnect(v) {
  // Iterative Tarjan: deep import chains must not overflow the call stack.
  const work = [[v, 0]];
  indices.set(v, index);
  lowlinks.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  while (work.length) {
    const frame = work[work.length - 1];
    const [node, i] = frame;
    const edges = graph.get(node) ?? [];
    if (i < edges.length) {
      frame[1]++;
      const w = edges[i];
      if (!indices.has(w)) {
        indices.set(w, index);
        lowlinks.set(w, index);
        index++;
        stack.push(w);
        onStack.add(w);
        work.push([w, 0]);
      } else if (onStack.has(w)) {
        lowlinks.set(node, Math.min(lowlinks.get(node), indices.get(w)));
      }
      continue;
    }
    work.pop();
    if (work.length) {
      const parent = work[work.length - 1][0];
      lowlinks.set(parent, Math.min(lowlinks.get(parent), lowlinks.get(node)));
    }
    if (lowlinks.get(node) === indices.get(node)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== node);
      const selfLoop = component.length === 1 && (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  }
}
for (const v of graph.keys()) if (!indices.has(v)) strongConnect(v);

/** One concrete cycle through a component, for the message: a -> b -> ... -> a. */
function cycleIn(component) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        for (let p = previous.get(v); p !== undefined; p = previous.get(p)) path.unshift(p);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
for (const component of components) {
  violations.push(
    `import cycle: ${cycleIn(component)
      .map((f) => relative(root, f))
      .join(' -> ')}`,
  );
}

if (violations.length) {
  for (const v of violations.sort()) console.error(v);
  console.error(`check-imports: ${violations.length} violation(s) in ${fileCount} files`);
  process.exit(1);
}
console.log(`check-imports: ${fileCount} files in ${packages.length} packages, no cycle, no private import`);
