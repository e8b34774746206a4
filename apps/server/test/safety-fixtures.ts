/**
 * Factories for the safety tests: moderators, real photos (from ../shared/data/photos) and the
 * edits people make to get past hash matching (crops, filters, re-encoding), and hashes computed
 * the way a browser would with @mmd/phash.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { MmdClient, SyncEvent } from '@mmd/sdk';
import { hash256ToHex, pdqIntermediate, coefficientsToHash, robustQueryHashes, robustReferenceHashes } from '@mmd/phash';
import sharp from 'sharp';
import { encodeRobust } from '../src/safety/hash-codec.ts';
import { type TestServer, type User, eventually } from './harness.ts';

export const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');
export const noData = existsSync(DATA) ? false : `shared test data not found at ${DATA}`;

export const photo = (name: string) => readFileSync(path.join(DATA, 'photos', name));

/** A real photo, shrunk so processing stays quick (screening is resolution-independent). */
export async function smallPhoto(name: string, width = 640): Promise<Buffer> {
  return sharp(photo(name)).resize({ width }).jpeg({ quality: 90 }).toBuffer();
}

/** Cuts `fraction` off the right and bottom, as a screenshot or a "creative" crop would. */
export async function crop(image: Buffer, fraction: number): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(image).metadata();
  return sharp(image).extract({ left: 0, top: 0, width: Math.round(width * (1 - fraction)), height: Math.round(height * (1 - fraction)) }).jpeg({ quality: 85 }).toBuffer();
}

export async function greyscale(image: Buffer): Promise<Buffer> {
  return sharp(image).greyscale().jpeg({ quality: 85 }).toBuffer();
}

export async function moreContrast(image: Buffer): Promise<Buffer> {
  return sharp(image).linear(1.4, -40).jpeg({ quality: 85 }).toBuffer();
}

export async function reencode(image: Buffer, quality = 60): Promise<Buffer> {
  return sharp(image).jpeg({ quality }).toBuffer();
}

/** The hashes a person's browser sends to /v1/safety/protect (PDQ + crop-resistant set). */
export async function browserHashes(image: Buffer) {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixels = { data, width: info.width, height: info.height, channels: 3 as const };
  const it = pdqIntermediate(pixels);
  return { pdq: hash256ToHex(coefficientsToHash(it.coefficients)), quality: it.quality, robust: encodeRobust(robustReferenceHashes(pixels, it)) };
}

/** The query set the server computes for an upload of `image` (what a bank look-up checks). */
export async function uploadQueryHashes(image: Buffer) {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixels = { data, width: info.width, height: info.height, channels: 3 as const };
  return encodeRobust(robustQueryHashes(pixels, pdqIntermediate(pixels)));
}

/**
 * Spread friction tiers at 2, 3, 4 and 5 new chats an hour (per-minute thresholds off), so a test
 * reaches each tier with a few shares whichever minute each lands in.
 */
export const SPREAD_TIERS_PER_HOUR = {
  spreadFastChatsPerMinute: 0,
  spreadFastChatsPerHour: 2,
  spreadConfirmChatsPerMinute: 0,
  spreadConfirmChatsPerHour: 3,
  spreadCooldownChatsPerMinute: 0,
  spreadCooldownChatsPerHour: 4,
  spreadHoldChatsPerMinute: 0,
  spreadHoldChatsPerHour: 5,
};

/** Signs up an account and makes it a moderator, as `mmd account role HANDLE moderator` does. */
export async function signUpModerator(server: TestServer, role: 'moderator' | 'admin' = 'moderator', kind: 'person' | 'bot' = 'person'): Promise<User> {
  const user = await server.signUp(undefined, { kind });
  await server.db.db.updateTable('accounts').set({ role }).where('id', '=', user.accountId).execute();
  return user;
}

/** Uploads and waits for the verdict of processing and screening. */
export async function uploadAndWait(client: MmdClient, bytes: Buffer, filename = 'photo.jpg') {
  const { id } = await client.upload(bytes, { filename });
  return client.waitForMedia(id, { timeoutMs: 90_000 });
}

/** Waits until a safety job has finished and returns its result. */
export async function jobResult(server: TestServer, jobId: string | null): Promise<Record<string, number>> {
  if (!jobId) throw new Error('no job was queued');
  const job = await eventually(`job ${jobId}`, async () => {
    const j = await server.services.queue.get(jobId);
    return j && (j.status === 'succeeded' || j.status === 'failed') ? j : null;
  }, 90_000);
  if (job.status !== 'succeeded') throw new Error(`job ${jobId} ${job.status}: ${job.lastError}`);
  return job.result as Record<string, number>;
}

/** A live stream's events, collected. */
export async function follow(user: User) {
  const events: SyncEvent[] = [];
  const stream = user.client.stream({ onEvent: (e) => events.push(e) });
  await stream.ready;
  return { events, close: () => stream.close() };
}

export function findEvent(events: SyncEvent[], type: string, match: (data: Record<string, unknown>) => boolean) {
  return events.find((e) => e.type === type && match(e.data as Record<string, unknown>));
}
