/**
 * Long videos for the long-video evaluation (video-long-eval.ts), built with the system ffmpeg
 * into the video benchmark's cache (deterministic; rebuilt only when missing). Node only.
 *
 * Per split (the clip benchmark's split: development photos and footage for choosing, test ones
 * for measuring afterwards), all 640×360 at 25 fps, H.264:
 * - `montage`: 15 minutes, four photos each panned slowly for 225 s (slow, nearly static
 *   footage: consecutive sampled frames look alike);
 * - `still`: 3 minutes of one photo standing still with a running clock in a corner (a lecture, a
 *   livestream's waiting screen: truly static footage);
 * - `host`: a 5-minute upload of two other photos' slow pans with two short clips inside it: the
 *   split's real footage (city-night or doorknob) at 1:30 and a 6-second pan-and-zoom clip at
 *   3:30, the clips being the banned references.
 * Queries are edits of these (whole or excerpts), built here too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR } from '../test/data.ts';
import type { VideoSplit } from './video-edits.ts';
import { FFMPEG, unit, VIDEO_CACHE } from './video-edits.ts';

const DIR = join(VIDEO_CACHE, 'long');
const W = 640;
const H = 360;
const FPS = 25;

/**
 * Encoding of every long video: x264's fastest preset (minutes of footage on a shared machine;
 * blockier than the clip benchmark's veryfast), the same settings so concat can copy streams.
 */
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p', '-an', '-threads', '1'];

function ffmpeg(args: string[], out: string): string {
  if (existsSync(out)) return out;
  mkdirSync(DIR, { recursive: true });
  const tmp = `${out}.part.mp4`;
  execFileSync(FFMPEG, ['-v', 'error', '-y', ...args, tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(tmp, out);
  return out;
}

/**
 * A photo panned slowly for `seconds`: a 640×360 window moving across the photo scaled to 800 px
 * wide (direction picked from its name). A moving crop, not zoompan: minutes of footage must stay
 * cheap to build.
 */
function slowPan(photo: string, seconds: number): string {
  const name = photo.replace(/^.*\//, '').replace(/\.[a-z]+$/, '');
  const small = smallPhoto(photo, 800, 450);
  const kind = Math.floor(unit(`${name}:long-motion`) * 4);
  const x = kind === 0 ? `(iw-ow)*t/${seconds}` : kind === 1 ? `(iw-ow)*(1-t/${seconds})` : '(iw-ow)/2';
  const y = kind === 2 ? `(ih-oh)*t/${seconds}` : kind === 3 ? `(ih-oh)*(1-t/${seconds})` : '(ih-oh)/2';
  return ffmpeg(
    [
      '-f',
      'lavfi',
      '-i',
      looped(small),
      '-vf',
      `crop=${W}:${H}:x='${x}':y='${y}',format=yuv420p`,
      '-t',
      String(seconds),
      ...X264,
    ],
    join(DIR, `pan-${name}-${seconds}.mp4`),
  );
}

/**
 * The photo scaled and cropped to width × height once, as PNG: a looped image input is decoded
 * again for every frame, so looping the full-size photo would cost a big JPEG decode per frame.
 */
function smallPhoto(photo: string, width: number, height: number): string {
  const name = photo.replace(/^.*\//, '').replace(/\.[a-z]+$/, '');
  const out = join(DIR, `photo-${name}-${width}x${height}.png`);
  if (existsSync(out)) return out;
  mkdirSync(DIR, { recursive: true });
  execFileSync(FFMPEG, ['-v', 'error', '-y', '-i', join(DATA_DIR, photo), '-vf', `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`, '-frames:v', '1', `${out}.part.png`]);
  renameSync(`${out}.part.png`, out);
  return out;
}

/** A lavfi source repeating one decoded image at FPS (the loop filter keeps it in memory). */
function looped(png: string): string {
  return `movie=${png},loop=loop=-1:size=1:start=0,setpts=N/${FPS}/TB`;
}

/** A photo standing still for `seconds`, with a small running clock (hh:mm:ss) in a corner. */
function still(photo: string, seconds: number): string {
  const name = photo.replace(/^.*\//, '').replace(/\.[a-z]+$/, '');
  return ffmpeg(
    [
      '-f',
      'lavfi',
      '-i',
      looped(smallPhoto(photo, W, H)),
      '-vf',
      `drawtext=text='%{pts\\:hms}':fontcolor=white:fontsize=14:box=1:boxcolor=black@0.5:x=w-tw-8:y=h-th-8,format=yuv420p`,
      '-t',
      String(seconds),
      ...X264,
    ],
    join(DIR, `still-${name}-${seconds}.mp4`),
  );
}

/** A short video at the long videos' size and rate (padded to 16:9), so it can be spliced in. */
function fitted(file: string, name: string): string {
  return ffmpeg(
    [
      '-i',
      file,
      '-vf',
      `scale=${W}:${H}:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2:black,setsar=1,fps=${FPS},format=yuv420p`,
      ...X264,
    ],
    join(DIR, `fit-${name}.mp4`),
  );
}

function concat(parts: string[], out: string): string {
  if (existsSync(out)) return out;
  mkdirSync(DIR, { recursive: true });
  const list = `${out}.txt`;
  writeFileSync(list, `${parts.map((p) => `file '${p}'`).join('\n')}\n`);
  execFileSync(FFMPEG, ['-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', `${out}.part.mp4`]);
  renameSync(`${out}.part.mp4`, out);
  return out;
}

const PHOTOS: Record<VideoSplit, { montage: string[]; still: string; host: string[]; clip: string; footage: string }> = {
  development: {
    montage: ['photos/Aqua.jpg', 'photos/Dune.jpg', 'photos/Elephants.jpg', 'photos/Garden.jpg'],
    still: 'photos-more/astronaut.png',
    host: ['photos/Storm.jpg', 'photos-more/camera.png'],
    clip: 'photos-more/coffee.png',
    footage: 'video/city-night.mpg',
  },
  test: {
    montage: ['photos/Blinds.jpg', 'photos/FreshFlower.jpg', 'photos/GreenMeadow.jpg', 'photos/TwoWings.jpg'],
    still: 'photos-more/chelsea.png',
    host: ['photos/YellowFlower.jpg', 'photos-more/motorcycle_left.png'],
    clip: 'photos-more/rocket.jpg',
    footage: 'vpdq/videos/doorknob-hd-no-bar.mp4',
  },
};

/** A long or short video of the evaluation. */
export interface LongVideo {
  readonly name: string;
  readonly file: string;
  /** What it shows: a query matches a reference when they share one of these. */
  readonly contents: readonly string[];
}

/** The references (what a bank or a stored upload holds) of one split. */
export function longReferences(split: VideoSplit): LongVideo[] {
  const p = PHOTOS[split];
  const montage = concat(
    p.montage.map((ph) => slowPan(ph, 225)),
    join(DIR, `${split}-montage-15m.mp4`),
  );
  const stillFile = still(p.still, 180);
  const footage = fitted(join(DATA_DIR, p.footage), `${split}-footage`);
  // A 6-second pan-and-zoom clip, as the clip benchmark's (but at this size): the short banned clip.
  const clipName = p.clip.replace(/^.*\//, '').replace(/\.[a-z]+$/, '');
  const clip = ffmpeg(
    [
      '-i',
      join(DATA_DIR, p.clip),
      '-vf',
      `scale=1280:720:force_original_aspect_ratio=increase,crop=1280:720,format=yuv420p,zoompan=z='1+0.25*on/150':x='(iw-iw/zoom)/2':y='(ih-ih/zoom)/2':d=150:s=${W}x${H}:fps=${FPS}`,
      '-frames:v',
      '150',
      ...X264,
    ],
    join(DIR, `clip-${clipName}.mp4`),
  );
  return [
    { name: 'montage-15m', file: montage, contents: ['montage'] },
    { name: 'still-3m', file: stillFile, contents: ['still'] },
    { name: 'footage-clip', file: footage, contents: ['footage'] },
    { name: 'pz-clip', file: clip, contents: ['clip'] },
  ];
}

/** One query of the evaluation, and what it shows. */
export interface LongQuery extends LongVideo {
  /** The edit, for the report. */
  readonly edit: string;
  /**
   * An edit applied while decoding `file` (ffmpeg filter, and the frame size it leaves): the
   * whole-length edits, which would otherwise cost a 15-minute encode each on a shared machine.
   * The copy then lacks a second generation of compression (the excerpts and the host upload
   * are encoded again).
   */
  readonly filter?: { readonly vf: string; readonly width: number; readonly height: number };
}

/** ffmpeg video filters of the edits applied to whole long videos. */
const WHOLE_EDITS: Record<string, { vf: string; width: number; height: number }> = {
  mirror: { vf: 'hflip', width: W, height: H },
  // Off-centre, kept at the cropped size (as the clip benchmark's crops).
  crop20: { vf: 'crop=512:288:96:20', width: 512, height: 288 },
  caption: { width: W, height: H, vf: `drawbox=x=0:y=ih*5/6:w=iw:h=ih/6:color=black@0.8:t=fill,drawtext=text='this is what they do not show you':fontcolor=white:fontsize=24:x=(w-tw)/2:y=h*11/12-th/2` },
};

/**
 * The queries of one split: whole copies of the long references under edits, excerpts of them
 * (30 s from the middle, mirrored too; the first minute), and the host upload with the two
 * short clips inside.
 */
export function longQueries(split: VideoSplit): LongQuery[] {
  const refs = longReferences(split);
  const montage = refs.find((r) => r.name === 'montage-15m')!;
  const stillRef = refs.find((r) => r.name === 'still-3m')!;
  const p = PHOTOS[split];
  const out: LongQuery[] = [];
  const edit = (ref: LongVideo, name: string, args: string[]) => {
    const file = ffmpeg(args, join(DIR, `${split}-${ref.name}--${name}.mp4`));
    out.push({ name: `${ref.name}--${name}`, file, contents: ref.contents, edit: name });
  };
  // Re-encoded at a lower quality than the reference, so no copy is bit-identical.
  const lower = X264.map((a) => (a === '23' ? '28' : a));
  for (const [name, filter] of Object.entries(WHOLE_EDITS))
    out.push({ name: `${montage.name}--${name}`, file: montage.file, filter, contents: montage.contents, edit: name });
  edit(montage, 'excerpt30s', ['-ss', '420', '-t', '30', '-i', montage.file, '-vf', 'null', ...lower]);
  edit(montage, 'excerpt30s-mirror', ['-ss', '420', '-t', '30', '-i', montage.file, '-vf', 'hflip', ...lower]);
  edit(montage, 'first-minute', ['-t', '60', '-i', montage.file, '-vf', 'null', ...lower]);
  out.push({ name: `${stillRef.name}--mirror`, file: stillRef.file, filter: WHOLE_EDITS.mirror, contents: stillRef.contents, edit: 'mirror' });
  edit(stillRef, 'excerpt30s', ['-ss', '90', '-t', '30', '-i', stillRef.file, '-vf', 'null', ...lower]);
  // The host upload: 1:30 of one photo's pan, the footage, another's pan to 3:30, the clip, a
  // pan to 5:00.
  const footage = refs.find((r) => r.name === 'footage-clip')!;
  const clip = refs.find((r) => r.name === 'pz-clip')!;
  const hostParts = [slowPan(p.host[0]!, 90), footage.file, slowPan(p.host[1]!, 112), clip.file, slowPan(p.host[0]!, 84)];
  const host = concat(hostParts, join(DIR, `${split}-host-5m.mp4`));
  const hostQuery = ffmpeg(['-i', host, '-vf', 'null', ...lower], join(DIR, `${split}-host-5m--reencode.mp4`));
  out.push({ name: 'host-5m', file: hostQuery, contents: ['host', 'footage', 'clip'], edit: 'long upload with both clips inside' });
  return out;
}

// `node --import tsx packages/phash/scripts/video-long-edits.ts [split]` builds everything.
if (process.argv[1]?.endsWith('video-long-edits.ts')) {
  const splits = (process.argv[2] ? [process.argv[2]] : ['development', 'test']) as VideoSplit[];
  for (const s of splits) {
    for (const q of longQueries(s)) process.stderr.write(`${q.name}\n`);
  }
}
