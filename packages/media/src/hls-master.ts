import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One variant stream as listed in the master playlist. */
export interface HlsVariant {
  /** Variant name and folder, e.g. `360p`. */
  name: string;
  /** Playlist URI relative to the master, e.g. `360p/index.m3u8`. */
  playlist: string;
  /** Frame width. */
  width: number;
  /** Frame height. */
  height: number;
  /** Peak segment bit rate in bits/s (measured from the segments written). */
  bandwidth: number;
  /** Average bit rate in bits/s over the whole stream. */
  averageBandwidth: number;
  /** RFC 6381 codecs, e.g. `avc1.4D401E,mp4a.40.2`. */
  codecs: string;
  /** Frames per second. */
  frameRate: number;
}

/** Bit rates measured from a media playlist and its segment files. */
export interface PlaylistRates {
  /** Highest single-segment bit rate in bits/s. */
  peak: number;
  /** Total bits over total duration. */
  average: number;
  /** Sum of segment durations in seconds. */
  durationSeconds: number;
  /** Number of media segments. */
  segments: number;
}

/**
 * Measures real bit rates of a variant. ffmpeg's own master playlist writer is unusable here (the
 * static 4.1 build crashes writing it), and measuring beats trusting nominal rates: BANDWIDTH must be
 * an upper bound or players stall.
 * @param playlistPath absolute path of a media playlist
 */
export async function measurePlaylist(playlistPath: string): Promise<PlaylistRates> {
  const lines = (await readFile(playlistPath, 'utf8')).split(/\r?\n/);
  const base = dirname(playlistPath);
  let pendingDuration: number | undefined;
  let peak = 0;
  let bits = 0;
  let durationSeconds = 0;
  let segments = 0;
  for (const line of lines) {
    if (line.startsWith('#EXTINF:')) {
      pendingDuration = Number.parseFloat(line.slice(8));
    } else if (line && !line.startsWith('#') && pendingDuration !== undefined) {
      const size = (await stat(join(base, line))).size * 8;
      bits += size;
      durationSeconds += pendingDuration;
      segments++;
      // Very short final segments would inflate the peak: measure them as if at least one second long.
      peak = Math.max(peak, size / Math.max(1, pendingDuration));
      pendingDuration = undefined;
    }
  }
  return {
    peak: Math.ceil(peak),
    average: Math.ceil(bits / Math.max(durationSeconds, 0.001)),
    durationSeconds,
    segments,
  };
}

/**
 * Renders the master playlist (lowest variant first, so cautious players start cheap).
 * @param variants variants to list
 */
export function buildMasterPlaylist(variants: readonly HlsVariant[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of [...variants].sort((a, b) => a.bandwidth - b.bandwidth)) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${v.bandwidth},AVERAGE-BANDWIDTH=${v.averageBandwidth},` +
        `RESOLUTION=${v.width}x${v.height},FRAME-RATE=${v.frameRate.toFixed(3)},CODECS="${v.codecs}"`,
      v.playlist,
    );
  }
  return `${lines.join('\n')}\n`;
}
