/**
 * Media's public surface: what app.ts wires and what other capabilities may use. Other
 * capabilities import from this file only, and never query `media` or `message_media` themselves.
 */
export { createMedia, type Media, type MediaDeps } from './service.ts';
export { createMediaProcessor, type MediaProcessor, type ScreenVerdict } from './process.ts';
export { mediaRoutes } from './routes.ts';
export { filesRoute } from './files-route.ts';
export { createResumableUploads } from './tus.ts';
export { createUrlSigner, type UrlSigner } from './signing.ts';
export {
  type MediaRow,
  type MediaSummary,
  type StoredRendition,
  summarise,
  renditionsOf,
  loadMedia,
  PREVIEW_POSITION,
} from './store.ts';
export { attachMedia, mediaOfMessages } from './attach.ts';
export {
  markRemoved,
  deleteRemovedFiles,
  flagBlurred,
  releaseHeld,
  messagesCarrying,
  mediaOfMessageIds,
  loadMediaRows,
  liveMediaWithOriginals,
  attachPreviewImage,
  detachPreviewImage,
} from './lifecycle.ts';
export { storeProfilePhoto, pickProfileRendition, profilePhotoPrefix, type StoredProfilePhoto } from './profile-photo.ts';
