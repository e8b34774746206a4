#!/usr/bin/env node
// Builds the web app (apps/web → apps/web/dist) when the build is missing or older than its
// sources (the app and the workspace packages it bundles). `--force` always builds. The server
// serves whatever dist/ holds; without it, `/` says how to build.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import zlib, { brotliCompressSync, gzipSync } from 'node:zlib';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const web = path.join(root, 'apps', 'web');
const built = path.join(web, 'dist', 'index.html');
const sources = [
  path.join(web, 'src'),
  path.join(web, 'index.html'),
  path.join(web, 'public'),
  path.join(web, 'vite.config.ts'),
  path.join(web, 'package.json'),
  path.join(root, 'packages', 'phash', 'src'),
  path.join(root, 'packages', 'sdk', 'src'),
  path.join(root, 'packages', 'contracts', 'src'),
];

function newest(p) {
  if (!existsSync(p)) return 0;
  const stat = statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(p)) latest = Math.max(latest, newest(path.join(p, name)));
  return latest;
}

const force = process.argv.includes('--force');
if (!force && existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) {
  process.exit(0);
}
console.error('building the web app (apps/web/dist)…');
const result = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
  { cwd: web, stdio: 'inherit' },
);
if (result.status === 0) precompress(path.join(web, 'dist', 'assets'));
process.exit(result.status ?? 1);

/** Brotli and gzip copies of the text assets, so the server sends them compressed without work per request. */
function precompress(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (!/\.(js|mjs|css|svg|json)$/.test(name)) continue;
    const file = path.join(dir, name);
    const body = readFileSync(file);
    if (body.length < 1024) continue;
    writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
    writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
  }
}
