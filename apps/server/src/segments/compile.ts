/**
 * Compiles a checked rule (rules.ts) to a Kysely boolean expression over `contacts`, for both
 * SQLite and PostgreSQL: every condition is an indexed EXISTS or a column comparison, so counting
 * and paging an audience is one query and nothing is evaluated per contact in JavaScript.
 *
 * Reads the contacts capability's tables as its schema.ts documents them (read-only):
 * contact_tags (business_id, tag), contact_attributes (EAV: text_value / num_value, dates as that
 * day's UTC ms, booleans 0/1), consent_state (business_id, account_id, purpose, state) and the
 * activity columns on contacts.
 */
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { DB } from '../schema.ts';
import type { RuleNode } from './rules.ts';

type Eb = ExpressionBuilder<DB, 'contacts'>;

const DAY = 86_400_000;

/** Which contacts column holds the time of each kind of activity. */
const COMPARISON = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

const ACTIVITY_COLUMN = { read: 'contacts.last_read_at', reply: 'contacts.last_inbound_at', click: 'contacts.last_clicked_at' } as const;

/** LIKE pattern for `text` taken literally (% _ and \ escaped; ESCAPE '\' on both databases). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The rule as a WHERE expression on `contacts`; `now` anchors "within the last N days". */
export function compileRule(node: RuleNode, now: number): (eb: Eb) => Expression<SqlBool> {
  return (eb) => build(eb, node, now);
}

function build(eb: Eb, node: RuleNode, now: number): Expression<SqlBool> {
  switch (node.kind) {
    case 'all':
      return eb.and(node.children.map((c) => build(eb, c, now)));
    case 'any':
      return eb.or(node.children.map((c) => build(eb, c, now)));
    case 'not':
      return eb.not(build(eb, node.child, now));
    case 'tag':
      return eb.exists(
        eb
          .selectFrom('contact_tags as t')
          .select(sql.lit(1).as('one'))
          .whereRef('t.contact_id', '=', 'contacts.id')
          .where('t.tag', node.tags.length === 1 ? '=' : 'in', node.tags.length === 1 ? node.tags[0]! : node.tags),
      );
    case 'attribute': {
      const column = `a.${node.column}` as const;
      let sub = eb
        .selectFrom('contact_attributes as a')
        .select(sql.lit(1).as('one'))
        .whereRef('a.contact_id', '=', 'contacts.id')
        .where('a.key', '=', node.key);
      const [first, second] = node.values;
      const op = node.op;
      if (op === 'between') sub = sub.where(column, '>=', first!).where(column, '<=', second!);
      else if (op === 'in') sub = sub.where(column, 'in', node.values);
      else if (op === 'contains' || op === 'starts_with') {
        // lower() on both sides: SQLite's LIKE ignores ASCII case and PostgreSQL's does not.
        const text = likeLiteral(String(first).toLowerCase());
        const pattern = op === 'contains' ? `%${text}%` : `${text}%`;
        sub = sub.where(sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`);
      } else if (op !== 'exists') sub = sub.where(column, COMPARISON[op], first!);
      return eb.exists(sub);
    }
    case 'consent': {
      const states = eb
        .selectFrom('consent_state as s')
        .select(sql.lit(1).as('one'))
        .whereRef('s.business_id', '=', 'contacts.business_id')
        .whereRef('s.account_id', '=', 'contacts.account_id')
        .where('s.purpose', '=', node.purpose);
      if (node.state === 'none') return eb.not(eb.exists(states));
      return eb.exists(states.where('s.state', '=', node.state));
    }
    // A NULL column must make a condition false, not unknown: NOT(unknown) is unknown too, so
    // `not: {time_zone: …}` would drop contacts without a zone. Each column test says IS NOT NULL.
    case 'locale': {
      const parts: Expression<SqlBool>[] = [];
      if (node.exact.length > 0) parts.push(eb('contacts.locale', 'in', node.exact));
      for (const language of node.languages) {
        parts.push(eb('contacts.locale', '=', language));
        parts.push(eb('contacts.locale', 'like', `${language}-%`));
      }
      return eb.and([eb('contacts.locale', 'is not', null), eb.or(parts)]);
    }
    case 'time_zone':
      return eb.and([eb('contacts.time_zone', 'is not', null), eb('contacts.time_zone', 'in', node.zones)]);
    case 'activity': {
      const column = ACTIVITY_COLUMN[node.activity];
      const since = now - node.days * DAY;
      if (node.op === 'ever') return eb(column, 'is not', null);
      if (node.op === 'never') return eb(column, 'is', null);
      return eb.and([eb(column, 'is not', null), eb(column, node.op === 'within_days' ? '>=' : '<', since)]);
    }
  }
  const never: never = node;
  throw new Error(`unknown rule node ${JSON.stringify(never)}`);
}
