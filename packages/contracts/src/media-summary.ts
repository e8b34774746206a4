/** The summary of an attached media item, shared by messages and interactive cards. */
import { type Static, Type } from 'typebox';
import { MediaProvenance } from './provenance.ts';

export const MediaSummary = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Enum(['image', 'video', 'audio', 'document']), Type.Null()]),
  status: Type.Enum(['processing', 'ready', 'failed', 'removed', 'held']),
  mime: Type.Union([Type.String(), Type.Null()]),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  duration: Type.Optional(Type.Number()),
  placeholder: Type.Optional(Type.String()),
  filename: Type.Union([Type.String(), Type.Null()]),
  blurred: Type.Optional(Type.Boolean({ description: 'show behind a warning the viewer taps through (matched a blur bank)' })),
  provenance: Type.Optional(MediaProvenance),
}, { description: 'an attached item; GET /v1/media/{id} gives its signed URLs' });
export type MediaSummary = Static<typeof MediaSummary>;
