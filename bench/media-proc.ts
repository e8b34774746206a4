/**
 * /proc readers, CPU meters and a child-process tracker for bench/media.ts (Linux only).
 *
 * CPU: `process.cpuUsage()` covers the bench process and its threads (sharp/libvips run in-process);
 * children (ffmpeg, ffprobe, vips) are counted from the cutime + cstime fields of /proc/self/stat,
 * which the kernel adds to when a child is reaped (Node reaps every child it spawns).
 * Peak RSS of children: every child spawned through node:child_process is tracked and its VmHWM
 * sampled every 20 ms until it exits (a child cannot be read after it is reaped).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';

const require = createRequire(import.meta.url);
const childProcess = require('node:child_process') as typeof import('node:child_process');

/** Clock ticks per second for /proc times (`getconf CLK_TCK`, 100 on every common kernel). */
export const CLK_TCK = (() => {
  try {
    const out = childProcess.spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout;
    const n = Number(out.trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** utime, stime, cutime, cstime of a process in seconds. */
export function procTimes(pid: number | 'self' = 'self') {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = (i: number) => Number(f[i]) / CLK_TCK;
  // Field numbers from proc(5): 14 utime, 15 stime, 16 cutime, 17 cstime; f[0] is field 3.
  return { utime: tick(11), stime: tick(12), cutime: tick(13), cstime: tick(14) };
}

/** A field of /proc/PID/status in KiB (VmRSS, VmHWM); NaN when the process is gone. */
export function statusKib(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Resets this process's VmHWM to its current RSS (writes 5 to /proc/self/clear_refs). */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Machine-wide busy, steal and total CPU seconds from /proc/stat. */
function machineTimes() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return {
    busy: (user + nice + system + irq + softirq) / CLK_TCK,
    steal: steal / CLK_TCK,
    total: (user + nice + system + idle + iowait + irq + softirq + steal) / CLK_TCK,
  };
}

/** A snapshot for {@link cpuSince}. */
export interface CpuMark {
  wall: number;
  self: number;
  children: number;
  machine: ReturnType<typeof machineTimes>;
}

/** Takes a snapshot of wall time, own CPU, reaped children's CPU and machine-wide CPU. */
export function cpuMark(): CpuMark {
  const u = process.cpuUsage();
  const t = procTimes();
  return {
    wall: performance.now() / 1000,
    self: (u.user + u.system) / 1e6,
    children: t.cutime + t.cstime,
    machine: machineTimes(),
  };
}

/** Wall and CPU seconds since `mark`, plus how many cores other processes kept busy meanwhile. */
export function cpuSince(mark: CpuMark) {
  const now = cpuMark();
  const wallS = now.wall - mark.wall;
  const selfCpuS = now.self - mark.self;
  const childCpuS = now.children - mark.children;
  const busy = now.machine.busy - mark.machine.busy;
  const steal = now.machine.steal - mark.machine.steal;
  // /proc/stat ticks and cpuUsage() microseconds are sampled differently; clamp the tiny negatives.
  const otherCores = wallS > 0 ? Math.max(0, (busy - selfCpuS - childCpuS) / wallS) : 0;
  return { wallS, selfCpuS, childCpuS, cpuS: selfCpuS + childCpuS, otherCores, stealCores: steal / wallS };
}

/** One finished (or still running) child with its sampled peak RSS. */
export interface TrackedChild {
  pid: number;
  command: string;
  /** Arguments it was started with. */
  args: string[];
  section: string;
  peakKib: number;
}

const live = new Map<number, TrackedChild>();
const finished: TrackedChild[] = [];
let section = 'setup';
let timer: NodeJS.Timeout | undefined;

function sample(): void {
  for (const child of live.values()) {
    const hwm = statusKib(child.pid, 'VmHWM');
    if (Number.isFinite(hwm) && hwm > child.peakKib) child.peakKib = hwm;
  }
}

/** Names the bench section that children spawned from now on belong to. */
export function setSection(name: string): void {
  section = name;
}

/**
 * Wraps child_process.spawn (and, through `syncBuiltinESMExports`, the live ESM binding that
 * @mmd/media's run-process.ts imports) so every child's peak RSS is sampled. Measurement only:
 * arguments and behaviour are unchanged.
 */
export function installChildTracker(): void {
  const original = childProcess.spawn;
  const wrapped = function (this: unknown, ...args: unknown[]): ChildProcess {
    const child = (original as (...a: unknown[]) => ChildProcess).apply(this, args);
    const pid = child.pid;
    if (pid !== undefined) {
      const argList = Array.isArray(args[1]) ? (args[1] as unknown[]).map(String) : [];
      const entry: TrackedChild = {
        pid,
        command: basename(String(args[0])),
        args: argList,
        section,
        peakKib: 0,
      };
      live.set(pid, entry);
      child.once('exit', () => {
        live.delete(pid);
        finished.push(entry);
      });
    }
    return child;
  };
  childProcess.spawn = wrapped as typeof childProcess.spawn;
  syncBuiltinESMExports();
  timer = setInterval(sample, 20);
  timer.unref();
}

/** Pauses or resumes sampling (paused while only in-process work runs, so it costs nothing there). */
export function sampling(on: boolean): void {
  if (!on && timer) {
    clearInterval(timer);
    timer = undefined;
  } else if (on && !timer) {
    timer = setInterval(sample, 20);
    timer.unref();
  }
}

/** Children seen so far (finished first, then live). */
export function trackedChildren(): TrackedChild[] {
  return [...finished, ...live.values()];
}

/** Kills every child still running (used by the overall deadline). */
export function killLiveChildren(): void {
  for (const child of live.values()) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The patched spawn, for the bench's own children. */
export function spawnTracked(...args: Parameters<typeof childProcess.spawn>): ChildProcess {
  return childProcess.spawn(...args);
}

/**
 * Runs a command to completion (no shell), rejecting with the stderr tail on failure or timeout.
 * @param command executable
 * @param args arguments
 * @param options working directory and time limit
 */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(`${basename(command)} exited with ${signal ?? code}: ${stderr.trim().slice(-1500)}`),
        );
    });
  });
}
