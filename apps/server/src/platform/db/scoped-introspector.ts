/**
 * PostgreSQL introspection limited to one schema. Kysely's own introspector lists every schema's
 * tables and calls `pg_get_serial_sequence` with each table's *name*; when another tenant of the
 * database drops a schema or table during that listing, the name no longer resolves and the query
 * fails (42P01 or 3F000) — which failed our start-up whenever another MMD instance or test dropped
 * its schema at that moment. The migrator only asks whether its bookkeeping tables exist, so we
 * read our own schema's tables, by OID only.
 */
import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Driver,
  type Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  type SchemaMetadata,
  type TableMetadata,
  sql,
} from 'kysely';
import type pg from 'pg';
import { StatementsPostgresDriver } from './postgres-driver.ts';

interface ColumnRow {
  table: string;
  table_type: string;
  column: string | null;
  type: string | null;
  type_schema: string | null;
  not_null: boolean | null;
  has_default: boolean | null;
  default_expr: string | null;
  column_description: string | null;
}

export class SchemaScopedIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<unknown>,
    private readonly schema: string,
  ) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const rows = await sql<{ nspname: string }>`select nspname from pg_catalog.pg_namespace`.execute(this.db);
    return rows.rows.map((r) => ({ name: r.nspname }));
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    // Tables of our schema with their columns; every function here takes OIDs, never names.
    const rows = await sql<ColumnRow>`
      select c.relname as "table", c.relkind as table_type, a.attname as "column",
             typ.typname as type, dtns.nspname as type_schema, a.attnotnull as not_null,
             a.atthasdef as has_default, pg_get_expr(ad.adbin, ad.adrelid) as default_expr,
             col_description(c.oid, a.attnum) as column_description
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
        left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        left join pg_catalog.pg_type typ on typ.oid = a.atttypid
        left join pg_catalog.pg_namespace dtns on dtns.oid = typ.typnamespace
        left join pg_catalog.pg_attrdef ad on ad.adrelid = c.oid and ad.adnum = a.attnum
       where ns.nspname = ${this.schema} and c.relkind in ('r', 'v', 'p')
       order by c.relname, a.attnum`.execute(this.db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const row of rows.rows) {
      if (!options.withInternalKyselyTables && row.table.startsWith('kysely_migration')) continue;
      let table = tables.get(row.table);
      if (!table) {
        table = { name: row.table, schema: this.schema, isView: row.table_type === 'v', columns: [] };
        tables.set(row.table, table);
      }
      if (row.column === null) continue;
      table.columns.push({
        name: row.column,
        dataType: row.type ?? '',
        dataTypeSchema: row.type_schema ?? undefined,
        isNullable: !row.not_null,
        hasDefaultValue: Boolean(row.has_default),
        isAutoIncrementing: (row.default_expr ?? '').startsWith('nextval('),
        comment: row.column_description ?? undefined,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/**
 * Kysely's PostgreSQL dialect with introspection limited to `schema`, over MMD's driver
 * (postgres-driver.ts: named statements for prepared queries, statements sent with BEGIN).
 */
export class SchemaScopedPostgresDialect extends PostgresDialect {
  private readonly pool: pg.Pool;
  constructor(
    config: PostgresDialectConfig & { pool: pg.Pool },
    private readonly schema: string,
  ) {
    super(config);
    this.pool = config.pool;
  }

  override createDriver(): Driver {
    return new StatementsPostgresDriver(this.pool);
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SchemaScopedIntrospector(db, this.schema);
  }
}
