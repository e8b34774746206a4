/** The built web app at `/`: files, the SPA fallback, the not-built page, and the API left alone. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import { installErrorHandling } from '../src/http/problem.ts';
import { webRoutes } from '../src/web/routes.ts';

async function appWith(dist: string) {
  const app = Fastify({ logger: false });
  installErrorHandling(app);
  app.get('/v1/ping', async () => ({ pong: true }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(webRoutes({ dist }));
  await app.ready();
  return app;
}

describe('web app routes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-web-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const dist = path.join(dir, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(path.join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(path.join(dist, 'assets', 'index-abc.css'), 'body{}');
  writeFileSync(path.join(dir, 'secret.txt'), 'outside');

  it('serves index.html at / and for client-side routes', async () => {
    const app = await appWith(dist);
    for (const url of ['/', '/protect', '/protect/', '/protect?x=1', '/chats/c_123', '/console/banks', '/settings', '/business', '/business/acme/settings', '/business/acme/contacts/ct_1']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
      assert.equal(res.body, '<!doctype html><title>app</title>');
      assert.ok(res.headers['content-security-policy']);
    }
    await app.close();
  });

  it('serves built files with their content types and long caching for assets', async () => {
    const app = await appWith(dist);
    const js = await app.inject({ url: '/assets/index-abc.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /^text\/javascript/);
    assert.match(js.headers['cache-control'] as string, /immutable/);
    const css = await app.inject({ url: '/assets/index-abc.css' });
    assert.match(css.headers['content-type'] as string, /^text\/css/);
    assert.equal((await app.inject({ method: 'HEAD', url: '/' })).statusCode, 200);
    await app.close();
  });

  it('sends the build\'s brotli or gzip copy to clients that accept it, the plain file to others', async () => {
    const big = `console.log(${JSON.stringify('x'.repeat(5000))});`;
    writeFileSync(path.join(dist, 'assets', 'big-abc.js'), big);
    writeFileSync(path.join(dist, 'assets', 'big-abc.js.br'), brotliCompressSync(big));
    writeFileSync(path.join(dist, 'assets', 'big-abc.js.gz'), gzipSync(big));
    const app = await appWith(dist);
    const br = await app.inject({ url: '/assets/big-abc.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers.vary, 'accept-encoding');
    assert.match(br.headers['content-type'] as string, /^text\/javascript/);
    assert.equal(brotliDecompressSync(br.rawPayload).toString(), big);
    const gz = await app.inject({ url: '/assets/big-abc.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.rawPayload).toString(), big);
    const plain = await app.inject({ url: '/assets/big-abc.js' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body, big);
    await app.close();
  });

  it('answers 404 for missing files and never leaves the dist folder', async () => {
    const app = await appWith(dist);
    assert.equal((await app.inject({ url: '/assets/missing.js' })).statusCode, 404);
    for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt']) {
      const res = await app.inject({ url });
      assert.notEqual(res.body, 'outside', url);
    }
    await app.close();
  });

  it('leaves the API alone: its routes answer, and unknown API paths are API 404s', async () => {
    const app = await appWith(dist);
    assert.deepEqual((await app.inject({ url: '/v1/ping' })).json(), { pong: true });
    assert.deepEqual((await app.inject({ url: '/healthz' })).json(), { status: 'ok' });
    assert.equal((await app.inject({ url: '/some/deep/page' })).statusCode, 404);
    for (const url of ['/v1/nothing-here', '/v1', '/openapi.json', '/readyz']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().code, 'route_not_found', url);
    }
    await app.close();
  });

  it('says how to build the app when it has not been built', async () => {
    const app = await appWith(path.join(dir, 'not-built'));
    const res = await app.inject({ url: '/protect' });
    assert.equal(res.statusCode, 503);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.match(res.body, /npm run build -w apps\/web/);
    assert.equal((await app.inject({ url: '/v1/nothing' })).statusCode, 404);
    await app.close();
  });
});
