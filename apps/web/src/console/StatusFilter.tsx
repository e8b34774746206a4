import { useId } from 'react';

/** The "Show" select above a console queue: which status to list. */
export function StatusFilter<S extends string>({ value, options, onChange }: { value: S; options: readonly { status: S; label: string }[]; onChange: (status: S) => void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>Show</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as S)}>
        {options.map((f) => (
          <option key={f.status} value={f.status}>
            {f.label}
          </option>
        ))}
      </select>
    </div>
  );
}
