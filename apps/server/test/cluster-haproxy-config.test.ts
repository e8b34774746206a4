/**
 * The HAProxy configuration scripts/cluster.ts generates (and bench:cluster starts several of) is
 * one HAProxy accepts, with the options it takes: more connections per process, a header naming
 * the node that answered, patient health checks. HAProxy checks it (`haproxy -c`) without
 * starting; `ulimit -n` stands for the machine's open-file limit.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { HAPROXY, freePort, haproxyConfig } from '../../../scripts/cluster.ts';

const skip = existsSync(HAPROXY) ? false : `HAProxy is not installed at ${HAPROXY}`;
const servers = [
  { name: 'api1', port: 18_001 },
  { name: 'api2', port: 18_002 },
];

/**
 * `haproxy -c` on the config (`start`: HAProxy started for real for 2 s, which is when it checks
 * its descriptors; still running then counts as ok), under an open-file limit of `files`.
 */
function check(config: string, files: number, start = false) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-haproxy-'));
  try {
    const file = path.join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    const run = start ? `exec timeout 2 "$0" -db -f "$1"` : `exec "$0" -c -f "$1"`;
    const r = spawnSync('sh', ['-c', `ulimit -n ${files} && ${run}`, HAPROXY, file], { encoding: 'utf8' });
    return { ok: start ? r.status === 124 : r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the default cluster configuration is valid and names no node in its answers', { skip }, () => {
  const config = haproxyConfig({ port: 18_000, servers });
  assert.match(config, /maxconn 4000/);
  assert.doesNotMatch(config, /x-mmd-node/);
  const r = check(config, 10_000);
  assert.ok(r.ok, r.output);
});

test('bench options (maxconn, node header, patient checks) give a configuration HAProxy runs under a 20,000-file limit', { skip }, async () => {
  const config = haproxyConfig({ port: await freePort(), servers, maxconn: 9000, tagNode: true, patientChecks: true });
  assert.match(config, /maxconn 9000/);
  assert.match(config, /http-response set-header x-mmd-node %s/);
  assert.match(config, /timeout check 5s/);
  const r = check(config, 20_000, true);
  assert.ok(r.ok, r.output);
});

test('HAProxy refuses to start when two descriptors per connection exceed the open-file limit', { skip }, async () => {
  // 12,000 connections need ~24,000 descriptors: more than a 20,000 limit allows. bench:cluster
  // runs several HAProxy processes at 9,000 each for that reason.
  const r = check(haproxyConfig({ port: await freePort(), servers, maxconn: 12_000 }), 20_000, true);
  assert.equal(r.ok, false);
  assert.match(r.output, /FD limit/);
});
