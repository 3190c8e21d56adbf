/**
 * Half-star rating as a native radio group: arrow keys, Tab and screen readers work without custom
 * key handling. Each half star is an (invisible, full-size) radio over its painted half.
 */
import { useId } from 'react';

const VALUES = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5];

export function Stars({
  value,
  onChange,
  label,
}: {
  value: number | null;
  onChange: (rating: number) => void;
  label: string;
}) {
  const name = useId();
  return (
    <fieldset className="stars">
      <legend className="visually-hidden">{label}</legend>
      {VALUES.map((v) => (
        <label key={v} className={`half ${v % 1 === 0 ? 'right' : 'left'} ${value !== null && v <= value ? 'on' : ''}`}>
          <input
            type="radio"
            name={name}
            value={v}
            checked={value === v}
            onChange={() => onChange(v)}
            aria-label={`${v} ${v === 1 ? 'star' : 'stars'}`}
          />
        </label>
      ))}
      <span className="stars-value" aria-hidden="true">
        {value === null ? 'not rated' : `${value} / 5`}
      </span>
    </fieldset>
  );
}
