/**
 * Screening: every upload is hashed and matched against the banks inside its processing job,
 * before it can become ready, so nothing reaches a recipient unchecked — whatever the
 * conversation kind and whether a person or a business API key sent it.
 *
 * Order closes a race with bank changes in another process: the upload's hashes are committed
 * first, then the banks are read. A signal committed after that read is followed by its sweep,
 * which reads stored hashes after its own commit — so it finds this upload. Either way it is caught.
 */
import { isMediaError } from '@mmd/media';
import type { BankAction } from '@mmd/contracts';
import type { Database } from '../platform/db/index.ts';
import type { MediaRow, ScreenVerdict } from '../media/index.ts';
import { appendAudit } from './audit.ts';
import type { Hasher } from './hasher.ts';
import { safetyId } from './ids.ts';
import { assignCluster } from './clusters.ts';
import type { SafetyIndexes } from './indexes.ts';
import { actionFor, isCropOnly, type FoundMatch, type Matcher } from './matcher.ts';
import { recordMatches } from './matches.ts';
import { queryFrom, saveMediaHashes } from './media-hashes.ts';
import { casesOfSignals, recordCaseItems, trustedBankIds } from './protect.ts';
import { REMOVED_REASON } from './removal.ts';

const STRENGTH: Record<BankAction, number> = { block: 3, hold: 2, blur: 1 };

/**
 * The match that decides: the strongest action wins (block over hold over blur), each match
 * carrying what it may do by itself (actionFor: a block found only through anchored regions holds).
 */
export function decisive(matches: FoundMatch[]): FoundMatch | null {
  let best: FoundMatch | null = null;
  for (const found of matches) {
    const m = { ...found, action: actionFor(found) };
    if (!best || STRENGTH[m.action] > STRENGTH[best.action]) best = m;
  }
  return best;
}

export function createScreening(deps: {
  db: Database;
  hasher: Hasher;
  matcher: Matcher;
  indexes: SafetyIndexes;
  clock: () => number;
  log: { warn(o: object, m: string): void };
  /** config.protectTrustedAutoAction: block an upload that matches a protection case and a trusted bank. */
  autoAction: boolean;
}) {
  const { db, clock } = deps;

  return async function screen(upload: {
    row: MediaRow;
    input: string;
    kind: MediaRow['kind'];
    signal: AbortSignal;
  }): Promise<ScreenVerdict> {
    const { row } = upload;
    let hashes: Awaited<ReturnType<Hasher['hashFile']>>;
    try {
      // Bank sets made in an older scheme are checked with a query of their own scheme.
      await deps.indexes.refresh();
      hashes = await deps.hasher.hashFile(upload.input, {
        kind: upload.kind ?? undefined,
        signal: upload.signal,
        olderSchemes: deps.indexes.olderBankSchemes(),
      });
    } catch (err) {
      // Fail closed: screening runs before any rendition, so a file that does not decode is
      // refused here. A damaged file is told as such (what the renditions would have said); any
      // other failure is suspicious, and letting it through unchecked would bypass every bank.
      if (isMediaError(err, 'corrupt_file')) {
        return { action: 'block', reason: err.message, reasonCode: 'corrupt_file' };
      }
      if (
        isMediaError(err) &&
        err.code !== 'timeout' &&
        err.code !== 'binary_missing' &&
        err.code !== 'aborted'
      ) {
        deps.log.warn({ err, media: row.id }, 'upload could not be hashed for screening');
        return {
          action: 'block',
          reason: 'This file could not be checked, so it cannot be shared',
          reasonCode: 'unverifiable',
        };
      }
      throw err;
    }
    const hashRow = await saveMediaHashes(db, { mediaId: row.id, hashes, now: clock() });
    // Its near-duplicate cluster (clusters.ts): what spread is counted by.
    const cluster = await assignCluster(db, deps.indexes, { rowId: hashRow, hashes }, deps.matcher.compareVideos);
    const matches = await deps.matcher.matchBanks({
      sha256: hashes.sha256,
      md5: hashes.md5,
      ...queryFrom(hashes),
    });
    const decided = decisive(matches);
    if (!decided) return { action: 'allow', cluster };
    // Protection cases are claims anyone can make: their matches are held (the protect bank's
    // action), unless a source the operator trusts says the same and the operator allows acting on that.
    const caseOf = await casesOfSignals(
      db.db,
      matches.map((m) => m.signal_id),
    );
    const cases = matches.flatMap((m) => caseOf.get(m.signal_id) ?? []);
    const trustedBanks =
      deps.autoAction && cases.length > 0 ? await trustedBankIds(db.db) : new Set<string>();
    // A crop-only match is weaker evidence and never acts alone, trusted or not.
    const trusted = matches.find((m) => trustedBanks.has(m.bank_id) && !isCropOnly(m.rule));
    const match: FoundMatch =
      trusted && decided.action !== 'block' ? { ...trusted, action: 'block' } : decided;
    const now = clock();
    await db.writeTransaction(async (tx) => {
      await recordCaseItems(tx, {
        cases,
        mediaId: row.id,
        source: 'screening',
        autoAction: trusted !== undefined,
        now,
      });
      // Every matching bank counts the item, not only the one whose action decides.
      const perBank = new Map<string, FoundMatch>();
      for (const m of matches) if (!perBank.has(m.bank_id)) perBank.set(m.bank_id, m);
      await recordMatches(tx, {
        matches: [...perBank.values()].map((m) => ({
          bankId: m.bank_id,
          mediaId: row.id,
          signalId: m.signal_id,
          rule: m.rule,
        })),
        source: 'screening',
        now,
      });
      await appendAudit(tx, {
        at: now,
        actorId: null,
        action: `upload.${match.action === 'block' ? 'blocked' : match.action === 'hold' ? 'held' : 'blurred'}`,
        subjectType: 'media',
        subjectId: row.id,
        bankId: match.bank_id,
        detail: {
          owner_id: row.owner_id,
          kind: hashes.kind,
          signal_id: match.signal_id,
          rule: match.rule,
          ...(match.distance !== undefined ? { distance: match.distance } : {}),
          matches: matches.length,
          ...(cases.length > 0 ? { cases: [...new Set(cases)] } : {}),
          ...(trusted ? { auto_action: 'protect+trusted' } : {}),
        },
      });
      if (match.action === 'hold') {
        // One open review per item: a retried job must not queue it twice.
        const open = await tx
          .selectFrom('safety_reviews')
          .select('id')
          .where('media_id', '=', row.id)
          .where('kind', '=', 'hold')
          .where('status', '!=', 'closed')
          .executeTakeFirst();
        if (!open) {
          await tx
            .insertInto('safety_reviews')
            .values({
              id: safetyId('rev'),
              kind: 'hold',
              status: 'open',
              outcome: null,
              reason: match.category,
              message_id: null,
              media_id: row.id,
              bank_id: match.bank_id,
              signal_id: match.signal_id,
              report_count: 0,
              created_at: now,
              decided_at: null,
              decided_by: null,
              note: null,
            })
            .execute();
        }
      }
    });
    if (match.action === 'block') return { action: 'block', reason: REMOVED_REASON, reasonCode: 'blocked' };
    return { action: match.action, cluster };
  };
}
