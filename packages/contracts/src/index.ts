export * from './errors.ts';
export * from './schemas.ts';
export * from './events.ts';
export * from './media.ts';
export * from './safety.ts';
