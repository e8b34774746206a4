/** One setting chosen from a few options: a fieldset of radio buttons (settings, privacy, theme). */
export interface RadioOption<T extends string> {
  value: T;
  label: string;
  hint?: string;
}

export function RadioChoice<T extends string>({
  legend,
  name,
  options,
  value,
  onChoose,
  hint,
  disabled,
  id,
}: {
  legend: string;
  name: string;
  options: readonly RadioOption<T>[];
  value: T | null | undefined;
  onChoose: (value: T) => void;
  hint?: string;
  disabled?: boolean;
  id?: string;
}) {
  return (
    <fieldset className="privacy-choice" disabled={disabled} id={id}>
      <legend>{legend}</legend>
      {hint && <p className="hint">{hint}</p>}
      {options.map((o) => (
        <label key={o.value}>
          <input type="radio" name={name} value={o.value} checked={value === o.value} onChange={() => onChoose(o.value)} />
          <span>
            {o.hint ? (
              <>
                {o.label} <span className="hint">{o.hint}</span>
              </>
            ) : (
              o.label
            )}
          </span>
        </label>
      ))}
    </fieldset>
  );
}
