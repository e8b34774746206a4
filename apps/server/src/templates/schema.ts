/**
 * The tables the templates capability owns (Kysely types). Times are Unix milliseconds.
 *
 * A template is a name and a purpose; its content lives in versions. A version is written once:
 * a change is a new draft version, approval stamps a draft and never edits its content, so a
 * campaign that names a version sends exactly what was approved. Personalised renders are cached
 * by content hash (one media item per distinct render); clicks on tracked links are rows of their own.
 */

export interface TemplatesTable {
  id: string;
  business_id: string;
  name: string;
  purpose: string;
  /** active | archived (archived templates are kept: campaigns may still name their versions). */
  status: string;
  /** The highest version number written. */
  latest_number: number;
  /** The newest approved version, or null before the first approval. */
  approved_version_id: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}

export interface TemplateVersionsTable {
  id: string;
  template_id: string;
  business_id: string;
  number: number;
  /** draft | approved */
  state: string;
  default_locale: string;
  /** VariableDecl[], JSON. */
  variables: string;
  /** Record<locale, TemplateContent>, JSON. */
  variants: string;
  created_by: string;
  created_at: number;
  approved_by: string | null;
  approved_at: number | null;
}

export interface TemplateRendersTable {
  /** SHA-256 (hex) of the canonical layer spec and the base media's content hash. */
  cache_key: string;
  business_id: string;
  media_id: string;
  /** image | video */
  kind: string;
  created_at: number;
}

export interface TemplateClicksTable {
  id: string;
  business_id: string;
  template_id: string;
  version_id: string;
  /** The button's place in the version: b{row}.{col} or c{card}.{button}. */
  button: string;
  locale: string;
  contact_id: string | null;
  /** Who sent the link: a campaign id, a notification, 'preview'. */
  context: string | null;
  clicked_at: number;
}

export interface TemplatesTables {
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  template_renders: TemplateRendersTable;
  template_clicks: TemplateClicksTable;
}
