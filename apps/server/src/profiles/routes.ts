import { Handle, PeopleQuery, PresenceList, Profile, ProfileList, ProfilesQuery, PROFILE_PHOTO_SIZES, type ProfilePhotoSize, UpdateProfileBody } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { accountIdByHandle } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import { createWindowLimiter } from '../http/window-limit.ts';
import type { UrlSigner } from '../media/index.ts';
import { type BlobStore, isBlobError } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { PresenceService } from './presence.ts';
import type { Profiles } from './service.ts';

const PHOTO_TYPES = /^(image\/[\w.+-]+|application\/octet-stream)$/;

/** `?ids=a,b,c`: at most 100 ids of at most 64 characters. */
function idList(raw: string): string[] {
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length > 100 || ids.some((id) => id.length > 64)) throw new AppError('validation_failed', 'at most 100 ids', { errors: [{ path: '/ids', message: 'at most 100 ids of at most 64 characters' }] });
  return ids;
}

export function profileRoutes(deps: {
  profiles: Profiles;
  presence: PresenceService;
  authenticate: Authenticate;
  db: Database;
  blobs: BlobStore;
  signer: UrlSigner;
  clock: () => number;
  limits: { photoMaxBytes: number; photosPerHour: number; editsPerHour: number; searches: number; windowMs: number };
}): FastifyPluginAsyncTypebox {
  const { profiles, authenticate, limits } = deps;
  const searchLimiter = createWindowLimiter({ max: limits.searches, windowMs: limits.windowMs, clock: deps.clock });
  const photoLimiter = createWindowLimiter({ max: limits.photosPerHour, windowMs: 3_600_000, clock: deps.clock });
  const editLimiter = createWindowLimiter({ max: limits.editsPerHour, windowMs: 3_600_000, clock: deps.clock });
  const refuseOver = (limiter: ReturnType<typeof createWindowLimiter>, key: string, what: string) => {
    const waitMs = limiter.hit(key);
    if (waitMs > 0) throw new AppError('rate_limited', `too many ${what}; retry in ${Math.ceil(waitMs / 1000)} s`, { headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) } });
  };
  return async (app) => {
    // The photo is the body itself, buffered up to its own limit (this plugin's routes only).
    app.addContentTypeParser(PHOTO_TYPES, { parseAs: 'buffer', bodyLimit: limits.photoMaxBytes }, (_request, body, done) => done(null, body));

    app.get('/v1/profile', { schema: { 'x-mmd-scope': 'account', tags: ['profiles'], summary: 'Your profile: display name, about line, photo', response: { 200: Profile } } }, async (request) => {
      const principal = await authenticate(request);
      return profiles.own(principal);
    });

    app.patch('/v1/profile', {
      schema: { 'x-mmd-scope': 'device', tags: ['profiles'], summary: 'Change your display name and/or about line (null or "" clears one)', body: UpdateProfileBody, response: { 200: Profile } },
    }, async (request) => {
      const principal = await authenticate(request);
      refuseOver(editLimiter, principal.accountId, 'profile changes');
      return profiles.update(principal, request.body);
    });

    app.put('/v1/profile/photo', {
      schema: {
        'x-mmd-scope': 'device',
        tags: ['profiles'],
        summary: `Set your profile photo: the image itself as the body (image/*); cropped to a square, made in sizes ${Object.values(PROFILE_PHOTO_SIZES).join(', ')} px, metadata stripped`,
        response: { 200: Profile },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      if (!Buffer.isBuffer(request.body)) throw new AppError('unsupported_media_type', 'send the image itself as the body, with an image/* content type');
      if (request.body.length === 0) throw new AppError('invalid_image', 'the body is empty');
      refuseOver(photoLimiter, principal.accountId, 'profile photo changes');
      return profiles.setPhoto(principal, request.body);
    });

    app.delete('/v1/profile/photo', { schema: { 'x-mmd-scope': 'device', tags: ['profiles'], summary: 'Remove your profile photo' } }, async (request, reply) => {
      const principal = await authenticate(request);
      await profiles.deletePhoto(principal);
      return reply.status(204).send();
    });

    app.get('/v1/presence', {
      schema: {
        'x-mmd-scope': 'device',
        tags: ['profiles'],
        summary: 'Whether up to 100 people are online, or when they last were; null where their setting or yours hides it (last seen works both ways)',
        querystring: ProfilesQuery,
        response: { 200: PresenceList },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      return { presence: await deps.presence.of(principal.accountId, idList(request.query.ids)) };
    });

    app.get('/v1/profiles', {
      schema: { 'x-mmd-scope': 'messages:read', tags: ['profiles'], summary: 'Profiles of up to 100 accounts by id, as you may see them (people in your chats)', querystring: ProfilesQuery, response: { 200: ProfileList } },
    }, async (request) => {
      const principal = await authenticate(request);
      return { profiles: await profiles.view(principal.accountId, idList(request.query.ids)) };
    });

    app.get('/v1/people/:handle', {
      schema: { 'x-mmd-scope': 'messages:read', tags: ['profiles'], summary: "Someone's public profile, by handle", params: Type.Object({ handle: Handle }), response: { 200: Profile } },
    }, async (request) => {
      const principal = await authenticate(request);
      const id = await accountIdByHandle(deps.db.db, request.params.handle);
      const [profile] = id ? await profiles.view(principal.accountId, [id]) : [];
      if (!profile) throw notFound('account');
      return profile;
    });

    app.get('/v1/people', {
      schema: {
        'x-mmd-scope': 'device',
        tags: ['profiles'],
        summary: 'Find people by a prefix of their handle or of a word of their display name (at least 3 characters, at most 10 results, rate-limited)',
        querystring: PeopleQuery,
        response: { 200: ProfileList },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      refuseOver(searchLimiter, principal.accountId, 'people searches');
      return { profiles: await profiles.search(principal, request.query.q, request.query.limit) };
    });

    // The signature is the credential (an <img> cannot send a bearer token); access is re-checked on each request.
    app.get<{ Params: { photoId: string; viewerId: string; expires: string; signature: string; size: string } }>(
      '/v1/profile-photos/:photoId/:viewerId/:expires/:signature/:size',
      { schema: { hide: true, 'x-mmd-scope': 'public' } },
      async (request, reply) => {
        const { photoId, viewerId, expires, signature, size } = request.params;
        if (!deps.signer.verify({ mediaId: photoId, viewerId, expires, signature }, deps.clock())) throw new AppError('link_expired', 'this photo link is invalid or has expired');
        if (!(size in PROFILE_PHOTO_SIZES)) throw notFound('photo size');
        const file = await profiles.photoFile(photoId, viewerId, size as ProfilePhotoSize, String(request.headers.accept ?? ''));
        if (!file) throw notFound('profile photo');
        // The owner may remove the photo between the lookup and the read: that is a 404, not a 500.
        const read = await deps.blobs.get(file.key).catch((err: unknown) => {
          if (isBlobError(err, 'not_found')) throw notFound('profile photo');
          throw err;
        });
        const maxAge = Math.max(0, Number(expires) - Math.floor(deps.clock() / 1000));
        return reply
          .header('content-type', file.mime)
          .header('content-length', read.end - read.start + 1)
          .header('cache-control', `private, max-age=${maxAge}, immutable`)
          .header('vary', 'Accept')
          .header('x-content-type-options', 'nosniff')
          .send(read.body);
      },
    );
  };
}

