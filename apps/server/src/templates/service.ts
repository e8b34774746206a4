/**
 * Templates of a business: create, list, read, change (a new draft version each time), approve,
 * archive, preview; and what campaigns and notifications need per recipient — the approved
 * version (cached: an approved version never changes), tracked links, personalised media — plus
 * following a tracked link (record the click, then redirect).
 */
import { randomBytes } from 'node:crypto';
import type {
  ApproveTemplateBody,
  CreateMessageTemplateBody,
  MessageTemplate,
  MessageTemplateList,
  PreviewTemplateBody,
  TemplatePreview,
  TemplateVersion as TemplateVersionView,
  UpdateMessageTemplateBody,
} from '@mmd/contracts';
import type { FastifyBaseLogger } from 'fastify';
import type { BusinessActor } from '../business/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { loadMedia } from '../media/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import { OutboundError, checkOutboundUrl } from '../platform/outbound.ts';
import type { TemplateVersionsTable, TemplatesTable } from './schema.ts';
import { type LinkSigner, targetOf } from './links.ts';
import type { Personaliser } from './personalise.ts';
import { type LinkMaker, type RenderInput, type RenderResult, type TemplateContent, type TemplatePurpose, type TemplateVersion, checkVersion, renderTemplate, variablesNeeded } from './render.ts';
import type { TemplateContact, VariableDecl, VariableValue } from './variables.ts';

/** How long a preview waits for a personalised render to go through the media ladder. */
const PREVIEW_MEDIA_WAIT_MS = 20_000;
/** A list page's `after`: the name and id of the last template it showed. */
function decodeListCursor(cursor: string): [string, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string' || !parsed[1].startsWith('tpl_')) {
    throw new AppError('validation_failed', 'this cursor is not one this API gave', { errors: [{ path: '/after', message: 'unknown cursor' }] });
  }
  return [parsed[0], parsed[1]];
}

/** Most active templates per business. */
export const MAX_TEMPLATES = 500;

export interface TemplatesDeps {
  db: Database;
  clock: () => number;
  log: FastifyBaseLogger;
  personaliser: Personaliser;
  links: LinkSigner;
  /** The https origin people reach this server at; empty: no tracked links. */
  publicUrl: string;
  outboundAllowPrivate: boolean;
  /** The business's default locale and time zone (business.settings). */
  settings: (businessId: string) => Promise<{ default_locale: string; default_time_zone: string }>;
  /** A contact of the business, for previews (contacts capability), or null. */
  contactOf: (businessId: string, contactId: string) => Promise<TemplateContact | null>;
  /** A signed link to a ready media item of the business (`rendition`: preview for images, mp4 for video). */
  mediaUrl: (mediaId: string, viewerId: string, rendition: string) => string;
}

/** A followed link: who clicked what, for campaigns' "clicked" status. */
export interface TemplateClick {
  businessId: string;
  templateId: string;
  versionId: string;
  button: string;
  contactId: string | null;
  context: string | null;
  at: number;
}

const versionId = () => `tpv_${randomBytes(12).toString('base64url')}`;
const clickId = () => `tck_${randomBytes(12).toString('base64url')}`;

function toVersion(row: TemplateVersionsTable, purpose: TemplatePurpose): TemplateVersion {
  return {
    id: row.id,
    template_id: row.template_id,
    number: Number(row.number),
    state: row.state as 'draft' | 'approved',
    purpose,
    default_locale: row.default_locale,
    variables: JSON.parse(row.variables) as VariableDecl[],
    variants: JSON.parse(row.variants) as Record<string, TemplateContent>,
  };
}

function versionView(row: TemplateVersionsTable): TemplateVersionView {
  return {
    id: row.id,
    number: Number(row.number),
    state: row.state as 'draft' | 'approved',
    default_locale: row.default_locale,
    variables: JSON.parse(row.variables),
    variants: JSON.parse(row.variants),
    created_by: row.created_by,
    created_at: Number(row.created_at),
    approved_by: row.approved_by,
    approved_at: row.approved_at === null ? null : Number(row.approved_at),
  };
}

/** Every media item a version names (headers, cards, personalised bases and image layers), with its path. */
function mediaNamed(variants: Record<string, TemplateContent>): { path: string; id: string; as: 'header' | 'card' | 'base' | 'layer' }[] {
  const out: { path: string; id: string; as: 'header' | 'card' | 'base' | 'layer' }[] = [];
  for (const [locale, c] of Object.entries(variants)) {
    if (c.header?.media_id) out.push({ path: `/variants/${locale}/header/media_id`, id: c.header.media_id, as: 'header' });
    const p = c.header?.personalised;
    if (p) {
      out.push({ path: `/variants/${locale}/header/personalised/base_media_id`, id: p.base_media_id, as: 'base' });
      p.layers.forEach((l, i) => {
        if (l.type === 'image' && l.media_id) out.push({ path: `/variants/${locale}/header/personalised/layers/${i}/media_id`, id: l.media_id, as: 'layer' });
      });
    }
    (c.cards ?? []).forEach((card, i) => {
      if (card.media_id) out.push({ path: `/variants/${locale}/cards/${i}/media_id`, id: card.media_id, as: 'card' });
    });
  }
  return out;
}

/** Shapes a schema leaves open: each button and layer type's own fields, and one kind of header. */
function checkShapes(variants: Record<string, TemplateContent>) {
  const errors: { path: string; message: string }[] = [];
  for (const [locale, c] of Object.entries(variants)) {
    const base = `/variants/${locale}`;
    if (c.header && (c.header.media_id === undefined) === (c.header.personalised === undefined)) errors.push({ path: `${base}/header`, message: 'one of media_id or personalised' });
    const buttons = [...(c.buttons ?? []).flatMap((row, r) => row.map((b, i) => ({ b, path: `${base}/buttons/${r}/${i}` }))), ...(c.cards ?? []).flatMap((card, k) => (card.buttons ?? []).map((b, i) => ({ b, path: `${base}/cards/${k}/buttons/${i}` })))];
    const need: Record<string, string | null> = { url: 'url', call: 'phone', callback: 'data', copy: 'copy_text', reply: null };
    for (const { b, path } of buttons) {
      const field = need[b.type];
      const raw = b as unknown as Record<string, unknown>;
      if (field && (raw[field] === undefined || raw[field] === '')) errors.push({ path: `${path}/${field}`, message: `a ${b.type} button needs ${field}` });
      for (const f of ['url', 'phone', 'data', 'copy_text', 'track']) {
        if (raw[f] !== undefined && f !== field && !(f === 'track' && b.type === 'url')) errors.push({ path: `${path}/${f}`, message: `not allowed on a ${b.type} button` });
      }
    }
    (c.header?.personalised?.layers ?? []).forEach((l, i) => {
      const path = `${base}/header/personalised/layers/${i}`;
      const raw = l as unknown as Record<string, unknown>;
      const wanted = l.type === 'text' ? ['text', 'font_size'] : ['width', 'height'];
      for (const f of wanted) if (raw[f] === undefined) errors.push({ path: `${path}/${f}`, message: `a ${l.type} layer needs ${f}` });
      const foreign = l.type === 'text' ? ['media_id', 'url', 'width', 'height', 'fit'] : ['text', 'font_size', 'color', 'max_width', 'max_lines', 'align', 'bold'];
      for (const f of foreign) if (raw[f] !== undefined) errors.push({ path: `${path}/${f}`, message: `not allowed on a ${l.type} layer` });
    });
  }
  if (errors.length > 0) throw new AppError('validation_failed', errors.map((e) => `${e.path} ${e.message}`).join('; '), { errors });
}

export function createTemplates(deps: TemplatesDeps) {
  const { db, clock } = deps;
  // Approved versions never change: a campaign's million renders read one from memory.
  const approvedCache = new Map<string, { version: TemplateVersion; businessId: string }>();
  const clickListeners: ((click: TemplateClick) => void | Promise<void>)[] = [];

  async function templateRow(businessId: string, id: string, tx: Database['db'] | Tx = db.db): Promise<TemplatesTable> {
    const row = await tx.selectFrom('templates').selectAll().where('id', '=', id).where('business_id', '=', businessId).executeTakeFirst();
    if (!row) throw notFound('template');
    return row;
  }

  async function versionRow(templateId: string, number: number, tx: Database['db'] | Tx = db.db): Promise<TemplateVersionsTable> {
    const row = await tx.selectFrom('template_versions').selectAll().where('template_id', '=', templateId).where('number', '=', number).executeTakeFirst();
    if (!row) throw notFound('template version');
    return row;
  }

  async function view(row: TemplatesTable): Promise<MessageTemplate> {
    const latest = await versionRow(row.id, Number(row.latest_number));
    const approved = row.approved_version_id ? await db.db.selectFrom('template_versions').selectAll().where('id', '=', row.approved_version_id).executeTakeFirst() : undefined;
    return {
      id: row.id,
      name: row.name,
      purpose: row.purpose as TemplatePurpose,
      status: row.status as 'active' | 'archived',
      created_at: Number(row.created_at),
      updated_at: Number(row.updated_at),
      approved_version: approved ? versionView(approved) : null,
      latest_version: versionView(latest),
    };
  }

  /** What only the database knows: media items are the business's own, layer URLs reach public hosts. */
  async function checkReferences(businessId: string, variants: Record<string, TemplateContent>) {
    const errors: { path: string; message: string }[] = [];
    for (const ref of mediaNamed(variants)) {
      const row = await loadMedia(db.db, ref.id);
      if (!row || row.owner_id !== businessId || row.status === 'removed') errors.push({ path: ref.path, message: `${ref.id} is not a media item of this business (upload it as the business)` });
      else if (row.status === 'failed') errors.push({ path: ref.path, message: `${ref.id} failed processing` });
      else if ((ref.as === 'base' || ref.as === 'header') && row.kind !== null && row.kind !== 'image' && row.kind !== 'video') errors.push({ path: ref.path, message: `${ref.id} is ${row.kind}: an image or a video is needed` });
      else if (ref.as === 'layer' && row.kind !== null && row.kind !== 'image') errors.push({ path: ref.path, message: `${ref.id} is not an image` });
    }
    for (const [locale, c] of Object.entries(variants)) {
      for (const [i, l] of (c.header?.personalised?.layers ?? []).entries()) {
        if (l.type !== 'image' || l.url === undefined) continue;
        const path = `/variants/${locale}/header/personalised/layers/${i}/url`;
        // The host is fixed (variables only fill the path): check now that it is a public address.
        try {
          await checkOutboundUrl(l.url.replace(/\{\{[^}]*\}\}/g, 'x'), { allowPrivate: deps.outboundAllowPrivate });
        } catch (err) {
          if (!(err instanceof OutboundError)) throw err;
          errors.push({ path, message: err.code === 'blocked_address' ? 'the URL points at a private or reserved address' : err.message });
        }
      }
    }
    if (errors.length > 0) throw new AppError('validation_failed', errors.map((e) => `${e.path} ${e.message}`).join('; '), { errors });
  }

  async function prepare(businessId: string, input: { default_locale: string; variables: VariableDecl[]; variants: Record<string, TemplateContent> }) {
    checkShapes(input.variants);
    const checked = checkVersion(input);
    await checkReferences(businessId, checked.variants);
    return checked;
  }

  async function nameTaken(tx: Tx, businessId: string, name: string, except: string | null) {
    let q = tx.selectFrom('templates').select('id').where('business_id', '=', businessId).where('status', '=', 'active').where('name', '=', name);
    if (except) q = q.where('id', '!=', except);
    if (await q.executeTakeFirst()) throw new AppError('conflict', `a template named "${name}" exists`);
  }

  async function loadVersion(businessId: string, id: string): Promise<TemplateVersion | null> {
    const cached = approvedCache.get(id);
    if (cached) return cached.businessId === businessId ? cached.version : null;
    const row = await db.db.selectFrom('template_versions').selectAll().where('id', '=', id).where('business_id', '=', businessId).executeTakeFirst();
    if (!row) return null;
    const template = await templateRow(businessId, row.template_id);
    const version = toVersion(row, template.purpose as TemplatePurpose);
    if (version.state === 'approved') {
      if (approvedCache.size > 1000) approvedCache.delete(approvedCache.keys().next().value!);
      approvedCache.set(id, { version, businessId });
    }
    return version;
  }

  const links = (context: string | null): LinkMaker | undefined => deps.links.maker(deps.publicUrl, context);

  // A campaign renders for thousands of recipients a second: the business's defaults are read
  // once a few seconds, not once per recipient (a settings change shows within SETTINGS_TTL_MS).
  const SETTINGS_TTL_MS = 5000;
  const settingsCache = new Map<string, { at: number; value: Promise<{ default_locale: string; default_time_zone: string }> }>();
  function defaultsOf(businessId: string) {
    const hit = settingsCache.get(businessId);
    if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.value;
    if (settingsCache.size > 1000) settingsCache.clear();
    const value = deps.settings(businessId);
    settingsCache.set(businessId, { at: Date.now(), value });
    value.catch(() => settingsCache.delete(businessId));
    return value;
  }

  async function renderWithMedia(businessId: string, input: RenderInput): Promise<RenderResult> {
    const result = renderTemplate(input);
    if (!result.ok || !result.media_spec) return result;
    const rendered = await deps.personaliser.personalise(businessId, result.media_spec);
    if (!rendered.ok) return { ok: false, code: 'invalid_content', reason: rendered.reason };
    return { ok: true, locale: result.locale, message: { ...result.message, media: [rendered.mediaId] } };
  }

  async function waitReady(mediaId: string) {
    const deadline = Date.now() + PREVIEW_MEDIA_WAIT_MS;
    for (;;) {
      const row = await loadMedia(db.db, mediaId);
      if (row?.status !== 'processing' || Date.now() > deadline) return row;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    async list(actor: BusinessActor, options: { includeArchived?: boolean; limit?: number; after?: string } = {}): Promise<MessageTemplateList> {
      const limit = Math.min(MAX_TEMPLATES, Math.max(1, options.limit ?? MAX_TEMPLATES));
      let q = db.db
        .selectFrom('templates as t')
        .leftJoin('template_versions as v', (j) => j.onRef('v.template_id', '=', 't.id').onRef('v.number', '=', 't.latest_number'))
        .leftJoin('template_versions as a', 'a.id', 't.approved_version_id')
        .select(['t.id', 't.name', 't.purpose', 't.status', 't.latest_number', 't.approved_version_id', 't.updated_at', 'v.variants as latest_variants', 'a.number as approved_number'])
        .where('t.business_id', '=', actor.businessId);
      if (!options.includeArchived) q = q.where('t.status', '=', 'active');
      if (options.after !== undefined) {
        const [name, id] = decodeListCursor(options.after);
        q = q.where((eb) => eb.or([eb('t.name', '>', name), eb.and([eb('t.name', '=', name), eb('t.id', '>', id)])]));
      }
      const rows = await q.orderBy('t.name').orderBy('t.id').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        templates: page.map((r) => ({
          id: r.id,
          name: r.name,
          purpose: r.purpose as TemplatePurpose,
          status: r.status as 'active' | 'archived',
          latest_number: Number(r.latest_number),
          approved_number: r.approved_version_id && r.approved_number !== null ? Number(r.approved_number) : null,
          locales: r.latest_variants ? Object.keys(JSON.parse(r.latest_variants) as object).sort() : [],
          updated_at: Number(r.updated_at),
        })),
        next: rows.length > limit && last ? Buffer.from(JSON.stringify([last.name, last.id]), 'utf8').toString('base64url') : null,
      };
    },

    async create(actor: BusinessActor, body: CreateMessageTemplateBody): Promise<MessageTemplate> {
      const defaults = await deps.settings(actor.businessId);
      const checked = await prepare(actor.businessId, { default_locale: body.default_locale ?? defaults.default_locale, variables: body.variables ?? [], variants: body.variants as Record<string, TemplateContent> });
      const now = clock();
      const id = newId('tpl');
      await db.writeTransaction(async (tx) => {
        await nameTaken(tx, actor.businessId, body.name, null);
        const count = await tx.selectFrom('templates').select((eb) => eb.fn.countAll<number>().as('n')).where('business_id', '=', actor.businessId).where('status', '=', 'active').executeTakeFirst();
        if (Number(count?.n ?? 0) >= MAX_TEMPLATES) throw new AppError('limit_reached', `at most ${MAX_TEMPLATES} templates per business; archive some`);
        await tx.insertInto('templates').values({ id, business_id: actor.businessId, name: body.name, purpose: body.purpose, status: 'active', latest_number: 1, approved_version_id: null, created_by: actor.accountId, created_at: now, updated_at: now, archived_at: null }).execute();
        await tx
          .insertInto('template_versions')
          .values({ id: versionId(), template_id: id, business_id: actor.businessId, number: 1, state: 'draft', default_locale: checked.default_locale, variables: JSON.stringify(checked.variables), variants: JSON.stringify(checked.variants), created_by: actor.accountId, created_at: now, approved_by: null, approved_at: null })
          .execute();
      });
      return view(await templateRow(actor.businessId, id));
    },

    async get(actor: BusinessActor, id: string): Promise<MessageTemplate> {
      return view(await templateRow(actor.businessId, id));
    },

    /** Name and purpose change in place; any content field makes a new draft version from the newest one. */
    async update(actor: BusinessActor, id: string, body: UpdateMessageTemplateBody): Promise<MessageTemplate> {
      const template = await templateRow(actor.businessId, id);
      if (template.status === 'archived') throw new AppError('conflict', 'this template is archived');
      const contentChanged = body.default_locale !== undefined || body.variables !== undefined || body.variants !== undefined;
      let checked: Awaited<ReturnType<typeof prepare>> | null = null;
      if (contentChanged) {
        const latest = versionView(await versionRow(id, Number(template.latest_number)));
        checked = await prepare(actor.businessId, {
          default_locale: body.default_locale ?? latest.default_locale,
          variables: (body.variables ?? latest.variables) as VariableDecl[],
          variants: (body.variants ?? latest.variants) as Record<string, TemplateContent>,
        });
      }
      const now = clock();
      await db.writeTransaction(async (tx) => {
        const current = await templateRow(actor.businessId, id, tx);
        if (body.name !== undefined && body.name !== current.name) await nameTaken(tx, actor.businessId, body.name, id);
        const number = Number(current.latest_number) + (checked ? 1 : 0);
        if (checked) {
          await tx
            .insertInto('template_versions')
            .values({ id: versionId(), template_id: id, business_id: actor.businessId, number, state: 'draft', default_locale: checked.default_locale, variables: JSON.stringify(checked.variables), variants: JSON.stringify(checked.variants), created_by: actor.accountId, created_at: now, approved_by: null, approved_at: null })
            .execute();
        }
        await tx
          .updateTable('templates')
          .set({ name: body.name ?? current.name, purpose: body.purpose ?? current.purpose, latest_number: number, updated_at: now })
          .where('id', '=', id)
          .execute();
      });
      return view(await templateRow(actor.businessId, id));
    },

    /** Approves a draft (the newest by default); its content is then fixed for good. */
    async approve(actor: BusinessActor, id: string, body: ApproveTemplateBody): Promise<MessageTemplate> {
      const now = clock();
      await db.writeTransaction(async (tx) => {
        const template = await templateRow(actor.businessId, id, tx);
        if (template.status === 'archived') throw new AppError('conflict', 'this template is archived');
        const row = await versionRow(id, body.version ?? Number(template.latest_number), tx);
        if (row.state === 'approved') throw new AppError('conflict', `version ${row.number} is approved already`);
        await tx.updateTable('template_versions').set({ state: 'approved', approved_by: actor.accountId, approved_at: now }).where('id', '=', row.id).where('state', '=', 'draft').execute();
        // The template sends its newest approved version: approving an older draft does not go back.
        const current = template.approved_version_id ? await tx.selectFrom('template_versions').select('number').where('id', '=', template.approved_version_id).executeTakeFirst() : undefined;
        if (!current || Number(current.number) < Number(row.number)) await tx.updateTable('templates').set({ approved_version_id: row.id, updated_at: now }).where('id', '=', id).execute();
      });
      return view(await templateRow(actor.businessId, id));
    },

    /** Archives a template: it leaves the list and cannot be changed; versions stay for campaigns that name them. */
    async archive(actor: BusinessActor, id: string): Promise<void> {
      const template = await templateRow(actor.businessId, id);
      if (template.status === 'archived') return;
      await db.writeTransaction(async (tx) => {
        await tx.updateTable('templates').set({ status: 'archived', archived_at: clock(), updated_at: clock() }).where('id', '=', id).where('business_id', '=', actor.businessId).execute();
      });
    },

    /** The message a contact (or given variables) would get, personalised media included, drafts too. */
    async preview(actor: BusinessActor, id: string, body: PreviewTemplateBody): Promise<TemplatePreview> {
      const template = await templateRow(actor.businessId, id);
      const row = await versionRow(id, body.version ?? Number(template.latest_number));
      const version = toVersion(row, template.purpose as TemplatePurpose);
      let contact: TemplateContact = { first_name: body.first_name ?? null, locale: body.locale ?? null };
      if (body.contact_id !== undefined) {
        const found = await deps.contactOf(actor.businessId, body.contact_id);
        if (!found) throw notFound('contact');
        contact = found;
      }
      const settings = await deps.settings(actor.businessId);
      const result = renderTemplate({
        version,
        locale: body.locale ?? settings.default_locale,
        timeZone: body.time_zone ?? settings.default_time_zone,
        variables: body.variables ?? {},
        contact,
        links: links('preview'),
        allowDraft: true,
        // Whoever previews is designing the template: a layer too long is refused, not cut.
        overlongLayerText: 'refuse',
      });
      if (!result.ok) throw new AppError('template_render_failed', result.reason);
      let media: TemplatePreview['media'] = null;
      let mediaId = result.message.media?.[0] ?? null;
      let personalised = false;
      let cached = false;
      if (result.media_spec) {
        const rendered = await deps.personaliser.personalise(actor.businessId, result.media_spec, { preview: true });
        if (!rendered.ok) throw new AppError('template_render_failed', rendered.reason);
        mediaId = rendered.mediaId;
        personalised = true;
        cached = rendered.cached;
        result.message.media = [mediaId];
      }
      if (mediaId) {
        const item = personalised ? await waitReady(mediaId) : await loadMedia(db.db, mediaId);
        const ready = item?.status === 'ready';
        media = {
          id: mediaId,
          kind: (item?.kind ?? null) as 'image' | 'video' | 'audio' | 'document' | null,
          status: item?.status ?? 'removed',
          personalised,
          cached,
          url: ready ? deps.mediaUrl(mediaId, actor.businessId, item.kind === 'video' ? 'mp4' : 'preview') : null,
        };
      }
      return { version: version.number, locale: result.locale, message: result.message as TemplatePreview['message'], media };
    },

    // What campaigns and notifications call (see index.ts).

    /** A version of the business's template by id (approved ones from memory), or null. */
    version: loadVersion,

    /** The newest approved version of a template, or null when none is approved (or not the business's). */
    async approvedVersion(businessId: string, templateId: string): Promise<TemplateVersion | null> {
      const row = await db.db.selectFrom('templates').select(['approved_version_id']).where('id', '=', templateId).where('business_id', '=', businessId).executeTakeFirst();
      return row?.approved_version_id ? loadVersion(businessId, row.approved_version_id) : null;
    },

    /** Tracked links for one sender (a campaign id, 'notification:…', 'preview'); undefined when no public URL is set. */
    links,

    /**
     * renderTemplate, plus the personalised header drawn (or found in the cache) and put in
     * `message.media`. What a campaign sender calls per recipient.
     */
    render: renderWithMedia,

    /**
     * What a campaign checks before it starts: the version, whether it may be sent, and the
     * variables it needs that `given` does not name (contacts' attributes may still fill them).
     */
    async versionInfo(businessId: string, id: string, given: readonly string[]): Promise<{ versionId: string; templateId: string; number: number; approved: boolean; purpose: TemplatePurpose; unknownVariables: string[] } | null> {
      const version = await loadVersion(businessId, id);
      if (!version) return null;
      const have = new Set(given);
      return { versionId: version.id, templateId: version.template_id, number: version.number, approved: version.state === 'approved', purpose: version.purpose, unknownVariables: variablesNeeded(version).filter((n) => !have.has(n)) };
    },

    /**
     * One recipient's message from an approved version (by id): the version from memory, tracked
     * links naming `context` (a campaign id) and the contact, the personalised header drawn or
     * found in the cache. `{ ok: false, reason }` for anything about this recipient.
     */
    async renderFor(options: { businessId: string; versionId: string; contact: TemplateContact; variables?: Record<string, VariableValue>; context: string | null; locale?: string | null; timeZone?: string | null; allowDraft?: boolean }): Promise<RenderResult> {
      const version = await loadVersion(options.businessId, options.versionId);
      if (!version) return { ok: false, code: 'invalid_content', reason: `template version ${options.versionId} not found` };
      let { locale, timeZone } = options;
      if (locale === undefined || timeZone === undefined) {
        const settings = await defaultsOf(options.businessId);
        locale ??= settings.default_locale;
        timeZone ??= settings.default_time_zone;
      }
      return renderWithMedia(options.businessId, { version, contact: options.contact, variables: options.variables ?? {}, locale, timeZone, links: links(options.context), allowDraft: options.allowDraft });
    },

    /** Personalised media for a resolved spec (cached by content hash). */
    personalise: deps.personaliser.personalise,

    /** Called after each recorded click (campaigns mark the recipient clicked). */
    onClick(listener: (click: TemplateClick) => void | Promise<void>) {
      clickListeners.push(listener);
    },

    /** Clicks recorded for one sender (a campaign id), oldest first. */
    async clicks(businessId: string, context: string, options: { limit?: number } = {}) {
      const rows = await db.db
        .selectFrom('template_clicks')
        .select(['id', 'template_id', 'version_id', 'button', 'locale', 'contact_id', 'clicked_at'])
        .where('business_id', '=', businessId)
        .where('context', '=', context)
        .orderBy('clicked_at')
        .orderBy('id')
        .limit(options.limit ?? 1000)
        .execute();
      return rows.map((r) => ({ ...r, clicked_at: Number(r.clicked_at) }));
    },

    /**
     * Follows a tracked link: records the click (unless `record: false`: the caller's per-address
     * allowance is spent) and returns where to go — the button's own URL (or its dialler number),
     * never a URL from the request. Null for a token that is not ours.
     */
    async follow(token: string, options: { record?: boolean } = {}): Promise<string | null> {
      const ref = deps.links.open(token);
      if (!ref) return null;
      const row = await db.db.selectFrom('template_versions').selectAll().where('id', '=', ref.versionId).executeTakeFirst();
      if (!row) return null;
      const variants = JSON.parse(row.variants) as Record<string, TemplateContent>;
      const target = targetOf(variants[ref.locale], ref);
      if (!target) return null;
      // Links made for a preview redirect but count nothing: no campaign sent them.
      if (options.record === false || ref.context === 'preview') return target;
      const click: TemplateClick = { businessId: row.business_id, templateId: row.template_id, versionId: row.id, button: ref.button, contactId: ref.contactId, context: ref.context, at: clock() };
      await db.writeTransaction(async (tx) => {
        await tx
          .insertInto('template_clicks')
          .values({ id: clickId(), business_id: click.businessId, template_id: click.templateId, version_id: click.versionId, button: click.button, locale: ref.locale, contact_id: click.contactId, context: click.context, clicked_at: click.at })
          .execute();
      });
      for (const listener of clickListeners) {
        try {
          await listener(click);
        } catch (err) {
          deps.log.warn({ err }, 'a click listener failed');
        }
      }
      return target;
    },
  };
}

export type Templates = ReturnType<typeof createTemplates>;
