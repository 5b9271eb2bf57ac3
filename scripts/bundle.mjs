// `npm run build`'s second half: after tsc has written dist/**, bundle src/cli.ts into dist/cli.js
// (ESM) so a run loads a few files instead of hundreds (start-up CPU, issue #11). The commands that
// program.ts imports lazily stay lazy: esbuild's code splitting puts them in dist/chunks/. The rest
// of dist/** stays tsc's output (tests, bench and the demo fleet import it).
//
//   node scripts/bundle.mjs            bundle (prints the sizes)
//   node scripts/bundle.mjs --meta     also write dist/bundle-meta.json (what went into which file)
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');

// Left to Node's own loader, from node_modules, as before: native addons located at run time
// (better-sqlite3 finds its .node through `bindings`, which reads the call stack), pg with its
// optional pg-native (only the PostgreSQL report store loads it), and ssh2's optional cpu-features.
const EXTERNAL = ['better-sqlite3', 'pg', 'pg-native', 'cpu-features'];

// A dependency's `require('./x.node')` (ssh2's sshcrypto binding, in a try/catch that would
// silently fall back to slower JavaScript ciphers) is kept as a require of the package's own file,
// `ssh2/lib/protocol/crypto/build/Release/sshcrypto.node`, which the bundle's require resolves
// through node_modules as it resolves any package.
const nativeAddons = {
  name: 'native-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => {
      const file = join(args.resolveDir, args.path);
      const inModules = file.lastIndexOf(`${sep}node_modules${sep}`);
      if (inModules < 0) return { errors: [{ text: `native addon outside node_modules: ${file}` }] };
      return {
        path: file
          .slice(inModules + 14)
          .split(sep)
          .join('/'),
        external: true,
      };
    });
  },
};

// CommonJS dependencies expect require, __filename and __dirname; an ESM file has none. (ssh2's
// poly1305 reads __dirname only to locate a .wasm it actually carries inline.)
const banner = [
  "import { createRequire as __msCreateRequire } from 'node:module';",
  "import { fileURLToPath as __msFileURLToPath } from 'node:url';",
  'const require = __msCreateRequire(import.meta.url);',
  'const __msFilename = __msFileURLToPath(import.meta.url);',
  "const __msDirname = __msFilename.replace(/[\\\\/][^\\\\/]*$/, '');",
].join('\n');

rmSync(join(DIST, 'chunks'), { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: DIST,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  plugins: [nativeAddons],
  banner: { js: banner },
  define: { __filename: '__msFilename', __dirname: '__msDirname' },
  sourcemap: true,
  sourcesContent: false, // the map only places a stack trace's lines; the sources are in the repository
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const kb = (n) => `${Math.round(n / 1024)} KiB`;
const entry = outputs.find(([f]) => f.endsWith('dist/cli.js'));
process.stdout.write(
  `bundle: dist/cli.js ${kb(entry?.[1].bytes ?? 0)} + ${outputs.length - 1} chunks in dist/chunks (${kb(outputs.reduce((a, [, o]) => a + o.bytes, 0))} in all)\n`,
);
if (process.argv.includes('--meta')) {
  writeFileSync(join(DIST, 'bundle-meta.json'), JSON.stringify(result.metafile));
  process.stdout.write(`metafile: ${relative(ROOT, join(DIST, 'bundle-meta.json'))}\n`);
}
