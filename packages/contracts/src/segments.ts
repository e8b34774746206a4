/**
 * Segments: a business's saved audience rules over its contacts — tags, typed attributes, consent
 * per purpose, locale, time zone and activity — combined with all / any / not. The server compiles
 * a rule to one SQL query (both databases), so counting or paging a million contacts never
 * evaluates anything per contact in JavaScript.
 */
import { type Static, Type } from 'typebox';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

/** Most conditions in one rule, nesting included. */
export const MAX_SEGMENT_CONDITIONS = 100;
/** Deepest nesting of all / any / not. */
export const MAX_SEGMENT_DEPTH = 8;
/** Most values in one `in` list (tags, locales, zones, attribute values). */
export const MAX_SEGMENT_LIST = 500;
/** Most segments one business keeps. */
export const MAX_SEGMENTS = 500;

/** Comparisons on an attribute; which apply depends on the attribute's type (see docs/business.md). */
export const ATTRIBUTE_OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'between', 'in', 'contains', 'starts_with', 'exists'] as const;
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];
/** What people did: read a business message, replied to the business, tapped a tracked link. */
export const ACTIVITIES = ['read', 'reply', 'click'] as const;
export type Activity = (typeof ACTIVITIES)[number];
export const ACTIVITY_OPS = ['within_days', 'before_days', 'ever', 'never'] as const;
export type ActivityOp = (typeof ACTIVITY_OPS)[number];
export const CONSENT_STATES = ['opted_in', 'opted_out', 'none'] as const;
export type ConsentStateFilter = (typeof CONSENT_STATES)[number];

type Scalar = string | number | boolean;

/** One condition, or all / any / not of rules. */
export type SegmentRule =
  | { all: SegmentRule[] }
  | { any: SegmentRule[] }
  | { not: SegmentRule }
  /** Has this tag (or, with a list, any of them). */
  | { tag: string | string[] }
  /** A typed comparison of one attribute; `ne` and the range ops hold only where the attribute is set. */
  | { attribute: string; op: AttributeOp; value?: Scalar | Scalar[] }
  /** The current consent state for a purpose; 'none' means never opted in nor out. */
  | { consent: string; state: ConsentStateFilter }
  /** Any of these locales: a bare language ('fr') matches its regional forms too (fr-CA). */
  | { locale: string | string[] }
  /** Any of these IANA time zones. */
  | { time_zone: string | string[] }
  /** Last activity of this kind within / before the last `days` days, or ever / never. */
  | { activity: Activity; op: ActivityOp; days?: number };

export const SegmentRuleSchema = Type.Unknown({
  description:
    'A rule: {"all": [rules]}, {"any": [rules]}, {"not": rule}, or a condition — {"tag": "vip" | ["a","b"]}, ' +
    '{"attribute": key, "op": eq|ne|lt|lte|gt|gte|between|in|contains|starts_with|exists, "value": …}, ' +
    '{"consent": purpose, "state": opted_in|opted_out|none}, {"locale": "fr" | [...]}, {"time_zone": "Europe/Paris" | [...]}, ' +
    '{"activity": read|reply|click, "op": within_days|before_days|ever|never, "days": n}. Refused with code invalid_segment, each problem at its path.',
});

export const Segment = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.Null(), Type.String()]),
  rule: SegmentRuleSchema,
  created_at: Millis,
  updated_at: Millis,
});
export type Segment = Omit<Static<typeof Segment>, 'rule'> & { rule: SegmentRule };

export const CreateSegmentBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 1000 })])), rule: SegmentRuleSchema },
  { additionalProperties: false },
);
export type CreateSegmentBody = Omit<Static<typeof CreateSegmentBody>, 'rule'> & { rule: SegmentRule };
export const UpdateSegmentBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), description: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 1000 })])), rule: Type.Optional(SegmentRuleSchema) },
  { additionalProperties: false },
);
export type UpdateSegmentBody = Omit<Static<typeof UpdateSegmentBody>, 'rule'> & { rule?: SegmentRule };
export const SegmentList = Type.Object({ segments: Type.Array(Segment) });

export const CountSegmentBody = Type.Object({ rule: SegmentRuleSchema }, { additionalProperties: false });
export const SegmentCount = Type.Object({ count: Type.Integer({ minimum: 0 }), counted_at: Millis });
export type SegmentCount = Static<typeof SegmentCount>;
