import { useId } from 'react';

/** The optional note a moderator leaves with a decision (reviews and protection cases alike). */
export function NoteField({ value, onChange }: { value: string; onChange: (note: string) => void }) {
  const id = useId();
  return (
    <div className="note-field">
      <label htmlFor={id}>Note for the record (optional)</label>
      <textarea id={id} rows={1} maxLength={1000} value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
