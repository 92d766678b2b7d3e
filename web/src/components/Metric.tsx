import { pct } from "../lib/format";

/** Whether a rise is good news (revenue, ROAS), bad news, or neither (spend: it depends). */
export type Polarity = "up_is_good" | "down_is_good" | "neutral";

export function Trend({ change, polarity, compareLabel }: {
  change: number | null | undefined;
  polarity: Polarity;
  compareLabel: string;
}) {
  if (change === null || change === undefined) {
    return <span className="trend trend-none">no comparison</span>;
  }
  const dir = Math.abs(change) < 0.05 ? "flat" : change > 0 ? "up" : "down";
  const tone =
    dir === "flat" || polarity === "neutral"
      ? "neutral"
      : (dir === "up") === (polarity === "up_is_good")
        ? "good"
        : "bad";
  const arrow = dir === "up" ? "▲" : dir === "down" ? "▼" : "▬";
  const words = dir === "flat" ? "unchanged" : dir === "up" ? `up ${pct(change).slice(1)}` : `down ${pct(change).slice(1)}`;
  return (
    <span className={`trend trend-${tone}`}>
      <span aria-hidden="true">{arrow} </span>
      <span aria-hidden="true">{pct(change)}</span>
      <span className="visually-hidden">{words}</span>
      <span className="trend-compare"> vs {compareLabel}</span>
    </span>
  );
}

export function Metric({ label, value, change, polarity, compareLabel, previous, help }: {
  label: string;
  value: string;
  change?: number | null;
  polarity: Polarity;
  compareLabel: string;
  previous?: string | null;
  help?: React.ReactNode;
}) {
  return (
    <div className="metric">
      <dt className="metric-label">
        {label} {help}
      </dt>
      <dd className="metric-value">{value}</dd>
      <dd className="metric-trend">
        <Trend change={change} polarity={polarity} compareLabel={compareLabel} />
        {previous ? <span className="metric-previous">was {previous}</span> : null}
      </dd>
    </div>
  );
}
