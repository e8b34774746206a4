/**
 * `mmd hash` and `mmd compare`: MMD's perceptual and exact hashes of local files, offline (no
 * server, no sign-in), so moderators and scripts can check a file against known ones. Images are
 * PDQ-hashed and videos vPDQ-hashed at full resolution from their stored pixels, as Meta's
 * reference tools do, so the hashes can be exchanged with other platforms. Output is JSON lines.
 * @mmd/media and @mmd/phash (sharp, ffmpeg) are loaded only when these commands run.
 */
import { open, stat } from 'node:fs/promises';
import type { HashImage } from '@mmd/media';
import type { DihedralTransform, Hash256, PdqIntermediate, RobustHashes, VpdqFeature } from '@mmd/phash';
import type { Command } from 'commander';
import { integerIn } from '../args.ts';
import { CliError } from '../errors.ts';
import { printJson } from '../output.ts';

/** PDQ's match threshold and minimum usable quality (Meta's defaults, used across MMD). */
const MAX_DISTANCE = 31;
const MIN_QUALITY = 50;

/** vPDQ's reference hashes one frame per second; more frames catch shorter or offset clips. */
const FPS_OPTION = ['--fps <n>', 'video frames hashed per second (1-60)'] as const;

const libraries = async () => ({ media: await import('@mmd/media'), phash: await import('@mmd/phash') });

export function registerHashCommands(program: Command): void {
  program
    .command('hash')
    .description('print the PDQ (image) or vPDQ (video) hash, SHA-256 and MD5 of a file as JSON (offline)')
    .argument('<file>', 'an image or video; the type is read from its content, not its name')
    .option(...FPS_OPTION, integerIn(1, 60), 1)
    .action(async (file: string, opts: { fps: number }) => {
      const { phash } = await libraries();
      const subject = await hashFile(file, 'hash', opts.fps);
      const hex = phash.hash256ToHex;
      const perceptual =
        subject.kind === 'image'
          ? { pdq: hex(subject.hash), quality: subject.quality }
          : {
              vpdq: subject.frames.map((f) => ({
                frame: f.frameNumber,
                seconds: f.timestampSeconds,
                pdq: hex(f.hash),
                quality: f.quality,
              })),
            };
      printJson({ ...perceptual, ...(await (await libraries()).media.fileDigests(file)) });
    });

  program
    .command('compare')
    .description(
      'does QUERY show what each FILE shows? One JSON line per FILE: PDQ (≤31 bits, quality ≥50), ' +
        'rotations/mirrors, crop-robust hashes; vPDQ for videos (≥80% of FILE matched) (offline)',
    )
    .argument('<query>', 'the file to check (e.g. an upload)')
    .argument('<files...>', 'known images or videos to check it against')
    .option(...FPS_OPTION, integerIn(1, 60), 1)
    .action(async (query: string, files: string[], opts: { fps: number }) => {
      const q = await hashFile(query, 'query', opts.fps);
      let failed = false;
      for (const file of files) {
        try {
          printJson({ file, ...(await compare(q, await hashFile(file, 'reference', opts.fps))) });
        } catch (err) {
          // One unreadable FILE should not hide the answers for the others.
          const e = asCliError(err);
          if (!(e instanceof CliError)) throw e;
          process.stderr.write(`error: ${e.message} (${e.code})\n`);
          printJson({ file, match: false, rule: null, error: e.code });
          failed = true;
        }
      }
      if (failed) process.exitCode = 1;
    });
}

/** What comparing needs of one file; pixels are dropped once these are computed. */
type Subject =
  | {
      kind: 'image';
      hash: Hash256;
      quality: number;
      /** All 8 rotations/mirrors (query side only). */
      dihedral?: Record<DihedralTransform, Hash256>;
      /** Crop/layout-robust hashes (for compare only). */
      robust?: RobustHashes;
    }
  | { kind: 'video'; frames: VpdqFeature[] };

/**
 * Hashes a file for `mmd hash`, or for compare as the query (the file being checked) or a
 * reference (a known file). The robust scheme is asymmetric, as scripts/robust-eval.ts uses it:
 * references keep more anchor regions, queries add the dihedral variants and undo small tilts.
 */
async function hashFile(file: string, role: 'hash' | 'query' | 'reference', fps: number): Promise<Subject> {
  const { media, phash } = await libraries();
  try {
    await checkReadable(file);
    if ((await sniffKind(file)) === 'video') {
      const frames: VpdqFeature[] = [];
      // Hash each frame as ffmpeg produces it: only one frame's pixels are in memory at a time.
      for await (const frame of media.decodeVideoFramesForHashing(file, { fps })) {
        frames.push(
          phash.vpdqHashFrame({ image: frame, timestampSeconds: frame.seconds }, frame.frameNumber),
        );
      }
      return { kind: 'video', frames };
    }
    const image: HashImage = await media.decodeImageForHashing(file);
    const pdq: PdqIntermediate = phash.pdqIntermediate(image);
    const { hashes } = phash.pdqDihedralFromIntermediate(pdq);
    return {
      kind: 'image',
      hash: hashes.original,
      quality: pdq.quality,
      ...(role === 'query' && { dihedral: hashes, robust: phash.robustQueryHashes(image, pdq) }),
      ...(role === 'reference' && { robust: phash.robustReferenceHashes(image, pdq) }),
    };
  } catch (err) {
    throw asCliError(err, file);
  }
}

async function checkReadable(file: string): Promise<void> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(
      `cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
      'not_found',
    );
  });
  if (!info.isFile()) throw new CliError(`${file} is not a regular file`, 'unsupported_type');
}

/** Images and videos are told apart by content; audio and documents have no perceptual hash here. */
async function sniffKind(file: string): Promise<'image' | 'video' | undefined> {
  const { media } = await libraries();
  const handle = await open(file, 'r');
  let head: Uint8Array;
  try {
    const buffer = Buffer.alloc(media.SNIFF_BYTES);
    head = buffer.subarray(0, (await handle.read(buffer, 0, buffer.length, 0)).bytesRead);
  } finally {
    await handle.close();
  }
  const sniffed = media.sniffBytes(head);
  if (sniffed?.kind === 'audio' || sniffed?.kind === 'document') {
    throw new CliError(`${file}: ${sniffed.mime} is neither an image nor a video`, 'unsupported_type');
  }
  // Unknown or empty content goes down the image path, whose checks name the problem.
  return sniffed?.kind;
}


/**
 * MMD's matching scheme, first rule that matches wins: plain PDQ, then QUERY rotated/mirrored
 * (both need quality ≥ 50 on both sides), then the crop/layout-robust hashes. A video on either
 * side is compared frame by frame with vPDQ's reference rule (an image counts as a one-frame video).
 */
async function compare(q: Subject, f: Subject): Promise<Record<string, unknown>> {
  const { phash } = await libraries();
  if (q.kind === 'image' && f.kind === 'image') {
    const pdqDistance = phash.hammingDistance(q.hash, f.hash);
    const usable = q.quality >= MIN_QUALITY && f.quality >= MIN_QUALITY;
    let dihedral: { distance: number; transform: DihedralTransform } = {
      distance: 256,
      transform: 'original',
    };
    for (const transform of phash.DIHEDRAL_TRANSFORMS) {
      if (transform === 'original' || !q.dihedral) continue;
      const distance = phash.hammingDistance(q.dihedral[transform], f.hash);
      if (distance < dihedral.distance) dihedral = { distance, transform };
    }
    const robust = phash.matchRobust(q.robust!, f.robust!);
    const rule =
      usable && pdqDistance <= MAX_DISTANCE
        ? 'pdq'
        : usable && dihedral.distance <= MAX_DISTANCE
          ? 'dihedral'
          : robust.matched
            ? 'robust'
            : null;
    return {
      match: rule !== null,
      rule,
      pdq_distance: pdqDistance,
      query_quality: q.quality,
      file_quality: f.quality,
      // The rotation/mirror of QUERY that comes closest to FILE.
      dihedral_distance: dihedral.distance,
      dihedral_transform: dihedral.transform,
      robust_via: robust.via,
      robust_score: robust.score,
    };
  }
  const result = phash.matchVpdq(features(q), features(f));
  // The reference rule: at least 80% of FILE's (the known video's) frames found in QUERY.
  const match = phash.isVpdqMatch(result);
  return {
    match,
    rule: match ? 'vpdq' : null,
    pdq_distance: null,
    query_match_pct: round2(result.queryMatchPercent),
    target_match_pct: round2(result.targetMatchPercent),
    query_frames: features(q).length,
    target_frames: features(f).length,
  };
}

function features(s: Subject): VpdqFeature[] {
  if (s.kind === 'video') return s.frames;
  return [{ frameNumber: 0, quality: s.quality, hash: s.hash, timestampSeconds: 0 }];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Media failures are expected (bad or unsupported files): one line with their stable code. */
function asCliError(err: unknown, file?: string): unknown {
  if (err instanceof CliError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && err.name === 'MediaError' && typeof code === 'string') {
    return new CliError(file ? `${file}: ${err.message}` : err.message, code);
  }
  return err;
}
