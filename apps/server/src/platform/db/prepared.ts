/**
 * Queries built and compiled by Kysely once per database, then run with each call's values.
 *
 * Kysely builds a tree of frozen nodes for every query and compiles it to SQL on every call: on
 * the send path (a dozen statements a message) that was about a sixth of the server's busy CPU
 * (bench:messaging profile, docs/benchmarks.md). A query whose shape never changes — the same SQL
 * whatever the values — need not be rebuilt: `preparedQuery` builds it the first time with a
 * placeholder for each parameter, remembers where each placeholder landed among the compiled
 * query's parameters, and afterwards only swaps the values in. The SQL text is the dialect's own
 * (compiled by the database's Kysely), so callers stay dialect-blind; on SQLite the statement
 * itself is then prepared once too (index.ts keeps prepared statements by SQL text).
 *
 * The builder must use each parameter only as a value bound into the query — never in its own
 * logic (`p.x ? a : b`), inside a larger value (`${p.x}%`), or as a list (`in`): those would
 * change the SQL with the value. The first compile checks that every parameter read landed, whole,
 * among the compiled parameters, and throws otherwise; a list cannot be told from one value there,
 * so `in` takes no parameter of a prepared query.
 *
 * On PostgreSQL the driver (postgres-driver.ts) runs these queries as named prepared statements,
 * named by `statementName`: parsed and planned once per connection instead of on every call.
 */
import { createHash } from 'node:crypto';
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: any table set; only its executor is read
type Executor = Kysely<any>;

interface Compiled {
  sql: string;
  query: CompiledQuery['query'];
  queryId: CompiledQuery['queryId'];
  /** Per compiled parameter: the name of the caller's parameter, or a constant of the builder's. */
  slots: ({ param: string } | { constant: unknown })[];
}

const PLACEHOLDER = '\u0000mmd-param:';

/** The statement name of each prepared query's compiled form (keyed by its queryId, which Kysely passes to the driver unchanged). */
const names = new WeakMap<object, string>();

/**
 * The name under which a driver may keep `query` prepared on its connection: set for queries of
 * `preparedQuery` (their SQL text never changes), undefined for any other. Fixed by the SQL text,
 * so two databases or two builders with the same text share it, as they may.
 */
export function statementName(query: Pick<CompiledQuery, 'queryId'>): string | undefined {
  return names.get(query.queryId);
}

/**
 * A query of fixed shape, compiled once per database and run with `params` on `executor` (a
 * database handle or a transaction of it). Answers Kysely's `QueryResult`: `rows`, and for writes
 * `numAffectedRows`.
 */
export function preparedQuery<DB, P extends Record<string, unknown>, O>(build: (db: Kysely<DB>, p: P) => Compilable<O>) {
  // One compile per database: the adapter is one per Kysely instance and shared by its transactions.
  const compiled = new WeakMap<object, Compiled>();
  return async function run(executor: Kysely<DB>, params: P): Promise<QueryResult<O>> {
    const adapter = (executor as unknown as Executor).getExecutor().adapter;
    let c = compiled.get(adapter);
    if (!c) {
      c = compile(executor, build);
      compiled.set(adapter, c);
    }
    const parameters = c.slots.map((s) => ('param' in s ? params[s.param] : s.constant));
    return executor.executeQuery<O>({ sql: c.sql, parameters, query: c.query, queryId: c.queryId } as CompiledQuery<O>);
  };
}

function compile<DB, P, O>(executor: Kysely<DB>, build: (db: Kysely<DB>, p: P) => Compilable<O>): Compiled {
  const read = new Set<string>();
  const placeholders = new Proxy({} as Record<string, string>, {
    get(_, key) {
      if (typeof key !== 'string') return undefined;
      read.add(key);
      return `${PLACEHOLDER}${key}`;
    },
  }) as unknown as P;
  const query = build(executor, placeholders).compile();
  const landed = new Set<string>();
  const slots = query.parameters.map((value) => {
    if (typeof value === 'string' && value.includes(PLACEHOLDER)) {
      if (!value.startsWith(PLACEHOLDER) || !read.has(value.slice(PLACEHOLDER.length))) {
        throw new Error(`preparedQuery: a parameter was used inside a larger value (${JSON.stringify(value)}); bind it whole`);
      }
      const param = value.slice(PLACEHOLDER.length);
      landed.add(param);
      return { param };
    }
    return { constant: value };
  });
  if (query.sql.includes(PLACEHOLDER)) throw new Error('preparedQuery: a parameter landed in the SQL text; bind it as a value');
  for (const key of read) {
    if (!landed.has(key)) throw new Error(`preparedQuery: parameter ${key} shapes the query instead of being bound; it cannot be prepared`);
  }
  names.set(query.queryId, `mmd_${createHash('sha256').update(query.sql).digest('hex').slice(0, 24)}`);
  return { sql: query.sql, query: query.query, queryId: query.queryId, slots };
}
