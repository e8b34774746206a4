/**
 * `npm run cluster`: MMD as a cluster on one machine — HAProxy (Debian's package) in front of two
 * API nodes and one worker, on the local PostgreSQL and Redis, with blobs in an S3-compatible
 * store (s3rver, in this process) and jobs on BullMQ (MMD_QUEUE=bullmq). Prints the URL; Ctrl-C
 * stops everything.
 *
 *   MMD_DATABASE_URL      default postgres://postgres@127.0.0.1:5432/test
 *   MMD_DATABASE_SCHEMA   default mmd_cluster (kept between runs; drop it to start afresh)
 *   MMD_REDIS_URL         default redis://127.0.0.1:6379
 *   MMD_QUEUE             default bullmq (database keeps jobs in PostgreSQL)
 *   CLUSTER_PORT          HAProxy's port, default 8080
 *
 * docs/operations.md describes the same topology across several machines.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

const root = path.resolve(import.meta.dirname, '..');
const main = path.join(root, 'apps/server/src/main.ts');
export const HAPROXY = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';

export interface ClusterOptions {
  databaseUrl: string;
  schema: string;
  redisUrl: string;
  /** HAProxy's port (0: any free one). */
  port: number;
  /** Where node data dirs, the HAProxy config and the S3 store's files go. */
  dir: string;
  /** Extra environment for every node (tests: cheap password hashing). */
  env?: Record<string, string>;
  /** Where the nodes' and HAProxy's output (stdout and stderr) goes ('stderr': both to ours). */
  stdio?: Stdio;
  /** How many API nodes (default 2). */
  apiNodes?: number;
  /** Arguments for node itself in every MMD process (benchmarks: `--cpu-prof`). */
  nodeArgs?: readonly string[];
}

/** 'stderr' sends a child's stdout and stderr to our stderr (benchmarks keep stdout for JSON). */
export type Stdio = 'inherit' | 'ignore' | 'stderr';
const childStdio = (stdio: Stdio) => (stdio === 'stderr' ? 2 : stdio);

export interface ClusterNodeProcess {
  name: string;
  port: number | null;
  env: Record<string, string>;
  child: ChildProcess;
}

export interface RunningCluster {
  url: string;
  nodes: ClusterNodeProcess[];
  /**
   * Starts a node again (after a test killed it) as a fresh process with the same settings;
   * `env` overrides some (a new MMD_DATA_DIR: a replacement machine with an empty disk).
   */
  restart(node: ClusterNodeProcess, env?: Record<string, string>): ChildProcess;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * HAProxy's configuration: HTTP and WebSocket (an upgraded connection becomes a tunnel, kept for
 * an hour of silence; the stream pings well within that), health checks on /readyz every second
 * (two failures take a node out, one success puts it back), and a request that finds its node
 * dead goes to the other (`redispatch`). X-Forwarded-For is set; the nodes trust it from
 * HAProxy's address only (MMD_TRUST_PROXY).
 */
export function haproxyConfig(options: {
  port: number;
  servers: { name: string; port: number }[];
  /**
   * Connections this HAProxy process accepts (default 4000). It needs about two descriptors per
   * connection (client and server side) plus a few: keep 2 × maxconn + 100 under the process's
   * open-file limit (`ulimit -n`), or run several HAProxy processes (bench/cluster.ts does).
   */
  maxconn?: number;
  /** Adds `x-mmd-node: <server name>` to every response (benchmarks: which node took a socket or a send). */
  tagNode?: boolean;
  /**
   * Health checks every 2 s with 5 s to answer, 5 failures to take a node out, instead of every
   * second with 1 s and 2 failures: on an overloaded machine (benchmarks opening thousands of
   * sockets on 2 shared cores) a busy node answers /readyz late and would be taken out, failing
   * the connections it would have taken with 503.
   */
  patientChecks?: boolean;
}): string {
  return [
    'global',
    `  maxconn ${options.maxconn ?? 4000}`,
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  timeout tunnel 1h',
    '  timeout http-keep-alive 5s',
    '  option redispatch',
    '  retries 2',
    'frontend mmd',
    `  bind 127.0.0.1:${options.port}`,
    '  option forwardfor',
    ...(options.tagNode ? ['  http-response set-header x-mmd-node %s'] : []),
    '  default_backend api',
    'backend api',
    '  balance leastconn',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    ...(options.patientChecks ? ['  timeout check 5s', '  default-server inter 2s fall 5 rise 1'] : ['  default-server inter 1s fall 2 rise 1']),
    ...options.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
    '',
  ].join('\n');
}

/**
 * An MMD process (`main.ts serve`) with exactly this environment (plus PATH, HOME and warn-level JSON
 * logs); `nodeArgs` go to node itself (e.g. `--cpu-prof`, which NODE_OPTIONS does not accept).
 */
export function spawnNode(env: Record<string, string>, stdio: Stdio, nodeArgs: readonly string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', main, 'serve'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MMD_LOG_LEVEL: 'warn', MMD_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', childStdio(stdio), childStdio(stdio)],
  });
}

export async function waitFor(what: string, probe: () => Promise<boolean>, ms = 180_000) {
  const deadline = Date.now() + ms;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const answers = (url: string) => async () => (await fetch(url)).ok;

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  if (!existsSync(HAPROXY)) throw new Error(`HAProxy is not installed at ${HAPROXY} (apt-get install haproxy)`);
  const stdio = options.stdio ?? 'inherit';
  mkdirSync(options.dir, { recursive: true });
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(options.dir, 's3'), configureBuckets: [{ name: 'mmd' }] });
  const { port: s3Port } = await s3.run();
  const common: Record<string, string> = {
    MMD_DATABASE_URL: options.databaseUrl,
    MMD_DATABASE_SCHEMA: options.schema,
    MMD_REDIS_URL: options.redisUrl,
    // Jobs on BullMQ: workers take them from Redis; every enqueue is first written to PostgreSQL.
    MMD_QUEUE: 'bullmq',
    MMD_BLOB_STORE: 's3',
    MMD_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    MMD_S3_BUCKET: 'mmd',
    MMD_S3_ACCESS_KEY_ID: 'S3RVER',
    MMD_S3_SECRET_ACCESS_KEY: 'S3RVER',
    MMD_HOST: '127.0.0.1',
    MMD_TRUST_PROXY: '127.0.0.1',
    ...options.env,
  };
  // Migrations run once, before any node starts (as an upgrade does: docs/operations.md).
  const migrated = spawnSync(process.execPath, ['--import', 'tsx', main, 'migrate'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...common }, stdio: ['ignore', childStdio(stdio), 'inherit'] });
  if (migrated.status !== 0) {
    await s3.close();
    throw new Error('migrations failed');
  }
  const nodes: ClusterNodeProcess[] = [];
  for (let k = 1; k <= (options.apiNodes ?? 2); k++) {
    const name = `api${k}`;
    const port = await freePort();
    nodes.push({ name, port, env: { ...common, MMD_ROLES: 'api', MMD_PORT: String(port), MMD_DATA_DIR: path.join(options.dir, name) }, child: null as unknown as ChildProcess });
  }
  nodes.push({ name: 'worker', port: null, env: { ...common, MMD_ROLES: 'worker', MMD_DATA_DIR: path.join(options.dir, 'worker') }, child: null as unknown as ChildProcess });
  for (const node of nodes) node.child = spawnNode(node.env, stdio, options.nodeArgs);
  const port = options.port || (await freePort());
  const config = path.join(options.dir, 'haproxy.cfg');
  writeFileSync(config, haproxyConfig({ port, servers: nodes.filter((n) => n.port !== null).map((n) => ({ name: n.name, port: n.port! })) }));
  // -db: stay in the foreground, so it stops with us.
  const haproxy = spawn(HAPROXY, ['-f', config, '-db'], { stdio: ['ignore', childStdio(stdio), childStdio(stdio)] });
  const url = `http://127.0.0.1:${port}`;
  // Read at stop time: a restarted node's process is the one to stop.
  const all = () => [...nodes.map((n) => n.child), haproxy];
  const stop = async () => {
    await Promise.all(
      all().map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    await s3.close();
  };
  try {
    for (const node of nodes) if (node.port !== null) await waitFor(`${node.name} ready`, answers(`http://127.0.0.1:${node.port}/readyz`));
    await waitFor('HAProxy', answers(`${url}/readyz`));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    nodes,
    restart(node, env = {}) {
      Object.assign(node.env, env);
      node.child = spawnNode(node.env, stdio, options.nodeArgs);
      return node.child;
    },
    stop,
  };
}

const isEntry = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isEntry) {
  const cluster = await startCluster({
    databaseUrl: process.env.MMD_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    schema: process.env.MMD_DATABASE_SCHEMA ?? 'mmd_cluster',
    redisUrl: process.env.MMD_REDIS_URL ?? 'redis://127.0.0.1:6379',
    port: Number(process.env.CLUSTER_PORT ?? 8080),
    dir: path.join(tmpdir(), `mmd-cluster-${process.pid}`),
    env: process.env.MMD_QUEUE ? { MMD_QUEUE: process.env.MMD_QUEUE } : undefined,
  });
  const pids = cluster.nodes.map((n) => `${n.name} pid ${n.child.pid}${n.port ? ` :${n.port}` : ''}`).join(', ');
  console.log(`MMD cluster: ${cluster.url}  (HAProxy → ${pids}; Ctrl-C stops it)`);
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log('stopping the cluster…');
      void cluster.stop().then(() => process.exit(0));
    });
  }
}
