/**
 * Message templates of a business: named, versioned (every change is a new draft version; an
 * approved version never changes, and only approved versions are sent), with locale variants
 * (contact locale fr-CA → fr → the template's default locale), variables formatted with Intl in
 * the contact's locale and time zone, a media header (a media item, or a personalised image or
 * short video rendered per recipient), buttons (reply, url with per-recipient tracked links, call)
 * and the interactive parts of messages (lists, cards, polls, forms, quick replies).
 *
 * Placeholders: `{{first_name}}`, `{{first_name|there}}` (default), `{{order_date:date}}`
 * (`:date:long`, `:datetime`, `:time`), `{{total:currency:EUR}}`, `{{count:number}}`,
 * `{{share:percent}}`. A variable must be declared in `variables` unless it is a contact field
 * (first_name, last_name, display_name, handle, locale, time_zone, external_id).
 */
import { type Static, Type } from 'typebox';
import { FormInput, ListInput, PollInput, QuickRepliesInput } from './interactive.ts';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });

export const TemplatePurpose = Type.Enum(['marketing', 'transactional', 'surveys', 'service', 'events'], {
  description: 'what the template is for: campaigns check consent and frequency caps per purpose',
});
export type TemplatePurpose = Static<typeof TemplatePurpose>;

export const TemplateVariable = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,63}$' }),
    type: Type.Optional(Type.Enum(['text', 'number', 'date', 'datetime', 'currency'], { description: 'the format used when a placeholder names none (default text)' })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'currency variables: the ISO 4217 code' })),
    default: Type.Optional(Type.String({ maxLength: 200, description: 'used when a recipient has no value (a placeholder’s own |default wins)' })),
    example: Type.Optional(Type.String({ maxLength: 200, description: 'used to check lengths at save and in previews' })),
    description: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type TemplateVariable = Static<typeof TemplateVariable>;

/**
 * A button. `reply`: tapping sends its text. `url`: https only; variables may fill the path and
 * query (percent-encoded), never the host; sent as a per-recipient tracked link to MMD that
 * records the click and redirects (`track: false` sends the URL as is). `call`: a phone number in
 * international form, opened in the dialler through a tracked link. `callback` and `copy` as for
 * bots.
 */
export const TemplateButton = Type.Object(
  {
    type: Type.Enum(['reply', 'url', 'call', 'callback', 'copy']),
    text: Type.String({ minLength: 1, maxLength: 200 }),
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' })),
    url: Type.Optional(Type.String({ maxLength: 2048 })),
    track: Type.Optional(Type.Boolean({ description: 'url buttons: false sends the URL untracked (default true)' })),
    phone: Type.Optional(Type.String({ maxLength: 32, description: 'call buttons: +E.164 (stored normalised)' })),
    data: Type.Optional(Type.String({ maxLength: 200 })),
    copy_text: Type.Optional(Type.String({ maxLength: 400 })),
  },
  { additionalProperties: false },
);
export type TemplateButton = Static<typeof TemplateButton>;

/**
 * A layer of a personalised image or video, in pixels of the base media. `text`: DejaVu Sans,
 * `font_size` px, `color` #rrggbb, wrapped at `max_width` and shrunk (down to half) when a word
 * or `max_lines` does not fit. `image`: a product photo by media id (the business's own) or an
 * https URL (fetched SSRF-safely), fitted into width × height.
 */
export const TemplateLayer = Type.Object(
  {
    type: Type.Enum(['text', 'image']),
    x: Type.Integer({ minimum: -10000, maximum: 10000 }),
    y: Type.Integer({ minimum: -10000, maximum: 10000 }),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    font_size: Type.Optional(Type.Integer({ minimum: 6, maximum: 400 })),
    color: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })),
    max_width: Type.Optional(Type.Integer({ minimum: 8, maximum: 10000 })),
    max_lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    align: Type.Optional(Type.Enum(['left', 'center', 'right'])),
    bold: Type.Optional(Type.Boolean()),
    media_id: Type.Optional(Id('image layers: a media item of the business')),
    url: Type.Optional(Type.String({ maxLength: 2048, description: 'image layers: an https URL (variables may fill its path)' })),
    width: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    height: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    fit: Type.Optional(Type.Enum(['cover', 'contain'])),
  },
  { additionalProperties: false },
);
export type TemplateLayer = Static<typeof TemplateLayer>;

export const TemplateHeader = Type.Object(
  {
    media_id: Type.Optional(Id('a ready image or video of the business, sent as it is')),
    personalised: Type.Optional(
      Type.Object(
        { base_media_id: Id('the template image or short video (the business’s own)'), layers: Type.Array(TemplateLayer, { minItems: 1, maxItems: 10 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'one of media_id or personalised' },
);

export const TemplateCard = Type.Object(
  {
    media_id: Type.Optional(Id('a ready image or video of the business')),
    title: Type.String({ minLength: 1, maxLength: 400 }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    buttons: Type.Optional(Type.Array(TemplateButton, { maxItems: 4 })),
  },
  { additionalProperties: false },
);

/** The content of one locale: text, header, buttons and at most one of list, cards, poll, form. */
export const TemplateContent = Type.Object(
  {
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
    header: Type.Optional(TemplateHeader),
    buttons: Type.Optional(Type.Array(Type.Array(TemplateButton, { minItems: 1, maxItems: 8 }), { minItems: 1, maxItems: 13 })),
    quick_replies: Type.Optional(QuickRepliesInput),
    list: Type.Optional(ListInput),
    cards: Type.Optional(Type.Array(TemplateCard, { minItems: 1, maxItems: 10 })),
    poll: Type.Optional(PollInput),
    form: Type.Optional(FormInput),
  },
  { additionalProperties: false },
);
export type TemplateContent = Static<typeof TemplateContent>;

const Locale = Type.String({ minLength: 2, maxLength: 35, description: 'BCP 47, e.g. en, fr-CA' });
const Variants = Type.Record(Type.String({ minLength: 2, maxLength: 35 }), TemplateContent, { description: 'content by locale (BCP 47); the default locale needs one' });

export const TemplateVersion = Type.Object({
  id: Id('template version id'),
  number: Type.Integer({ minimum: 1 }),
  state: Type.Enum(['draft', 'approved'], { description: 'only approved versions are sent; an approved version never changes' }),
  default_locale: Locale,
  variables: Type.Array(TemplateVariable),
  variants: Variants,
  created_by: Type.String(),
  created_at: Millis,
  approved_by: Type.Union([Type.String(), Type.Null()]),
  approved_at: Type.Union([Millis, Type.Null()]),
});
export type TemplateVersion = Static<typeof TemplateVersion>;

export const MessageTemplate = Type.Object({
  id: Id('template id'),
  name: Type.String(),
  purpose: TemplatePurpose,
  status: Type.Enum(['active', 'archived']),
  created_at: Millis,
  updated_at: Millis,
  /** The newest approved version (what a campaign naming the template sends), or null. */
  approved_version: Type.Union([TemplateVersion, Type.Null()]),
  /** The newest version, approved or draft. */
  latest_version: TemplateVersion,
});
export type MessageTemplate = Static<typeof MessageTemplate>;

export const MessageTemplateSummary = Type.Object({
  id: Id('template id'),
  name: Type.String(),
  purpose: TemplatePurpose,
  status: Type.Enum(['active', 'archived']),
  latest_number: Type.Integer({ minimum: 1 }),
  approved_number: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  locales: Type.Array(Type.String(), { description: 'of the newest version' }),
  updated_at: Millis,
});
/** A page of templates by name; `next` (null on the last page) is the `after` of the next one. */
export const MessageTemplateList = Type.Object({ templates: Type.Array(MessageTemplateSummary), next: Type.Union([Type.String(), Type.Null()]) });
export type MessageTemplateList = Static<typeof MessageTemplateList>;

export const CreateMessageTemplateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    purpose: TemplatePurpose,
    default_locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, description: "default: the business's default locale" })),
    variables: Type.Optional(Type.Array(TemplateVariable, { maxItems: 50 })),
    variants: Variants,
  },
  { additionalProperties: false },
);
export type CreateMessageTemplateBody = Static<typeof CreateMessageTemplateBody>;

/** Name and purpose change the template; content fields make a new draft version (fields not given are kept). */
export const UpdateMessageTemplateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    purpose: Type.Optional(TemplatePurpose),
    default_locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
    variables: Type.Optional(Type.Array(TemplateVariable, { maxItems: 50 })),
    variants: Type.Optional(Variants),
  },
  { additionalProperties: false },
);
export type UpdateMessageTemplateBody = Static<typeof UpdateMessageTemplateBody>;

export const ApproveTemplateBody = Type.Object(
  { version: Type.Optional(Type.Integer({ minimum: 1, description: 'the draft to approve (default: the newest version)' })) },
  { additionalProperties: false },
);
export type ApproveTemplateBody = Static<typeof ApproveTemplateBody>;

const VariableValue = Type.Union([Type.String({ maxLength: 2000 }), Type.Number(), Type.Boolean(), Type.Null()]);

export const PreviewTemplateBody = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'default: the newest version (drafts too)' })),
    contact_id: Type.Optional(Id('render for this contact (locale, time zone, fields, attributes)')),
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), VariableValue)),
    locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, description: 'when no contact is given (a contact’s own locale wins)' })),
    time_zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    first_name: Type.Optional(Type.String({ maxLength: 200, description: 'a sample contact’s first name, when no contact is given' })),
  },
  { additionalProperties: false },
);
export type PreviewTemplateBody = Static<typeof PreviewTemplateBody>;

export const TemplatePreview = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  locale: Type.String({ description: 'the variant used, after fallback' }),
  /** What would be sent (messaging's send input): text, media ids, interactive parts. */
  message: Type.Object({
    text: Type.Optional(Type.String()),
    media: Type.Optional(Type.Array(Type.String())),
    interactive: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true })),
  }),
  /** The header as rendered for this recipient (a personalised render included), or null. */
  media: Type.Union([
    Type.Object({
      id: Type.String(),
      kind: Type.Union([Type.Enum(['image', 'video', 'audio', 'document']), Type.Null()]),
      status: Type.String({ description: 'processing until MMD’s media ladder has made its renditions' }),
      personalised: Type.Boolean(),
      cached: Type.Boolean({ description: 'an identical render existed: the same media item is reused' }),
      url: Type.Union([Type.String(), Type.Null()], { description: 'a signed link to the rendered image (preview) or video (mp4), once ready' }),
    }),
    Type.Null(),
  ]),
});
export type TemplatePreview = Static<typeof TemplatePreview>;
