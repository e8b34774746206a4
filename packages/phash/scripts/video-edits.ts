/**
 * The video benchmark's material, built with the system ffmpeg into a cache under the OS temp
 * folder (deterministic: the same files on every run, rebuilt only when missing). Node only;
 * never imported by the library.
 *
 * Sources: the TMK sample videos and city-night from ../shared/data, and 6-second pan-and-zoom
 * clips made from the photos. Edits: what a re-uploader does to evade matching.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DATA_DIR } from '../test/data.ts';

/** The system ffmpeg (Debian), as the server uses. */
export const FFMPEG = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
export const FFPROBE = process.env.FFPROBE_PATH ?? '/usr/bin/ffprobe';

/** Cache folder; bump the version when a recipe changes so stale files are not reused. */
export const VIDEO_CACHE = join(tmpdir(), 'mmd-video-eval-v1');

/** One edit a re-uploader makes. */
export type VideoEdit =
  | 'reencode'
  | 'crop10'
  | 'crop20'
  | 'crop30'
  | 'letterbox'
  | 'pillarbox'
  | 'mirror'
  | 'rotate90'
  | 'speed0.8'
  | 'speed1.25'
  | 'middle-half'
  | 'title-card'
  | 'low-quality'
  | 'greyscale'
  | 'sepia'
  | 'logo'
  | 'caption'
  | 'screen-recording';

/** All edits, in report order. */
export const VIDEO_EDITS: readonly VideoEdit[] = [
  'reencode',
  'crop10',
  'crop20',
  'crop30',
  'letterbox',
  'pillarbox',
  'mirror',
  'rotate90',
  'speed0.8',
  'speed1.25',
  'middle-half',
  'title-card',
  'low-quality',
  'greyscale',
  'sepia',
  'logo',
  'caption',
  'screen-recording',
];

/** A source video of the benchmark. */
export interface VideoSource {
  /** Short name. */
  readonly name: string;
  /** Path of the playable file. */
  readonly file: string;
  /** Videos with the same scene share this (the three chair takes). */
  readonly scene: string;
}

/** Which half a source belongs to: parameters are chosen on `development` only. */
export type VideoSplit = 'development' | 'test';

/*
 * The split: fixed by name. Each half has TMK footage (portrait with bars, or HD), real
 * footage or pan-and-zoom clips of colour and greyscale photos. The two other chair takes are
 * not sources: they film the same scene as chair-19 and serve as "same scene, different take"
 * queries (reported apart; see video-eval.ts).
 */
const PHOTO_CLIPS: Record<VideoSplit, string[]> = {
  development: [
    'photos/Aqua.jpg',
    'photos/Dune.jpg',
    'photos/Elephants.jpg',
    'photos/Garden.jpg',
    'photos/Storm.jpg',
    'photos-more/astronaut.png',
    'photos-more/coffee.png',
    'photos-more/camera.png',
  ],
  test: [
    'photos/Blinds.jpg',
    'photos/FreshFlower.jpg',
    'photos/GreenMeadow.jpg',
    'photos/TwoWings.jpg',
    'photos/YellowFlower.jpg',
    'photos-more/chelsea.png',
    'photos-more/motorcycle_left.png',
    'photos-more/rocket.jpg',
  ],
};

const FOOTAGE: Record<VideoSplit, Array<{ name: string; file: string; scene: string }>> = {
  development: [
    { name: 'chair-19', file: 'vpdq/videos/chair-19-sd-bar.mp4', scene: 'chair' },
    { name: 'city-night', file: 'video/city-night.mpg', scene: 'city-night' },
  ],
  test: [
    { name: 'doorknob', file: 'vpdq/videos/doorknob-hd-no-bar.mp4', scene: 'doorknob' },
    { name: 'pattern', file: 'vpdq/videos/pattern-hd-no-bar.mp4', scene: 'pattern' },
  ],
};

/** The other takes of the chair scene, used only as queries against chair-19. */
export const OTHER_TAKES = [
  { name: 'chair-20', file: join(DATA_DIR, 'vpdq/videos/chair-20-sd-bar.mp4'), scene: 'chair' },
  { name: 'chair-22-grey', file: join(DATA_DIR, 'vpdq/videos/chair-22-sd-grey-bar.mp4'), scene: 'chair' },
];

/** Deterministic value in [0, 1) per seed (FNV-1a), for repeatable crop offsets and motions. */
export function unit(seed: string): number {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  return ((h >>> 0) % 10007) / 10007;
}

function ffmpeg(args: string[], out: string): void {
  const tmp = `${out}.part.mp4`;
  execFileSync(FFMPEG, ['-v', 'error', '-y', ...args, tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(tmp, out);
}

const X264 = [
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-crf',
  '23',
  '-pix_fmt',
  'yuv420p',
  '-an',
  '-threads',
  '1',
];

/** Width, height and duration of a video. */
export function probe(file: string): { width: number; height: number; duration: number } {
  const out = execFileSync(
    FFPROBE,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height:format=duration',
      '-of',
      'json',
      file,
    ],
    { encoding: 'utf8' },
  );
  const j = JSON.parse(out) as {
    streams: Array<{ width: number; height: number }>;
    format: { duration: string };
  };
  return { width: j.streams[0]!.width, height: j.streams[0]!.height, duration: Number(j.format.duration) };
}

/** A 6-second 1280×720 pan-and-zoom clip of a photo (zoom in, zoom out or pan, by name). */
function panAndZoom(photo: string, out: string): void {
  const kind = Math.floor(unit(`${basename(photo)}:motion`) * 3);
  const frames = 150;
  // The photo is cropped to 16:9 at 1920×1080 first; zoompan then moves a window over it.
  const z = kind === 0 ? `1+0.25*on/${frames}` : kind === 1 ? `1.25-0.25*on/${frames}` : '1.2';
  const x = kind === 2 ? `(iw-iw/zoom)*on/${frames}` : '(iw-iw/zoom)/2';
  const y = '(ih-ih/zoom)/2';
  ffmpeg(
    [
      '-i',
      photo,
      '-vf',
      `scale=1920:1080:force_original_aspect_ratio=increase,crop=1920:1080,format=yuv420p,zoompan=z='${z}':x='${x}':y='${y}':d=${frames}:s=1280x720:fps=25`,
      '-frames:v',
      String(frames),
      ...X264,
    ],
    out,
  );
}

/** The benchmark's source videos of one split (pan-and-zoom clips are built on first use). */
export function videoSources(split: VideoSplit): VideoSource[] {
  const dir = join(VIDEO_CACHE, 'sources');
  mkdirSync(dir, { recursive: true });
  const clips = PHOTO_CLIPS[split].map((p) => {
    const name = `pz-${basename(p).replace(/\.[a-z]+$/, '')}`;
    const file = join(dir, `${name}.mp4`);
    if (!existsSync(file)) panAndZoom(join(DATA_DIR, p), file);
    return { name, file, scene: name };
  });
  const footage = FOOTAGE[split].map((f) => ({ ...f, file: join(DATA_DIR, f.file) }));
  return [...footage, ...clips];
}

const even = (v: number) => 2 * Math.round(v / 2);

/** ffmpeg arguments (after `-i source`) producing one edit. */
function editArgs(source: VideoSource, edit: VideoEdit): string[] {
  const { width: w, height: h, duration } = probe(source.file);
  const seed = `${source.name}:${edit}`;
  const crop = (keep: number) => {
    const cw = even(w * keep);
    const ch = even(h * keep);
    const x = Math.round((w - cw) * unit(`${seed}x`));
    const y = Math.round((h - ch) * unit(`${seed}y`));
    // Kept at the cropped size, as the image benchmark's crops are.
    return ['-vf', `crop=${cw}:${ch}:${x}:${y}`];
  };
  switch (edit) {
    case 'reencode':
      return ['-vf', 'null'];
    case 'crop10':
      return crop(0.9);
    case 'crop20':
      return crop(0.8);
    case 'crop30':
      return crop(0.7);
    case 'letterbox':
      // Into a square frame with bars above and below.
      return ['-vf', `pad=${even(w)}:${even(Math.max(w, h * 1.4))}:0:(oh-ih)/2:black`];
    case 'pillarbox':
      return ['-vf', `pad=${even(Math.max(h, w * 1.4))}:${even(h)}:(ow-iw)/2:0:black`];
    case 'mirror':
      return ['-vf', 'hflip'];
    case 'rotate90':
      return ['-vf', 'transpose=1'];
    case 'speed0.8':
      return ['-vf', 'setpts=PTS/0.8'];
    case 'speed1.25':
      return ['-vf', 'setpts=PTS/1.25'];
    case 'middle-half':
      return ['-ss', (duration * 0.25).toFixed(3), '-t', (duration * 0.5).toFixed(3), '-vf', 'null'];
    case 'title-card':
      // 2 s of a title card (text on a gradient) before the video.
      return [
        '-filter_complex',
        `color=c=0x1e3a5f:s=${even(w)}x${even(h)}:d=2:r=25,drawtext=text='Watch till the end':fontcolor=white:fontsize=${Math.round(h / 12)}:x=(w-tw)/2:y=(h-th)/2,format=yuv420p[card];[0:v]scale=${even(w)}:${even(h)},fps=25,format=yuv420p,setsar=1[main];[card]setsar=1[c];[c][main]concat=n=2:v=1:a=0`,
      ];
    case 'low-quality':
      return ['-b:v', '150k', '-maxrate', '150k', '-bufsize', '300k', '-vf', 'scale=-2:240'];
    case 'greyscale':
      return ['-vf', 'hue=s=0'];
    case 'sepia':
      return ['-vf', 'colorchannelmixer=.393:.769:.189:0:.349:.686:.168:0:.272:.534:.131'];
    case 'logo': {
      // A station logo (a test pattern) in the top-right corner, 1/5 of the width.
      const lw = even(w / 5);
      return [
        '-filter_complex',
        `testsrc2=s=${lw}x${even(lw / 2)}:r=25[logo];[0:v][logo]overlay=W-w-${Math.round(w / 30)}:${Math.round(h / 20)}:shortest=1`,
      ];
    }
    case 'caption': {
      // A subtitle band over the bottom sixth, as burned-in captions or meme text.
      const size = Math.round(h / 14);
      return [
        '-vf',
        `drawbox=x=0:y=ih*5/6:w=iw:h=ih/6:color=black@0.8:t=fill,drawtext=text='this is what they do not show you':fontcolor=white:fontsize=${size}:x=(w-tw)/2:y=h*11/12-th/2,drawtext=text='@reposter':fontcolor=white@0.7:fontsize=${size}:x=w/20:y=h/20`,
      ];
    }
    case 'screen-recording': {
      // The video playing small inside another app's window (1280×720 desktop), with a title
      // bar, a sidebar of text and a toolbar: as recorded with a screen recorder.
      const W = 1280;
      const H = 720;
      const vw = even(w >= h ? 600 : 300);
      const vh = even((vw * h) / w);
      return [
        '-filter_complex',
        `color=c=0xf3f3f3:s=${W}x${H}:r=25,drawbox=x=0:y=0:w=${W}:h=48:color=0x2d2d2d:t=fill,drawtext=text='Videos - Player':fontcolor=white:fontsize=22:x=20:y=14,drawbox=x=${W - 330}:y=70:w=300:h=${H - 100}:color=0xdddddd:t=fill,drawtext=text='Up next - funny cats compilation':fontcolor=black:fontsize=16:x=${W - 320}:y=90,drawbox=x=40:y=${H - 60}:w=${W - 400}:h=8:color=0xcc0000:t=fill[bg];[0:v]scale=${vw}:${vh}[v];[bg][v]overlay=60:80:shortest=1,format=yuv420p`,
      ];
    }
  }
}

/** Path of one edit of a source, built on first use. */
export function editedVideo(source: VideoSource, edit: VideoEdit): string {
  const dir = join(VIDEO_CACHE, 'edits');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${source.name}--${edit}.mp4`);
  if (!existsSync(out)) {
    // x264 needs even dimensions (city-night is 720×405): every edit ends by rounding down.
    const args = editArgs(source, edit);
    const last = args.length - 1;
    args[last] = `${args[last]},scale=trunc(iw/2)*2:trunc(ih/2)*2`;
    const seek = args[0] === '-ss' ? args.splice(0, 4) : [];
    ffmpeg([...seek, '-i', source.file, ...args, ...X264], out);
  }
  return out;
}

// `node --import tsx packages/phash/scripts/video-edits.ts` builds everything (for a warm cache).
if (process.argv[1]?.endsWith('video-edits.ts')) {
  for (const split of ['development', 'test'] as const) {
    for (const s of videoSources(split)) {
      for (const e of VIDEO_EDITS) {
        editedVideo(s, e);
        process.stderr.write('.');
      }
      process.stderr.write(` ${s.name}\n`);
    }
  }
}
