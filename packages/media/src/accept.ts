import { AUDIO_FORMATS, type AudioFormat } from './audio-formats.ts';
import { MediaError } from './errors.ts';
import type { H264Profile } from './h264.ts';
import type { ImageFormat } from './image-encode.ts';

/**
 * A type the recipient accepts, as a handset's UAProf/MMS capabilities would list it: a bare MIME type
 * (`'image/jpeg'`), or an object with constraints.
 */
export type AcceptedType =
  | string
  | {
      /** MIME type, e.g. `video/mp4`. */
      mime: string;
      /** For H.264 video: highest profile the handset decodes (default main for MP4, baseline for 3GP). */
      h264Profile?: H264Profile;
      /** For video: whether a sound track is allowed at all (default true). */
      audio?: boolean;
      /** Largest width the recipient displays or decodes. */
      maxWidth?: number;
      /** Largest height the recipient displays or decodes. */
      maxHeight?: number;
    };

/** An image target. */
export interface ImageTarget {
  /** Discriminant. */
  kind: 'image';
  /** Output MIME type. */
  mime: string;
  /** Encoder. */
  format: ImageFormat;
  /** Largest output width, if the recipient has one. */
  maxWidth?: number;
  /** Largest output height, if the recipient has one. */
  maxHeight?: number;
}

/** A video target (H.264 + AAC in MP4 or 3GP). */
export interface VideoTarget {
  /** Discriminant. */
  kind: 'video';
  /** Output MIME type. */
  mime: string;
  /** Container. */
  container: 'mp4' | '3gp';
  /** Highest H.264 profile allowed. */
  profile: H264Profile;
  /** Whether a sound track may be included. */
  audio: boolean;
  /** Largest output width, if the recipient has one. */
  maxWidth?: number;
  /** Largest output height, if the recipient has one. */
  maxHeight?: number;
}

/** An audio-only target. */
export interface AudioTarget {
  /** Discriminant. */
  kind: 'audio';
  /** Output MIME type. */
  mime: string;
  /** Encoder and container. */
  format: AudioFormat;
}

/** A resolved, encodable target. */
export type BudgetTarget = ImageTarget | VideoTarget | AudioTarget;

const IMAGE_MIMES: Record<string, ImageFormat> = {
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/pjpeg': 'jpeg',
  'image/webp': 'webp',
  'image/avif': 'avif',
};

const AUDIO_MIMES: Record<string, AudioFormat> = {
  'audio/mp4': 'm4a-aac',
  'audio/m4a': 'm4a-aac',
  'audio/x-m4a': 'm4a-aac',
  'audio/aac': 'm4a-aac',
  'audio/ogg': 'ogg-opus',
  'audio/opus': 'ogg-opus',
  'audio/webm': 'webm-opus',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
};

/**
 * Resolves the accept list into encodable targets, in the caller's order of preference. Types we cannot
 * produce (e.g. `image/png`, `video/webm`) are skipped; if none remain, `invalid_options`.
 * Parameters such as `; codecs="avc1.42E01E"` are read: an avc1.42 codec means baseline.
 * @param accepted accept list
 */
export function resolveTargets(accepted: readonly AcceptedType[]): BudgetTarget[] {
  const targets: BudgetTarget[] = [];
  for (const entry of accepted) {
    const spec = typeof entry === 'string' ? { mime: entry } : entry;
    const [base = '', ...params] = spec.mime
      .toLowerCase()
      .split(';')
      .map((part) => part.trim());
    const codecs =
      params
        .find((p) => p.startsWith('codecs='))
        ?.slice(7)
        .replace(/"/g, '') ?? '';
    const box = {
      ...(spec.maxWidth ? { maxWidth: spec.maxWidth } : {}),
      ...(spec.maxHeight ? { maxHeight: spec.maxHeight } : {}),
    };
    const image = IMAGE_MIMES[base];
    if (image) {
      targets.push({ kind: 'image', mime: image === 'jpeg' ? 'image/jpeg' : base, format: image, ...box });
      continue;
    }
    if (base === 'video/mp4' || base === 'video/3gpp') {
      const fromCodecs: H264Profile | undefined = /avc1\.42/i.test(codecs)
        ? 'baseline'
        : /avc1\.4d/i.test(codecs)
          ? 'main'
          : undefined;
      const container = base === 'video/mp4' ? 'mp4' : '3gp';
      const profile = spec.h264Profile ?? fromCodecs ?? (container === '3gp' ? 'baseline' : 'main');
      const audio = 'audio' in spec ? spec.audio !== false : true;
      targets.push({ kind: 'video', mime: base, container, profile, audio, ...box });
      continue;
    }
    const audio = AUDIO_MIMES[base];
    if (audio) targets.push({ kind: 'audio', mime: AUDIO_FORMATS[audio].mime, format: audio });
  }
  if (targets.length === 0) {
    throw new MediaError('invalid_options', 'none of the accepted types can be produced', {
      details: { accepted: accepted.map((a) => (typeof a === 'string' ? a : a.mime)) },
    });
  }
  return targets;
}
