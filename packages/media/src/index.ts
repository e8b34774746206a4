/**
 * @mmd/media: every sharp and ffmpeg operation of MMD, with no server dependencies, so the API server
 * and remote workers share it. Each operation takes an options object and returns a result; long ones
 * accept `onProgress` and `signal`; failures are {@link MediaError}s with stable snake_case codes.
 */
export {
  type AcceptedType,
  type AudioTarget,
  type BudgetTarget,
  type ImageTarget,
  resolveTargets,
  type VideoTarget,
} from './accept.ts';
export { type AdaptToBudgetOptions, adaptToBudget, type BudgetResult } from './adapt-to-budget.ts';
export { AUDIO_FORMATS, type AudioFormat, type AudioFormatSpec } from './audio-formats.ts';
export { type TranscodeAudioOptions, type TranscodedAudio, transcodeAudio } from './audio-transcode.ts';
export { audioWaveform, type Waveform, type WaveformOptions } from './audio-waveform.ts';
export {
  type BinarySource,
  type LocateBinariesOptions,
  locateBinaries,
  type MediaBinaries,
} from './binaries.ts';
export { ensureExecutable } from './ensure-executable.ts';
export { isMediaError, MEDIA_ERROR_CODES, MediaError, type MediaErrorCode } from './errors.ts';
export { type H264Profile, h264CodecString, h264Level } from './h264.ts';
export type { HlsVariant } from './hls-master.ts';
export { DEFAULT_QUALITY, IMAGE_FORMAT_MIME, type ImageFormat } from './image-encode.ts';
export { type ImagePlaceholder, PLACEHOLDER_SIDE } from './image-placeholder.ts';
export type { MediaInput } from './input.ts';
export { type InspectOptions, inspectMedia, type MediaInfo } from './inspect.ts';
export { type LadderRung, type PlannedRung, planLadder, STANDARD_LADDER } from './ladder.ts';
export {
  DEFAULT_MAX_AUDIO_SECONDS,
  DEFAULT_MAX_IMAGE_PIXELS,
  DEFAULT_MAX_VIDEO_SECONDS,
  DEFAULT_MAX_VIDEO_SIDE,
} from './limits.ts';
export { type AudioStreamInfo, type AvProbe, probeAv, type VideoStreamInfo } from './probe-av.ts';
export { type ImageProbe, probeImage } from './probe-image.ts';
export {
  type AiInvolvement,
  DEFAULT_PROVENANCE_MAX_BYTES,
  DEFAULT_PROVENANCE_TIMEOUT_MS,
  type ProvenanceReading,
  type ReadProvenanceOptions,
  readProvenance,
} from './provenance.ts';
export {
  DEFAULT_IMAGE_RENDITIONS,
  type ImageRendition,
  type ImageRenditionSpec,
  type ProcessedImage,
  type ProcessImageOptions,
  processImage,
} from './process-image.ts';
export { type MediaKind, SNIFF_BYTES, type SniffResult, sniffBytes } from './sniff.ts';
export { imageSsim, type SsimOptions } from './ssim.ts';
export { type HlsPackage, type TranscodeHlsOptions, transcodeHls } from './video-hls.ts';
export { type TranscodedVideo, type TranscodeMp4Options, transcodeMp4 } from './video-mp4.ts';
export { type ExtractPosterOptions, extractPoster, type VideoPoster } from './video-poster.ts';
export type { VideoLimits } from './video-source.ts';
export * from './hash-input.ts';
