import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { ensureExecutable, isExecutable } from './ensure-executable.ts';
import { MediaError } from './errors.ts';

/** Where a binary was found, for diagnostics (`/health` pages, worker logs). */
export type BinarySource = 'env' | 'path' | 'npm';

/** Resolved ffmpeg and ffprobe executables. */
export interface MediaBinaries {
  /** Absolute path of ffmpeg. */
  ffmpeg: string;
  /** Absolute path of ffprobe. */
  ffprobe: string;
  /** How each one was found. */
  sources: { ffmpeg: BinarySource; ffprobe: BinarySource };
}

/** Options for {@link locateBinaries}. */
export interface LocateBinariesOptions {
  /** Environment to read `MMD_FFMPEG_PATH`, `MMD_FFPROBE_PATH` and `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Folder for executable copies of npm binaries that lack their execute bit. */
  fallbackDir?: string;
}

type Tool = 'ffmpeg' | 'ffprobe';

const ENV_NAMES: Record<Tool, string> = { ffmpeg: 'MMD_FFMPEG_PATH', ffprobe: 'MMD_FFPROBE_PATH' };
const NPM_PACKAGES: Record<Tool, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

let cached: Promise<MediaBinaries> | undefined;

/**
 * Finds ffmpeg and ffprobe: explicit env override first, then a system install on PATH (distribution
 * builds are usually newer and patched), then the static npm binaries. The default lookup is cached;
 * passing options always resolves afresh.
 * @param options environment and fallback folder
 */
export function locateBinaries(options?: LocateBinariesOptions): Promise<MediaBinaries> {
  if (options) return resolveBoth(options);
  cached ??= resolveBoth({}).catch((error: unknown) => {
    cached = undefined; // let a later call retry, e.g. after the operator fixes the install
    throw error;
  });
  return cached;
}

async function resolveBoth(options: LocateBinariesOptions): Promise<MediaBinaries> {
  const [ffmpeg, ffprobe] = await Promise.all([
    resolveTool('ffmpeg', options),
    resolveTool('ffprobe', options),
  ]);
  return {
    ffmpeg: ffmpeg.path,
    ffprobe: ffprobe.path,
    sources: { ffmpeg: ffmpeg.source, ffprobe: ffprobe.source },
  };
}

async function resolveTool(
  tool: Tool,
  options: LocateBinariesOptions,
): Promise<{ path: string; source: BinarySource }> {
  const env = options.env ?? process.env;
  const override = env[ENV_NAMES[tool]];
  if (override) {
    // An explicit override that does not work is a configuration error: do not silently use another binary.
    if (!(await isExecutable(override))) {
      throw new MediaError('binary_missing', `${ENV_NAMES[tool]}=${override} is not an executable file`);
    }
    return { path: override, source: 'env' };
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    if (await isExecutable(candidate)) return { path: candidate, source: 'path' };
  }
  const npmPath = npmBinaryPath(tool);
  if (!npmPath) {
    throw new MediaError(
      'binary_missing',
      `${tool} not found: set ${ENV_NAMES[tool]}, install it, or add ${NPM_PACKAGES[tool]}`,
    );
  }
  try {
    const path = await ensureExecutable(npmPath, { fallbackDir: options.fallbackDir });
    return { path, source: 'npm' };
  } catch (error) {
    throw new MediaError('binary_missing', `${npmPath} cannot be made executable`, { cause: error });
  }
}

function npmBinaryPath(tool: Tool): string | undefined {
  try {
    // The installer packages are CommonJS and throw on unsupported platforms, hence require + try.
    const required = createRequire(import.meta.url)(NPM_PACKAGES[tool]) as { path?: unknown };
    return typeof required.path === 'string' ? required.path : undefined;
  } catch {
    return undefined;
  }
}
