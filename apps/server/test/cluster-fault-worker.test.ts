/**
 * The cluster `npm run cluster` starts (HAProxy → two API nodes and a worker, PostgreSQL, Redis,
 * S3, jobs on BullMQ) survives its worker dying mid-transcode: a video is uploaded, the worker is
 * killed with SIGKILL (with its ffmpeg) while it transcodes, and once a new worker starts on an
 * empty disk the job is handed to it and finishes — once: one `media.updated` event, the item's
 * renditions stored once, nothing of the dead run left beside them. Skipped, saying why, without
 * PostgreSQL, Redis, HAProxy or the shared test video.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MmdClient, type SyncEvent } from '@mmd/sdk';
import pg from 'pg';
import { HAPROXY, startCluster } from '../../../scripts/cluster.ts';
import { REDIS_URL, clusterSkipReason } from './cluster-harness.ts';
import { POSTGRES_URL, eventually, uniqueHandle } from './harness.ts';
import { DATA } from './safety-fixtures.ts';

const VIDEO = path.join(DATA, 'video', 'city-night.mpg');
const skip = clusterSkipReason() || (existsSync(HAPROXY) ? false : `worker fault test not run: HAProxy is not installed at ${HAPROXY}`) || (existsSync(VIDEO) ? false : 'worker fault test not run: the shared test video is missing');

/** The ffmpeg processes a worker runs now (its children). */
function ffmpegChildren(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, comm]) => comm === 'ffmpeg')
    .map(([p]) => Number(p));
}

test('kill -9 of the worker mid-transcode: after a new worker starts the video finishes, once', { skip, timeout: 600_000 }, async (t) => {
  const schema = `wfault_${process.pid}_${Date.now().toString(36)}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-wfault-'));
  const cluster = await startCluster({
    databaseUrl: POSTGRES_URL!,
    schema,
    redisUrl: REDIS_URL!,
    port: 0,
    dir,
    stdio: 'ignore',
    // A short lease: BullMQ hands a dead worker's job on once its lock lapses.
    env: { MMD_ARGON2_MEMORY_KIB: '1024', MMD_ARGON2_ITERATIONS: '1', MMD_SIGNUP_RATE_LIMIT: '100000', MMD_JOB_LEASE_MS: '3000' },
  });
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  t.after(async () => {
    await cluster.stop();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  const anonymous = new MmdClient({ baseUrl: cluster.url });
  const created = await anonymous.createAccount({ handle: uniqueHandle('wfault'), password: 'correct horse battery' });
  const alice = anonymous.as(created.token);
  const updates: { id: string; status: string }[] = [];
  const stream = alice.stream({
    onEvent: (e: SyncEvent) => {
      if (e.type === 'media.updated') updates.push(e.data as { id: string; status: string });
    },
  });
  t.after(() => stream.close());
  await stream.ready;

  const worker = cluster.nodes.find((n) => n.name === 'worker')!;
  const { id } = await alice.upload(readFileSync(VIDEO), { filename: 'city.mpg' });
  // Mid-transcode: the worker has ffmpeg running for this upload (the only job in the cluster).
  const running = await eventually('the worker is transcoding', () => {
    const pids = ffmpegChildren(worker.child.pid!);
    return pids.length > 0 ? pids : null;
  }, 120_000);
  // The machine dies: the worker and its ffmpeg with it.
  worker.child.kill('SIGKILL');
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await new Promise((r) => (worker.child.exitCode !== null || worker.child.signalCode !== null ? r(null) : worker.child.once('exit', r)));
  assert.equal((await alice.media(id)).status, 'processing', 'the dead worker had not finished it');

  // A replacement worker, on an empty disk.
  cluster.restart(worker, { MMD_DATA_DIR: path.join(dir, 'worker-2') });
  const item = await alice.waitForMedia(id, { timeoutMs: 300_000 });
  assert.equal(item.status, 'ready', item.reason ?? 'not ready');
  assert.equal(item.kind, 'video');

  // Once: one media.updated in the event log, and one on the owner's stream.
  const events = await admin.query(`select payload from ${schema}.events where type = 'media.updated'`);
  const forItem = events.rows.filter((r: { payload: string }) => (JSON.parse(r.payload) as { id: string }).id === id);
  assert.equal(forItem.length, 1, 'one media.updated event for the item');
  await eventually('the owner heard it finish', () => updates.some((u) => u.id === id && u.status === 'ready'), 30_000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(updates.filter((u) => u.id === id).length, 1, 'the owner heard it once');

  // Renditions stored once: every object under the item's folder is one its row names (or a
  // segment its HLS playlist lists) — nothing the dead run wrote under another name.
  const { rows } = await admin.query(`select renditions from ${schema}.media where id = $1`, [id]);
  const renditions = JSON.parse(rows[0].renditions as string) as Record<string, { key: string }>;
  const keys = new Set(Object.values(renditions).map((r) => r.key));
  const bucket = path.join(dir, 's3', 'mmd');
  // s3rver keeps each object as a file named `<key>._S3rver_object`.
  const stored = readdirSync(bucket, { recursive: true })
    .map(String)
    .filter((f) => f.startsWith(`media/${id}/`) && f.endsWith('._S3rver_object'))
    .map((f) => f.slice(0, -'._S3rver_object'.length));
  assert.ok(stored.length >= keys.size - 1, `the renditions are in the bucket (${stored.length})`);
  const strays = stored.filter((f) => !keys.has(f) && !f.startsWith(`media/${id}/hls/`));
  assert.deepEqual(strays, [], 'no rendition left from the killed run');
  t.diagnostic(`killed the worker during ffmpeg (${running.length} process(es)); the replacement finished ${id} with ${keys.size} renditions, one event`);
});
