/**
 * Where a photo or video came from, as read on upload (C2PA content credentials, or the IPTC digital
 * source type in its XMP) and as its uploader disclosed. MMD's renditions carry no metadata, so this
 * record travels with the item instead, on every API view of it.
 */
import { type Static, type TSchema, Type } from 'typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** What an uploader may declare about AI: wholly generated, or containing generated parts. */
export const AI_DISCLOSURES = ['generated', 'partial'] as const;
export type AiDisclosure = (typeof AI_DISCLOSURES)[number];
export const AiDisclosure = Type.Enum([...AI_DISCLOSURES], { description: 'generated: made with AI; partial: contains AI-generated parts' });

export const MediaProvenance = Type.Object(
  {
    status: Type.Enum(['valid', 'invalid', 'none', 'remote', 'unreadable', 'skipped'], {
      description:
        'valid: content credentials whose signature and hard binding verify; invalid: either fails; none: no credentials; remote: the file points at a remote manifest, which was NOT fetched; unreadable: credentials too broken to parse; skipped: over the parsing size or time limit',
    }),
    source: Nullable(Type.Enum(['c2pa', 'xmp'], { description: 'where the facts come from: C2PA credentials or the XMP digital source type' })),
    label: Nullable(Type.String({ description: 'the first of labels, for a one-line badge' })),
    labels: Type.Array(Type.String(), { description: 'what to show beside the item, most important first' }),
    issuer: Nullable(Type.String({ description: "the signing certificate's issuer" })),
    signer: Nullable(Type.String({ description: "the signing certificate's common name" })),
    claim_generator: Nullable(Type.String()),
    signed_at: Nullable(Type.String({ description: 'ISO 8601, as the signature states' })),
    signature_valid: Nullable(Type.Boolean()),
    hard_binding_valid: Nullable(Type.Boolean({ description: 'whether the uploaded bytes matched what was signed' })),
    trusted: Nullable(Type.Boolean({ description: 'whether the signer chains to a configured trust list (none is configured by default)' })),
    digital_source_type: Nullable(Type.String({ description: 'IPTC digital source type code, e.g. trainedAlgorithmicMedia' })),
    ai: Nullable(Type.Enum(['generated', 'partial'], { description: 'from the credentials/XMP or the uploader’s disclosure' })),
    ai_disclosed: Nullable(AiDisclosure),
    algorithmic: Type.Boolean({ description: 'made by an algorithm without trained models (IPTC algorithmicMedia)' }),
    edited: Type.Boolean(),
    actions: Type.Array(Type.String(), { description: 'C2PA action names of the active manifest (at most 20)' }),
    remote_manifest_url: Nullable(Type.String({ description: 'never fetched by the server' })),
    failures: Type.Array(Type.String(), { description: 'C2PA validation failure codes (at most 20)' }),
  },
  { description: 'content provenance, read from the original on upload; renditions carry none of its metadata' },
);
export type MediaProvenance = Static<typeof MediaProvenance>;

/** The facts {@link provenanceLabels} reads. */
export type ProvenanceFacts = Pick<MediaProvenance, 'status' | 'source' | 'issuer' | 'signer' | 'signature_valid' | 'hard_binding_valid' | 'ai' | 'edited' | 'algorithmic' | 'remote_manifest_url' | 'trusted'>;

/**
 * The labels a viewer sees, most important first: AI involvement, edits, then whose credentials
 * these are and whether they verify (a signer no configured trust list vouches for is "unverified"). Pure; the server puts them on every view, clients may reuse it.
 */
export function provenanceLabels(p: ProvenanceFacts): string[] {
  const labels: string[] = [];
  if (p.ai === 'generated') labels.push('AI-generated');
  else if (p.ai === 'partial') labels.push('Contains AI-generated parts');
  else if (p.algorithmic) labels.push('Computer-generated');
  if (p.edited) labels.push('Edited');
  if (p.source === 'c2pa' && (p.status === 'valid' || p.status === 'invalid')) {
    const who = p.issuer ?? p.signer ?? 'unknown signer';
    if (p.signature_valid === false) labels.push(`Content credentials: ${who} — invalid signature`);
    else if (p.hard_binding_valid === false) labels.push(`Content credentials: ${who} — content changed after signing`);
    // No trust list vouches for this signer: anyone can make a certificate naming anyone.
    else labels.push(p.trusted === true ? `Content credentials: ${who}` : `Content credentials: ${who} (unverified signer)`);
  } else if (p.status === 'remote') labels.push('Content credentials: remote, not fetched');
  else if (p.status === 'unreadable') labels.push('Content credentials: unreadable');
  return labels;
}
