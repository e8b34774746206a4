/** Audio outputs we can produce. */
export type AudioFormat = 'ogg-opus' | 'webm-opus' | 'm4a-aac' | 'mp3';

/** How each {@link AudioFormat} is produced and labelled. */
export interface AudioFormatSpec {
  /** MIME type of the file. */
  mime: string;
  /** File extension without the dot. */
  extension: string;
  /** ffmpeg muxer. */
  muxer: string;
  /** ffmpeg encoder. */
  encoder: string;
  /** Lowest sensible bit rate (kbit/s); below it the codec breaks down or refuses. */
  minKbps: number;
  /** Highest useful bit rate (kbit/s) for speech and casual music. */
  maxKbps: number;
  /** Extra encoder/muxer arguments. */
  extraArgs: readonly string[];
}

/** Format table. Opus is the default for voice notes: at 24-32 kbit/s speech is near-transparent. */
export const AUDIO_FORMATS: Record<AudioFormat, AudioFormatSpec> = {
  'ogg-opus': {
    mime: 'audio/ogg',
    extension: 'opus',
    muxer: 'ogg',
    encoder: 'libopus',
    minKbps: 6,
    maxKbps: 160,
    extraArgs: ['-vbr', 'on'],
  },
  'webm-opus': {
    mime: 'audio/webm',
    extension: 'webm',
    muxer: 'webm',
    encoder: 'libopus',
    minKbps: 6,
    maxKbps: 160,
    extraArgs: ['-vbr', 'on'],
  },
  // `ipod` is ffmpeg's M4A muxer (M4A brand); faststart puts the index first for streaming.
  'm4a-aac': {
    mime: 'audio/mp4',
    extension: 'm4a',
    muxer: 'ipod',
    encoder: 'aac',
    minKbps: 16,
    maxKbps: 192,
    extraArgs: ['-movflags', '+faststart'],
  },
  mp3: {
    mime: 'audio/mpeg',
    extension: 'mp3',
    muxer: 'mp3',
    encoder: 'libmp3lame',
    minKbps: 8,
    maxKbps: 192,
    extraArgs: [],
  },
};
