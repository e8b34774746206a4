import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDIO_FORMATS, type AudioFormat } from './audio-formats.ts';
import { type AudioLimits, openAudio } from './audio-source.ts';
import { MediaError } from './errors.ts';
import { fileUrl } from './ffmpeg-args.ts';
import { inputPath, type MediaInput } from './input.ts';
import { probeAv } from './probe-av.ts';
import { runEncode } from './run-encode.ts';
import { withTempDir } from './temp-dir.ts';

/** Options for {@link transcodeAudio}. */
export interface TranscodeAudioOptions extends AudioLimits {
  /** Path or bytes of an audio file (or a video whose sound track is wanted). */
  input: MediaInput;
  /** Output format (default `ogg-opus`). */
  format?: AudioFormat;
  /** Bit rate in kbit/s (default 32 for Opus, 64 for AAC/MP3), clamped to the codec's range. */
  bitrateKbps?: number;
  /** Output channels (default: mono when the source is mono, else stereo). */
  channels?: 1 | 2;
  /** Sample rate in Hz; omit to let the encoder keep or pick the nearest supported rate. */
  sampleRate?: number;
  /** Progress callback (0..1). */
  onProgress?: (fraction: number) => void;
  /** Parent of scratch directories. */
  tmpRoot?: string;
}

/** An encoded audio file. */
export interface TranscodedAudio {
  /** File contents. */
  bytes: Buffer;
  /** MIME type. */
  mime: string;
  /** Extension without the dot. */
  extension: string;
  /** Duration of the output in seconds. */
  durationSeconds: number;
  /** Bit rate requested from the encoder in kbit/s. */
  bitrateKbps: number;
  /** ffmpeg codec name of the output stream (`opus`, `aac`, `mp3`). */
  codec: string;
}

/**
 * Encodes the first audio track to Opus (Ogg or WebM), AAC (M4A) or MP3, dropping video, cover art
 * and all tags.
 * @param options input, format and bit rate
 */
export async function transcodeAudio(options: TranscodeAudioOptions): Promise<TranscodedAudio> {
  return withTempDir(options.tmpRoot, async (dir) => {
    const path = await inputPath(options.input, dir);
    const source = await openAudio(path, options);
    const format = options.format ?? 'ogg-opus';
    const spec = AUDIO_FORMATS[format];
    const wanted = options.bitrateKbps ?? (spec.encoder === 'libopus' ? 32 : 64);
    const kbps = Math.min(spec.maxKbps, Math.max(spec.minKbps, Math.round(wanted)));
    const channels = options.channels ?? (source.audio.channels === 1 ? 1 : 2);
    const out = join(dir, `out.${spec.extension}`);
    const args = [
      '-i',
      fileUrl(path),
      '-map',
      '0:a:0',
      '-vn',
      '-sn',
      '-dn',
      '-map_metadata',
      '-1',
      '-map_chapters',
      '-1',
      '-c:a',
      spec.encoder,
      '-b:a',
      `${kbps}k`,
      '-ac',
      String(channels),
      ...spec.extraArgs,
    ];
    if (options.sampleRate) args.push('-ar', String(options.sampleRate));
    args.push('-t', (source.durationSeconds + 1).toFixed(3), '-f', spec.muxer, out);
    await runEncode(args, source.durationSeconds, options);
    const probe = await probeAv(out);
    if (!probe.audio) throw new MediaError('process_failed', 'encoder produced no audio stream');
    return {
      bytes: await readFile(out),
      mime: spec.mime,
      extension: spec.extension,
      durationSeconds: probe.durationSeconds ?? source.durationSeconds,
      bitrateKbps: kbps,
      codec: probe.audio.codec,
    };
  });
}
