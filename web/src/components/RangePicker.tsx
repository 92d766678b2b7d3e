import { type FormEvent, useEffect, useId, useState } from "react";
import type { Compare } from "../api/types";
import { COMPARES, PRESETS, presetRange, type RangeChoice, validateCustom } from "../lib/range";

/** Preset ranges, custom dates and the comparison, applied together (one reload, not one per field). */
export function RangePicker({ value, today, onChange }: {
  value: RangeChoice;
  today: string;
  onChange: (next: RangeChoice) => void;
}) {
  const id = useId();
  const [preset, setPreset] = useState(value.preset);
  const [start, setStart] = useState(value.start);
  const [end, setEnd] = useState(value.end);
  const [compare, setCompare] = useState<Compare>(value.compare);
  const [error, setError] = useState<string | null>(null);

  // follow the URL (back button, another tab's link)
  useEffect(() => {
    setPreset(value.preset);
    setStart(value.start);
    setEnd(value.end);
    setCompare(value.compare);
    setError(null);
  }, [value.preset, value.start, value.end, value.compare]);

  function choosePreset(p: string) {
    setPreset(p);
    setError(null);
    if (p !== "custom") {
      const r = presetRange(p, today);
      setStart(r.start);
      setEnd(r.end);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (preset === "custom") {
      const problem = validateCustom(start, end, today);
      if (problem) {
        setError(problem);
        return;
      }
    }
    const dates = preset === "custom" ? { start, end } : presetRange(preset, today);
    onChange({ preset, ...dates, compare });
  }

  const maxDay = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

  return (
    <form className="range-picker" onSubmit={submit} aria-label="Date range">
      <div className="field">
        <label htmlFor={`${id}-preset`}>Dates</label>
        <select id={`${id}-preset`} value={preset} onChange={(e) => choosePreset(e.target.value)}>
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">Custom dates…</option>
        </select>
      </div>
      {preset === "custom" ? (
        <>
          <div className="field">
            <label htmlFor={`${id}-start`}>From</label>
            <input
              id={`${id}-start`}
              type="date"
              value={start}
              max={maxDay}
              onChange={(e) => setStart(e.target.value)}
              aria-invalid={!!error}
              aria-describedby={error ? `${id}-error` : undefined}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-end`}>To</label>
            <input
              id={`${id}-end`}
              type="date"
              value={end}
              max={maxDay}
              onChange={(e) => setEnd(e.target.value)}
              aria-invalid={!!error}
              aria-describedby={error ? `${id}-error` : undefined}
            />
          </div>
        </>
      ) : null}
      <div className="field">
        <label htmlFor={`${id}-compare`}>Compare with</label>
        <select id={`${id}-compare`} value={compare} onChange={(e) => setCompare(e.target.value as Compare)}>
          {COMPARES.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="button">
        Apply
      </button>
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
