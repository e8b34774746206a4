export { MmdClient, type ClientOptions } from './client.ts';
export { MmdError } from './errors.ts';
export { openStream, type Stream, type StreamOptions, type WebSocketLike, type WebSocketFactory } from './stream.ts';
export type * from '@mmd/contracts';
