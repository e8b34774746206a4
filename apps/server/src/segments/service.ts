/**
 * Segments: a business's saved rules, their live counts, and the paged audience campaigns read.
 * A rule is checked against the business's attribute definitions when saved and again whenever it
 * is used (a definition may have changed since), then compiled to one SQL query (compile.ts).
 */
import { randomBytes } from 'node:crypto';
import { MAX_SEGMENTS, type Segment, type SegmentRule } from '@mmd/contracts';
import type { BusinessActor } from '../business/index.ts';
import { AppError, notFound } from '../errors.ts';
import type { Database } from '../platform/db/index.ts';
import { compileRule } from './compile.ts';
import { type AttributeTypeName, type RuleNode, checkRule } from './rules.ts';
import type { SegmentsTable } from './schema.ts';

export interface SegmentsDeps {
  db: Database;
  clock: () => number;
  /** The business's attribute definitions (the contacts capability's). */
  attributeTypes: (businessId: string) => Promise<ReadonlyMap<string, AttributeTypeName>>;
}

/** One contact of an audience page, with what a campaign planner needs to schedule it. */
export interface AudienceMember {
  contactId: string;
  accountId: string;
  locale: string | null;
  timeZone: string | null;
}

export interface AudiencePage {
  contacts: AudienceMember[];
  /** Pass as `afterContactId` for the next page; null when this was the last. */
  next: string | null;
}

/**
 * Most contacts one audience page returns: the campaign planner's page, written in one
 * transaction (20,000 narrow rows hold SQLite's writer a few hundred milliseconds).
 */
export const MAX_AUDIENCE_PAGE = 20_000;

function toSegment(row: SegmentsTable): Segment {
  return { id: row.id, name: row.name, description: row.description, rule: JSON.parse(row.rule) as SegmentRule, created_at: Number(row.created_at), updated_at: Number(row.updated_at) };
}

export function createSegments(deps: SegmentsDeps) {
  const { db, clock } = deps;

  async function compile(businessId: string, rule: unknown): Promise<RuleNode> {
    return checkRule(rule, { attributes: await deps.attributeTypes(businessId) });
  }

  async function row(businessId: string, id: string): Promise<SegmentsTable> {
    const found = await db.db.selectFrom('segments').selectAll().where('business_id', '=', businessId).where('id', '=', id).executeTakeFirst();
    if (!found) throw notFound('segment');
    return found;
  }

  /** A saved rule, checked again against today's definitions. */
  async function savedRule(businessId: string, id: string): Promise<RuleNode> {
    const saved = await row(businessId, id);
    try {
      return await compile(businessId, JSON.parse(saved.rule));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_segment') throw new AppError('invalid_segment', `segment "${saved.name}" no longer holds: ${err.message}`, err.extra);
      throw err;
    }
  }

  /** The business's live contacts matching `node`. */
  function matching(businessId: string, node: RuleNode, now: number) {
    return db.db.selectFrom('contacts').where('contacts.business_id', '=', businessId).where('contacts.erased_at', 'is', null).where(compileRule(node, now));
  }

  async function countOf(businessId: string, node: RuleNode) {
    const now = clock();
    const result = await matching(businessId, node, now)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return { count: Number(result.n), counted_at: now };
  }

  return {
    async list(actor: BusinessActor): Promise<Segment[]> {
      const rows = await db.db.selectFrom('segments').selectAll().where('business_id', '=', actor.businessId).orderBy('name').orderBy('id').execute();
      return rows.map(toSegment);
    },

    async get(actor: BusinessActor, id: string): Promise<Segment> {
      return toSegment(await row(actor.businessId, id));
    },

    async create(actor: BusinessActor, body: { name: string; description?: string | null; rule: unknown }): Promise<Segment> {
      await compile(actor.businessId, body.rule);
      const now = clock();
      const record: SegmentsTable = {
        id: `seg_${randomBytes(12).toString('base64url')}`,
        business_id: actor.businessId,
        name: body.name.trim(),
        description: body.description ?? null,
        rule: JSON.stringify(body.rule),
        created_by: actor.accountId,
        created_at: now,
        updated_at: now,
      };
      await db.writeTransaction(async (tx) => {
        const { n } = await tx
          .selectFrom('segments')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('business_id', '=', actor.businessId)
          .executeTakeFirstOrThrow();
        if (Number(n) >= MAX_SEGMENTS) throw new AppError('limit_reached', `a business keeps at most ${MAX_SEGMENTS} segments`);
        await tx.insertInto('segments').values(record).execute();
      });
      return toSegment(record);
    },

    async update(actor: BusinessActor, id: string, body: { name?: string; description?: string | null; rule?: unknown }): Promise<Segment> {
      const current = await row(actor.businessId, id);
      if (body.rule !== undefined) await compile(actor.businessId, body.rule);
      const changes = {
        name: body.name?.trim() ?? current.name,
        description: body.description === undefined ? current.description : body.description,
        rule: body.rule === undefined ? current.rule : JSON.stringify(body.rule),
        updated_at: clock(),
      };
      await db.db.updateTable('segments').set(changes).where('business_id', '=', actor.businessId).where('id', '=', id).execute();
      return toSegment({ ...current, ...changes });
    },

    async remove(actor: BusinessActor, id: string): Promise<void> {
      const result = await db.db.deleteFrom('segments').where('business_id', '=', actor.businessId).where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound('segment');
    },

    /** How many contacts an unsaved rule matches now (the console's rule builder). */
    async count(actor: BusinessActor, rule: unknown) {
      return countOf(actor.businessId, await compile(actor.businessId, rule));
    },

    async countSaved(actor: BusinessActor, id: string) {
      return countOf(actor.businessId, await savedRule(actor.businessId, id));
    },

    /**
     * One page of a segment's audience (or of an unsaved rule's), in contact id order after
     * `afterContactId`. Campaigns walk a million contacts this way, one page in memory at a time;
     * contacts added behind the cursor while walking are not visited (the walk is not a snapshot).
     */
    async audiencePage(options: { businessId: string; segmentId?: string; rule?: SegmentRule; afterContactId?: string | null; limit?: number }): Promise<AudiencePage> {
      const limit = Math.max(1, Math.min(MAX_AUDIENCE_PAGE, options.limit ?? 1000));
      let node: RuleNode;
      if (options.segmentId !== undefined) node = await savedRule(options.businessId, options.segmentId);
      else if (options.rule !== undefined) node = await compile(options.businessId, options.rule);
      else throw new AppError('validation_failed', 'an audience is a segment or a rule');
      let query = matching(options.businessId, node, clock())
        .select(['contacts.id', 'contacts.account_id', 'contacts.locale', 'contacts.time_zone'])
        .orderBy('contacts.id')
        .limit(limit);
      if (options.afterContactId) query = query.where('contacts.id', '>', options.afterContactId);
      const rows = await query.execute();
      return {
        contacts: rows.map((r) => ({ contactId: r.id, accountId: r.account_id, locale: r.locale, timeZone: r.time_zone })),
        next: rows.length === limit ? rows[rows.length - 1]!.id : null,
      };
    },

    /** Checks a rule for a business without running it; throws invalid_segment. */
    async check(businessId: string, rule: unknown): Promise<void> {
      await compile(businessId, rule);
    },
  };
}

export type Segments = ReturnType<typeof createSegments>;
