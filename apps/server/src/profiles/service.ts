/**
 * Profiles: display name, about line and photo beside each handle, as each viewer may see them
 * (the owner's photo setting: everyone, contacts — people they wrote to in a direct chat — or nobody; nobody who
 * blocked the viewer shows them a photo); people search by handle and name prefix, bounded so the
 * directory cannot be paged through. A change reaches the owner's direct chats and groups as one
 * `profile.updated` event each, and the owner's own devices.
 */
import { MAX_PEOPLE_RESULTS, PROFILE_PHOTO_SIZES, type Profile, type ProfilePhoto, type ProfilePhotoSize, type UpdateProfileBody } from '@mmd/contracts';
import { accountStates, accountsByHandlePrefix, accountsByIds, blockersOf, type Principal, privacySettingsOf } from '../accounts/index.ts';
import { conversationIdsOf, directWriting, kindsOf } from '../conversations/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { type StoredProfilePhoto, type UrlSigner, pickProfileRendition, profilePhotoPrefix, storeProfilePhoto } from '../media/index.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import { type Emit, type WriteWithEvents, emitAll } from '../sync/index.ts';
import type { ProfilesTable } from './schema.ts';
import { cleanText, foldForSearch, nameWords } from './words.ts';

export interface ProfilesDeps {
  db: Database;
  blobs: BlobStore;
  write: WriteWithEvents;
  clock: () => number;
  /** Signs photo URLs for one viewer (`/v1/profile-photos/…`). */
  signer: UrlSigner;
  /** How long a signed photo URL works. */
  photoUrlTtlMs: number;
  maxPhotoPixels: number;
}

type Reader = Database['db'] | Tx;

async function profileRows(db: Reader, accountIds: readonly string[]): Promise<Map<string, ProfilesTable>> {
  const out = new Map<string, ProfilesTable>();
  for (let i = 0; i < accountIds.length; i += 500) {
    const rows = await db.selectFrom('profiles').selectAll().where('account_id', 'in', accountIds.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.account_id, r);
  }
  return out;
}

/**
 * Of `ownerIds`, those who show `viewerId` their `what` (photo or last seen) by their own setting:
 * everyone, or contacts (the owner wrote to the viewer in a direct chat); never someone who blocked the viewer.
 * One's own is always visible.
 */
export async function visibleTo(db: Reader, viewerId: string, ownerIds: readonly string[], what: 'photo' | 'last_seen' | 'find_me'): Promise<Set<string>> {
  const others = ownerIds.filter((id) => id !== viewerId);
  const visible = new Set(ownerIds.filter((id) => id === viewerId));
  if (others.length === 0) return visible;
  const [settings, blockers] = await Promise.all([privacySettingsOf(db, others), blockersOf(db, others, viewerId)]);
  const needContact = others.filter((id) => settings.get(id)?.[what] === 'contacts' && !blockers.has(id));
  // Contacts: those who wrote to the viewer themselves in a direct chat (a chat a stranger opened is not enough).
  const contacts = needContact.length > 0 ? (await directWriting(db, viewerId, needContact)).wroteToMe : new Set<string>();
  for (const id of others) {
    if (blockers.has(id)) continue;
    const policy = settings.get(id)?.[what];
    if (policy === 'everyone' || (policy === 'contacts' && contacts.has(id))) visible.add(id);
  }
  return visible;
}

/** The display name someone chose (null: none), e.g. to sign a channel post with. */
export async function displayNameOf(db: Reader, accountId: string): Promise<string | null> {
  const row = await db.selectFrom('profiles').select('display_name').where('account_id', '=', accountId).executeTakeFirst();
  return row?.display_name ?? null;
}

export function createProfiles(deps: ProfilesDeps) {
  const { db, blobs, clock, write, signer } = deps;

  function photoOf(row: ProfilesTable, viewerId: string, expiresAt: number): ProfilePhoto | null {
    if (!row.photo_id || !row.photo) return null;
    const stored = JSON.parse(row.photo) as StoredProfilePhoto;
    const prefix = signer.prefix(row.photo_id, viewerId, expiresAt);
    const urls = Object.fromEntries(Object.keys(PROFILE_PHOTO_SIZES).map((size) => [size, `${prefix}/${size}`])) as ProfilePhoto['urls'];
    return { id: row.photo_id, placeholder: stored.placeholder, average_color: stored.averageColor, urls };
  }

  /** Profiles of `accountIds` as `viewerId` may see them, in the order asked; unknown ids are left out. */
  async function view(viewerId: string, accountIds: readonly string[]): Promise<Profile[]> {
    const ids = [...new Set(accountIds)];
    const [accounts, rows, photoVisible] = await Promise.all([accountsByIds(db.db, ids), profileRows(db.db, ids), visibleTo(db.db, viewerId, ids, 'photo')]);
    // Links expire on a whole-hour boundary, so the same photo keeps the same URL for a while and browsers cache it.
    const expiresAt = Math.ceil((clock() + deps.photoUrlTtlMs) / 3_600_000) * 3_600_000;
    return ids.flatMap((id) => {
      const account = accounts.get(id);
      if (!account) return [];
      const row = rows.get(id);
      return [{
        account_id: id,
        handle: account.handle,
        kind: account.kind,
        display_name: row?.display_name ?? null,
        about: row?.about ?? null,
        photo: row && photoVisible.has(id) ? photoOf(row, viewerId, expiresAt) : null,
        updated_at: Number(row?.updated_at ?? 0),
      }];
    });
  }

  /** Tells the owner's direct chats and groups (and the owner's devices) about the change. */
  async function announce(tx: Tx, emit: Emit, principal: Principal, row: ProfilesTable): Promise<void> {
    const conversationIds = await conversationIdsOf(tx, principal.accountId);
    const kinds = await kindsOf(tx, conversationIds);
    const data = {
      account_id: principal.accountId,
      handle: principal.handle,
      display_name: row.display_name,
      about: row.about,
      photo_id: row.photo_id,
      updated_at: Number(row.updated_at),
    };
    const at = clock();
    // Channels are left out: their subscribers do not see each other.
    const shared = conversationIds.filter((id) => kinds.get(id) === 'direct' || kinds.get(id) === 'group');
    await emitAll(emit, [
      { type: 'profile.updated' as const, conversationId: null, targetAccountId: principal.accountId, data, at },
      ...shared.map((conversationId) => ({ type: 'profile.updated' as const, conversationId, data, at })),
    ]);
  }

  /** Writes the row (and its search words) and announces it, in one transaction. */
  async function save(principal: Principal, change: (current: ProfilesTable) => ProfilesTable): Promise<{ before: ProfilesTable; after: ProfilesTable }> {
    return write(async (tx, emit) => {
      const existing = (await profileRows(tx, [principal.accountId])).get(principal.accountId);
      const before: ProfilesTable = existing ?? { account_id: principal.accountId, display_name: null, about: null, photo_id: null, photo: null, updated_at: 0 };
      const after = { ...change(before), updated_at: Math.max(clock(), Number(before.updated_at) + 1) };
      await tx
        .insertInto('profiles')
        .values(after)
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ display_name: after.display_name, about: after.about, photo_id: after.photo_id, photo: after.photo, updated_at: after.updated_at }))
        .execute();
      if (after.display_name !== before.display_name) {
        await tx.deleteFrom('profile_words').where('account_id', '=', principal.accountId).execute();
        const words = after.display_name ? nameWords(after.display_name) : [];
        if (words.length > 0) await tx.insertInto('profile_words').values(words.map((word) => ({ word, account_id: principal.accountId }))).execute();
      }
      await announce(tx, emit, principal, after);
      return { before, after };
    });
  }

  async function own(principal: Principal): Promise<Profile> {
    const [profile] = await view(principal.accountId, [principal.accountId]);
    if (!profile) throw notFound('account');
    return profile;
  }

  return {
    view,
    own,

    /** Changes the display name and/or about line; a field left out keeps its value. */
    async update(principal: Principal, body: UpdateProfileBody): Promise<Profile> {
      await save(principal, (current) => ({
        ...current,
        display_name: body.display_name === undefined ? current.display_name : cleanText(body.display_name),
        about: body.about === undefined ? current.about : cleanText(body.about),
      }));
      return own(principal);
    },

    /** Makes `bytes` the profile photo (processed first; the old photo's files are deleted after). */
    async setPhoto(principal: Principal, bytes: Buffer): Promise<Profile> {
      const photoId = newId('pph');
      const stored = await storeProfilePhoto({ blobs, photoId, bytes, maxPixels: deps.maxPhotoPixels });
      let before: ProfilesTable;
      try {
        ({ before } = await save(principal, (current) => ({ ...current, photo_id: photoId, photo: JSON.stringify(stored) })));
      } catch (err) {
        await blobs.deletePrefix(profilePhotoPrefix(photoId)).catch(() => {});
        throw err;
      }
      if (before.photo_id) await blobs.deletePrefix(profilePhotoPrefix(before.photo_id)).catch(() => {});
      return own(principal);
    },

    /** Removes the profile photo; 404 when there is none. */
    async deletePhoto(principal: Principal): Promise<void> {
      const current = (await profileRows(db.db, [principal.accountId])).get(principal.accountId);
      if (!current?.photo_id) throw notFound('profile photo');
      const { before } = await save(principal, (row) => ({ ...row, photo_id: null, photo: null }));
      if (before.photo_id) await blobs.deletePrefix(profilePhotoPrefix(before.photo_id)).catch(() => {});
    },

    /**
     * People whose handle, or a word of whose display name, starts with `q` (at least
     * MIN_PEOPLE_QUERY characters, checked by the schema): handles first, at most `limit`
     * (≤ MAX_PEOPLE_RESULTS). Only those whose `find_me` setting admits the searcher are found, never
     * someone who blocked them.
     */
    async search(principal: Principal, q: string, limit = MAX_PEOPLE_RESULTS): Promise<Profile[]> {
      const take = Math.min(limit, MAX_PEOPLE_RESULTS);
      const folded = foldForSearch(q.trim());
      if (!/[\p{L}\p{N}]/u.test(folded)) throw new AppError('validation_failed', 'the query has no letters or digits', { errors: [{ path: '/q', message: 'empty after folding' }] });
      // A few spare rows of each kind, so dropping blockers still leaves a full page.
      const spare = take + 10;
      const byHandle = /^[a-z0-9_]+$/.test(folded) ? await accountsByHandlePrefix(db.db, folded, spare) : [];
      const byName = await db.db
        .selectFrom('profile_words')
        .select('account_id')
        .distinct()
        .where('word', '>=', folded)
        .where('word', '<', `${folded}\u{10FFFF}`)
        .orderBy('account_id')
        .limit(spare)
        .execute();
      const found = [...new Set([...byHandle.map((a) => a.id), ...byName.map((r) => r.account_id)])];
      // A suspended account is found by neither (the handle prefix query leaves it out already).
      const states = await accountStates(db.db, found);
      const ids = found.filter((id) => states.get(id)?.suspended === false);
      // Each person's "who finds me" setting (blocks included: a blocker is never found).
      const findable = await visibleTo(db.db, principal.accountId, ids, 'find_me');
      return view(principal.accountId, ids.filter((id) => findable.has(id)).slice(0, take));
    },

    /** The stored file behind a signed photo URL, if the viewer may still see it; else null. */
    async photoFile(photoId: string, viewerId: string, size: ProfilePhotoSize, accept: string) {
      const row = await db.db.selectFrom('profiles').selectAll().where('photo_id', '=', photoId).executeTakeFirst();
      if (!row?.photo) return null;
      // Checked at every request, not only when signed: access ends when the owner changes the setting.
      if (!(await visibleTo(db.db, viewerId, [row.account_id], 'photo')).has(row.account_id)) return null;
      return pickProfileRendition((JSON.parse(row.photo) as StoredProfilePhoto).renditions, size, accept);
    },
  };
}

export type Profiles = ReturnType<typeof createProfiles>;
