/**
 * Hash banks: each with its category, action, PDQ threshold, how many signals it holds and how
 * many uploads it has matched (kept fresh while the page is open). Moderators create banks, add
 * signals from a file (the server hashes it and keeps only the hashes) or from pasted hashes,
 * import HMA / ThreatExchange / MMD bank files and export them as downloads.
 */
import type { Bank, BankAction, BankCategory, BankFormat } from '@mmd/sdk';
import { type FormEvent, useCallback, useId, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import {
  BANK_ACTION_HINTS,
  BANK_ACTION_LABELS,
  CATEGORY_LABELS,
  formatAgo,
  formatTime,
  plural,
} from './format.ts';
import { usePolling } from './use-polling.ts';
import { ErrorAlert } from '../error-alert.tsx';

// Each refresh counts signals and matches per bank (two grouped counts): every 10 s is live enough
// for match counts and light on the database when banks hold millions of signals.
const POLL_MS = 10_000;
const FORMATS: { format: BankFormat; label: string }[] = [
  { format: 'json', label: 'MMD (JSON, keeps crop-resistant hashes)' },
  { format: 'hma', label: 'HMA signal file (text)' },
  { format: 'te', label: 'ThreatExchange (JSON)' },
];
type PastedType = 'pdq' | 'sha256' | 'md5';
const HEX_LENGTH: Record<PastedType, number> = { pdq: 64, sha256: 64, md5: 32 };

export function Banks() {
  const { client } = useSession();
  const [banks, setBanks] = useState<Bank[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setBanks(await client.banks());
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client]);
  const refresh = usePolling(load, POLL_MS);

  // Banks people made first, newest at the top; MMD's own banks after them.
  const sorted = banks
    ? [...banks].sort(
        (a, b) => Number(a.system !== null) - Number(b.system !== null) || b.created_at - a.created_at,
      )
    : null;

  return (
    <section aria-labelledby="banks-title">
      <div className="console-section-head">
        <h2 id="banks-title">Hash banks</h2>
        <p className="hint">
          Every upload is checked against every bank before anyone receives it. Adding signals also looks for
          copies already shared.
        </p>
      </div>
      <div className="banks-layout">
        <div>
          <ErrorAlert error={error} />
          {sorted === null ? (
            <p className="hint">Loading…</p>
          ) : sorted.length === 0 ? (
            <p className="hint">No banks yet. Create the first one.</p>
          ) : (
            <ul className="bank-list">
              {sorted.map((bank) => (
                <li key={bank.id}>
                  <BankCard bank={bank} onChanged={refresh} />
                </li>
              ))}
            </ul>
          )}
        </div>
        <aside className="card create-bank" aria-labelledby="create-bank-title">
          <h3 id="create-bank-title">Create a bank</h3>
          <CreateBankForm
            onCreated={async (bank) => {
              setCreated(`Bank “${bank.name}” created.`);
              await refresh();
            }}
          />
          <p className="hint" aria-live="polite">
            {created}
          </p>
        </aside>
      </div>
    </section>
  );
}

function CreateBankForm({ onCreated }: { onCreated: (bank: Bank) => Promise<void> }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [category, setCategory] = useState<BankCategory>('ncii');
  const [action, setAction] = useState<BankAction>('block');
  const [threshold, setThreshold] = useState('31');
  const [source, setSource] = useState('');
  const [trusted, setTrusted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const bank = await client.createBank({
        name: name.trim(),
        category,
        action,
        pdq_threshold: Number(threshold),
        ...(source.trim() ? { source: source.trim() } : {}),
        ...(trusted ? { trusted } : {}),
      });
      setName('');
      setSource('');
      setTrusted(false);
      await onCreated(bank);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit}>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input
          id={`${id}-name`}
          required
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-category`}>Category</label>
        <select
          id={`${id}-category`}
          value={category}
          onChange={(e) => setCategory(e.target.value as BankCategory)}
        >
          {Object.entries(CATEGORY_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-action`}>When an upload matches</label>
        <select
          id={`${id}-action`}
          value={action}
          aria-describedby={`${id}-action-hint`}
          onChange={(e) => setAction(e.target.value as BankAction)}
        >
          {Object.entries(BANK_ACTION_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <p id={`${id}-action-hint`} className="hint">
          {BANK_ACTION_HINTS[action]}
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-threshold`}>PDQ threshold</label>
        <input
          id={`${id}-threshold`}
          type="number"
          inputMode="numeric"
          min={0}
          max={31}
          required
          value={threshold}
          aria-describedby={`${id}-threshold-hint`}
          onChange={(e) => setThreshold(e.target.value)}
        />
        <p id={`${id}-threshold-hint`} className="hint">
          Largest distance that counts as a match (0–31). Lower is stricter.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-source`}>Source (optional)</label>
        <input
          id={`${id}-source`}
          maxLength={200}
          placeholder="e.g. a partner platform"
          value={source}
          onChange={(e) => setSource(e.target.value)}
        />
      </div>
      <div className="field">
        <label>
          <input
            type="checkbox"
            checked={trusted}
            aria-describedby={`${id}-trusted-hint`}
            onChange={(e) => setTrusted(e.target.checked)}
          />{' '}
          Trusted source
        </label>
        <p id={`${id}-trusted-hint`} className="hint">
          {TRUSTED_HINT}
        </p>
      </div>
      <ErrorAlert error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Creating…' : 'Create bank'}
      </button>
    </form>
  );
}

function BankCard({ bank, onChanged }: { bank: Bank; onChanged: () => Promise<void> }) {
  const titleId = useId();
  const [status, setStatus] = useState<{ text: string; error?: boolean } | null>(null);
  const report = async (text: string, error = false) => {
    setStatus({ text, error });
    if (!error) await onChanged();
  };

  return (
    <article className="bank card" aria-labelledby={titleId}>
      <header className="bank-head">
        <h3 id={titleId}>{bank.name}</h3>
        <ul className="tags" aria-label="About this bank">
          <li className="tag">{CATEGORY_LABELS[bank.category]}</li>
          <li className={`tag action-${bank.action}`}>{BANK_ACTION_LABELS[bank.action]}</li>
          {bank.system && <li className="tag">Kept by MMD</li>}
          {bank.trusted && <li className="tag tag-trusted">Trusted source</li>}
        </ul>
      </header>
      <dl className="figures">
        <div>
          <dt>Signals</dt>
          <dd>{bank.signal_count.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Matches</dt>
          <dd>{bank.match_count.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Last match</dt>
          <dd>
            {bank.last_match_at === null ? (
              'Never'
            ) : (
              <time
                dateTime={new Date(bank.last_match_at).toISOString()}
                title={formatTime(bank.last_match_at)}
              >
                {formatAgo(bank.last_match_at)}
              </time>
            )}
          </dd>
        </div>
        <div>
          <dt>Threshold</dt>
          <dd>≤ {bank.pdq_threshold}</dd>
        </div>
      </dl>
      {bank.source && <p className="hint">Source: {bank.source}</p>}
      {bank.system !== 'protect' && <TrustToggle bank={bank} report={report} />}
      <details className="bank-tools">
        <summary>Add signals, import or export</summary>
        <div className="tool-grid">
          <AddFileForm bank={bank} report={report} />
          <AddHashForm bank={bank} report={report} />
          <ImportForm bank={bank} report={report} />
          <ExportForm bank={bank} report={report} />
        </div>
      </details>
      <p className={`bank-status${status?.error ? ' error' : ''}`} aria-live="polite">
        {status?.text}
      </p>
    </article>
  );
}

type Report = (text: string, error?: boolean) => Promise<void>;

const TRUSTED_HINT =
  'A source you vouch for. If the server allows it (MMD_PROTECT_TRUSTED_AUTO_ACTION), an item that matches both a protection case and this bank is acted on without waiting for a moderator.';

/** Marks a bank trusted or not; the server audits the change. */
function TrustToggle({ bank, report }: { bank: Bank; report: Report }) {
  const { client } = useSession();
  const [busy, setBusy] = useState(false);
  const hint = useId();
  async function toggle() {
    setBusy(true);
    try {
      await client.updateBank(bank.id, { trusted: !bank.trusted });
      await report(bank.trusted ? 'No longer trusted.' : 'Marked as a trusted source.');
    } catch (err) {
      await report(errorText(err), true);
    } finally {
      setBusy(false);
    }
  }
  return (
    <p className="trust">
      <button type="button" disabled={busy} aria-describedby={hint} onClick={toggle}>
        {bank.trusted ? 'Stop trusting this source' : 'Mark as trusted source'}
      </button>{' '}
      <span id={hint} className="hint">
        {TRUSTED_HINT}
      </span>
    </p>
  );
}

function addedText(added: number, duplicates: number, sweep: string | null) {
  return `Added ${plural(added, 'signal')}${duplicates ? ` (${duplicates} already in the bank)` : ''}.${
    sweep ? ' Looking for copies already shared…' : ''
  }`;
}

function AddFileForm({ bank, report }: { bank: Bank; report: Report }) {
  const { client } = useSession();
  const input = useRef<HTMLInputElement>(null);
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (!file) {
      await report('Choose a file to hash first.', true);
      return;
    }
    setBusy(true);
    try {
      const r = await client.addSignalsFromFile(bank.id, file, {
        filename: file.name,
        ...(label.trim() ? { label: label.trim() } : {}),
      });
      if (input.current) input.current.value = '';
      setLabel('');
      await report(`${file.name}: ${addedText(r.added, r.duplicates, r.sweep_job_id)}`);
    } catch (err) {
      await report(errorText(err), true);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="tool">
      <h4>Add a file’s hashes</h4>
      <p className="hint">The file is hashed on the server and not kept.</p>
      <label htmlFor={`${id}-file`}>File to hash</label>
      <input id={`${id}-file`} ref={input} type="file" accept="image/*,video/*" />
      <label htmlFor={`${id}-label`}>Label (optional)</label>
      <input id={`${id}-label`} maxLength={200} value={label} onChange={(e) => setLabel(e.target.value)} />
      <button type="submit" disabled={busy}>
        {busy ? 'Hashing…' : 'Hash and add'}
      </button>
    </form>
  );
}

function AddHashForm({ bank, report }: { bank: Bank; report: Report }) {
  const { client } = useSession();
  const [type, setType] = useState<PastedType>('pdq');
  const [value, setValue] = useState('');
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const hashes = value.split(/[\s,]+/).filter(Boolean);
    const pattern = new RegExp(`^[0-9a-fA-F]{${HEX_LENGTH[type]}}$`);
    const bad = hashes.filter((h) => !pattern.test(h));
    if (hashes.length === 0 || bad.length > 0) {
      await report(
        hashes.length === 0
          ? 'Paste at least one hash.'
          : `Not a ${type} hash (${HEX_LENGTH[type]} hex digits): ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? '…' : ''}`,
        true,
      );
      return;
    }
    setBusy(true);
    try {
      const r = await client.addSignals(
        bank.id,
        hashes.map((h) => ({ type, value: h, ...(label.trim() ? { label: label.trim() } : {}) })),
      );
      setValue('');
      await report(addedText(r.added, r.duplicates, r.sweep_job_id));
    } catch (err) {
      await report(errorText(err), true);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="tool">
      <h4>Paste hashes</h4>
      <label htmlFor={`${id}-type`}>Hash type</label>
      <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value as PastedType)}>
        <option value="pdq">PDQ (64 hex)</option>
        <option value="sha256">SHA-256 (64 hex)</option>
        <option value="md5">MD5 (32 hex)</option>
      </select>
      <label htmlFor={`${id}-value`}>Hashes, one per line</label>
      <textarea
        id={`${id}-value`}
        rows={2}
        spellCheck={false}
        autoComplete="off"
        className="mono"
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <label htmlFor={`${id}-label`}>Label (optional)</label>
      <input id={`${id}-label`} maxLength={200} value={label} onChange={(e) => setLabel(e.target.value)} />
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add hashes'}
      </button>
    </form>
  );
}

function ImportForm({ bank, report }: { bank: Bank; report: Report }) {
  const { client } = useSession();
  const input = useRef<HTMLInputElement>(null);
  const [format, setFormat] = useState<BankFormat>('hma');
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (!file) {
      await report('Choose a bank file to import first.', true);
      return;
    }
    setBusy(true);
    try {
      const r = await client.importBank(bank.id, await file.text(), format);
      if (input.current) input.current.value = '';
      await report(
        `${file.name}: ${addedText(r.added, r.duplicates, r.sweep_job_id)}${
          r.skipped
            ? ` ${plural(r.skipped, 'entry', 'entries')} skipped (not matchable here, or deleted).`
            : ''
        }`,
      );
    } catch (err) {
      await report(errorText(err), true);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="tool">
      <h4>Import a bank file</h4>
      <label htmlFor={`${id}-format`}>Import format</label>
      <select id={`${id}-format`} value={format} onChange={(e) => setFormat(e.target.value as BankFormat)}>
        {FORMATS.map((f) => (
          <option key={f.format} value={f.format}>
            {f.label}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-file`}>Bank file</label>
      <input id={`${id}-file`} ref={input} type="file" accept=".txt,.json,.hma,text/plain,application/json" />
      <button type="submit" disabled={busy}>
        {busy ? 'Importing…' : 'Import'}
      </button>
    </form>
  );
}

function ExportForm({ bank, report }: { bank: Bank; report: Report }) {
  const { client } = useSession();
  const [format, setFormat] = useState<BankFormat>('json');
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    try {
      const file = await client.exportBank(bank.id, format);
      const url = URL.createObjectURL(
        new Blob([file.body], { type: file.contentType || 'application/octet-stream' }),
      );
      const link = document.createElement('a');
      link.href = url;
      link.download = file.filename;
      document.body.append(link);
      link.click();
      link.remove();
      // The download has started from the URL by now; keep it a little for slow browsers.
      window.setTimeout(() => URL.revokeObjectURL(url), 30_000);
      const left = file.skipped
        ? ` ${plural(file.skipped, 'signal')} left out: the format cannot carry them.`
        : '';
      await report(`Exported ${file.filename}.${left}`);
    } catch (err) {
      await report(errorText(err), true);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="tool">
      <h4>Export</h4>
      <label htmlFor={`${id}-format`}>Export format</label>
      <select id={`${id}-format`} value={format} onChange={(e) => setFormat(e.target.value as BankFormat)}>
        {FORMATS.map((f) => (
          <option key={f.format} value={f.format}>
            {f.label}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy}>
        {busy ? 'Exporting…' : 'Export'}
      </button>
    </form>
  );
}
