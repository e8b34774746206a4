export { MmdClient, type ClientOptions } from './client.ts';
export { MmdError } from './errors.ts';
export { AutomationApi } from './automation.ts';
export { InboxApi } from './inbox.ts';
export { ContactsApi } from './contacts.ts';
export { ContactImportsApi, SegmentsApi, type ImportOptions } from './audience.ts';
export { openStream, type Stream, type StreamOptions, type WebSocketLike, type WebSocketFactory } from './stream.ts';
export type * from '@mmd/contracts';
export { PASSWORD_MIN_LENGTH, PASSWORD_RULE } from '@mmd/contracts/password';
