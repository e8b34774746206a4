/**
 * Importing contacts: choose a CSV, JSON or NDJSON file (and, when needed, its encoding,
 * separator, date format, phone region or a column mapping); the server streams it into a job
 * whose progress bar and counts update while it runs; every refused row is listed with its line,
 * column and reason, and the whole report downloads as CSV. /contacts/import starts one,
 * /contacts/import/<job> follows one (a reload keeps following it).
 */
import type { ContactImport, ImportRowError } from '@mmd/sdk';
import { type FormEvent, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { useBusiness } from './context.ts';
import { count, percent, plural, when } from './format.ts';
import { download } from './hooks.ts';
import { ErrorAlert } from '../error-alert.tsx';

export function ImportPanel({ jobId }: { jobId: string | null }) {
  const { href } = useBusiness();
  return (
    <div className="biz-page">
      <p>
        <Link href={href('contacts')}>← All contacts</Link>
      </p>
      <h2>Import contacts</h2>
      {jobId ? <ImportJob key={jobId} id={jobId} /> : <ImportForm />}
      <RecentImports current={jobId} />
    </div>
  );
}

const CHARSETS = [
  { value: '', label: 'UTF-8 (or as its byte-order mark says)' },
  { value: 'windows-1252', label: 'Windows-1252 (Excel on Windows)' },
  { value: 'iso-8859-1', label: 'ISO-8859-1 (Latin-1)' },
  { value: 'utf-16le', label: 'UTF-16 LE' },
  { value: 'utf-16be', label: 'UTF-16 BE' },
];

function ImportForm() {
  const { client, can, href } = useBusiness();
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState('');
  const [charset, setCharset] = useState('');
  const [delimiter, setDelimiter] = useState('');
  const [dateFormat, setDateFormat] = useState('');
  const [phoneRegion, setPhoneRegion] = useState('');
  const [mapping, setMapping] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!can('contacts:write')) return <p className="hint">Owners, admins and agents import contacts.</p>;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setError(null);
    if (mapping.trim()) {
      try {
        JSON.parse(mapping);
      } catch (err) {
        setError(`The column mapping is not valid JSON: ${(err as Error).message}`);
        return;
      }
    }
    // "Recognise it": the file's extension says JSON or NDJSON; anything else is read as CSV.
    const extension = file.name.toLowerCase().split('.').pop();
    const chosenFormat = (format || (extension === 'json' ? 'json' : extension === 'ndjson' || extension === 'jsonl' ? 'ndjson' : '')) as '' | 'csv' | 'json' | 'ndjson';
    setBusy(true);
    try {
      const job = await client.contactImports.upload(file, {
        ...(chosenFormat ? { format: chosenFormat } : {}),
        ...(charset ? { charset } : {}),
        ...(delimiter ? { delimiter: delimiter === 'tab' ? '\t' : delimiter } : {}),
        ...(dateFormat.trim() ? { date_format: dateFormat.trim() } : {}),
        ...(phoneRegion.trim() ? { phone_region: phoneRegion.trim().toUpperCase() } : {}),
        ...(mapping.trim() ? { mapping: JSON.parse(mapping) as Record<string, string> } : {}),
      });
      navigate(href('contacts', 'import', job.id));
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <form className="card biz-card" aria-labelledby="import-heading" onSubmit={(e) => void submit(e)}>
      <h3 id="import-heading">A new import</h3>
      <p className="hint">
        One contact per row, matched by <code>external_id</code> (importing the same file twice changes nothing). Columns: <code>handle</code> (required: the person’s handle on this
        instance), <code>external_id</code>, <code>locale</code>, <code>time_zone</code>, <code>tags</code> (separated by <code>;</code>), your own attributes, and for an opt-in its
        proof: <code>consent_purpose</code>, <code>consent_source</code>, <code>consent_wording</code>, <code>consent_at</code>, <code>consent_evidence</code>. A row that claims
        consent without its proof is refused.
      </p>
      <div className="field">
        <label htmlFor="import-file">File (CSV, JSON or NDJSON)</label>
        <input id="import-file" type="file" required accept=".csv,.json,.ndjson,.jsonl,.txt,text/csv,application/json" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </div>
      <details className="biz-disclosure">
        <summary>How to read the file</summary>
        <div className="biz-inline">
          <div className="field">
            <label htmlFor="import-format">Format</label>
            <select id="import-format" value={format} onChange={(e) => setFormat(e.target.value)}>
              <option value="">Recognise it</option>
              <option value="csv">CSV</option>
              <option value="json">JSON array</option>
              <option value="ndjson">NDJSON (one object per line)</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="import-charset">Encoding</label>
            <select id="import-charset" value={charset} onChange={(e) => setCharset(e.target.value)}>
              {CHARSETS.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="import-delimiter">CSV separator</label>
            <select id="import-delimiter" value={delimiter} onChange={(e) => setDelimiter(e.target.value)}>
              <option value="">Recognise it</option>
              <option value=",">Comma</option>
              <option value=";">Semicolon</option>
              <option value="tab">Tab</option>
            </select>
          </div>
        </div>
        <div className="biz-inline">
          <div className="field">
            <label htmlFor="import-date-format">Date format (optional)</label>
            <input id="import-date-format" spellCheck={false} placeholder="dd/MM/yyyy" value={dateFormat} onChange={(e) => setDateFormat(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="import-phone-region">Country for local phone numbers (optional)</label>
            <input id="import-phone-region" maxLength={2} spellCheck={false} placeholder="FR" value={phoneRegion} onChange={(e) => setPhoneRegion(e.target.value)} />
          </div>
        </div>
        <div className="field">
          <label htmlFor="import-mapping">Column mapping (optional JSON)</label>
          <textarea id="import-mapping" rows={3} spellCheck={false} className="biz-code" placeholder={'{"Customer no": "external_id", "Birthday": "attr:birthday:date", "Notes": "ignore"}'} value={mapping} onChange={(e) => setMapping(e.target.value)} />
        </div>
      </details>
      <ErrorAlert error={error} />
      <button type="submit" className="primary biz-submit" disabled={busy || !file}>
        {busy ? 'Uploading…' : 'Import'}
      </button>
    </form>
  );
}

const STATUS_WORDS: Record<ContactImport['status'], string> = {
  queued: 'Waiting to start',
  running: 'Importing',
  succeeded: 'Finished',
  failed: 'Stopped',
};

function ImportJob({ id }: { id: string }) {
  const { client, business } = useBusiness();
  const [job, setJob] = useState<ContactImport | null>(null);
  const [errors, setErrors] = useState<ImportRowError[]>([]);
  const [nextAfter, setNextAfter] = useState<number | null>(0);
  const [error, setError] = useState<string | null>(null);
  const done = job?.status === 'succeeded' || job?.status === 'failed';

  // Follow the job until it ends: its counts and bar move while it runs.
  useEffect(() => {
    let live = true;
    let timer = 0;
    const tick = async () => {
      try {
        const next = await client.contactImports.get(id);
        if (!live) return;
        setJob(next);
        if (next.status === 'queued' || next.status === 'running') timer = window.setTimeout(() => void tick(), 400);
      } catch (err) {
        if (live) setError(errorText(err));
      }
    };
    void tick();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [client, id]);

  // The first page of the error report once the job has ended (and then page by page on request).
  const refused = job?.rows.refused ?? 0;
  useEffect(() => {
    if (!done || refused === 0) return;
    let live = true;
    client.contactImports
      .errors(id, { afterRow: 0, limit: 100 })
      .then((page) => {
        if (!live) return;
        setErrors(page.errors);
        setNextAfter(page.next_after_row);
      })
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [client, id, done, refused]);

  const more = async () => {
    if (nextAfter === null) return;
    try {
      const page = await client.contactImports.errors(id, { afterRow: nextAfter, limit: 100 });
      setErrors((list) => [...list, ...page.errors]);
      setNextAfter(page.next_after_row);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const downloadReport = async () => {
    try {
      download(`${business.handle}-import-${id}-errors.csv`, new Blob([await client.contactImports.errorsCsv(id)], { type: 'text/csv' }));
    } catch (err) {
      setError(errorText(err));
    }
  };

  if (!job)
    return error ? (
      <p className="error" role="alert">
        {error}
      </p>
    ) : (
      <p className="loading">Loading…</p>
    );
  const r = job.rows;
  return (
    <section className="card biz-card" aria-labelledby="job-heading" data-import={job.status}>
      <h3 id="job-heading">
        {STATUS_WORDS[job.status]} · started {when(job.created_at)}
      </h3>
      <div className="biz-progress-row">
        <progress id="import-progress" max={1} value={job.progress} aria-label="Import progress" className="biz-progress" />
        <span>{percent(job.progress, 1)}</span>
      </div>
      <p role="status" aria-live="polite" className="biz-import-counts">
        {plural(r.done, 'row')} read: {count(r.created)} new, {count(r.updated)} updated, {count(r.unchanged)} unchanged, {count(r.refused)} refused
        {r.consents_recorded > 0 ? `; ${plural(r.consents_recorded, 'opt-in')} recorded with proof` : ''}.
      </p>
      {job.error && (
        <p className="error" role="alert">
          The file could not be read{job.error.line ? ` (line ${job.error.line})` : ''}: {job.error.message}
        </p>
      )}
      <ErrorAlert error={error} />
      {done && refused > 0 && (
        <>
          <div className="biz-page-head">
            <h4>Refused rows</h4>
            <button type="button" onClick={() => void downloadReport()}>
              Download the error report (CSV)
            </button>
          </div>
          <div className="table-scroll">
            <table className="biz-table" aria-label="Refused rows">
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Line</th>
                  <th scope="col">Column</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {errors.map((e) => (
                  <tr key={`${e.row}:${e.column ?? ''}:${e.code}`}>
                    <td>{e.row}</td>
                    <td>{e.line ?? (e.index !== null ? `item ${e.index}` : '—')}</td>
                    <td>{e.column ?? '—'}</td>
                    <td>
                      {e.reason} <span className="hint">({e.code})</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {nextAfter !== null && (
            <button type="button" onClick={() => void more()}>
              Show more refused rows
            </button>
          )}
        </>
      )}
      {done && refused === 0 && !job.error && <p className="biz-saved">Every row was imported.</p>}
    </section>
  );
}

function RecentImports({ current }: { current: string | null }) {
  const { client, href } = useBusiness();
  const [jobs, setJobs] = useState<ContactImport[] | null>(null);
  useEffect(() => {
    let live = true;
    client.contactImports
      .list()
      .then((r) => live && setJobs(r.imports))
      .catch(() => live && setJobs([]));
    return () => {
      live = false;
    };
  }, [client]);
  const others = (jobs ?? []).filter((j) => j.id !== current);
  if (others.length === 0) return null;
  return (
    <section className="card biz-card" aria-labelledby="recent-imports">
      <h3 id="recent-imports">Earlier imports</h3>
      <ul className="biz-plain-list">
        {others.slice(0, 10).map((j) => (
          <li key={j.id}>
            <Link href={href('contacts', 'import', j.id)}>{when(j.created_at)}</Link> · {STATUS_WORDS[j.status]} · {count(j.rows.created + j.rows.updated)} imported, {count(j.rows.refused)} refused
          </li>
        ))}
      </ul>
    </section>
  );
}
