import type { Dashboard, Tile } from "../api/types";
import { channelName, money, ratio } from "../lib/format";
import { Metric, type Polarity } from "./Metric";
import { HelpLink } from "./States";

// Tiles a newer API adds (dashboard.tiles), in the order they are shown, with how to read them.
const TILE_INFO: Record<string, { label: string; unit: Tile["unit"]; polarity: Polarity; anchor: string }> = {
  blended_roas: { label: "Blended ROAS", unit: "ratio", polarity: "up_is_good", anchor: "roas" },
  mer: { label: "MER", unit: "percent", polarity: "down_is_good", anchor: "mer" },
  new_customer_revenue: { label: "New-customer revenue", unit: "money", polarity: "up_is_good", anchor: "new-customer-revenue" },
  profit: { label: "Profit after ads", unit: "money", polarity: "up_is_good", anchor: "profit" },
};

function tileValue(t: Tile, unit: Tile["unit"], currency: string): string {
  if (t.value === null || t.value === undefined) return "—";
  if (unit === "money") return money(t.value, currency);
  if (unit === "ratio") return ratio(t.value);
  if (unit === "percent") return `${t.value.toFixed(1)}%`;
  return String(t.value);
}

export function SummaryCard({ data, compareLabel }: { data: Dashboard; compareLabel: string }) {
  const snap = data.performance_snapshot;
  const currency = snap.currency ?? data.brand.currency;
  const prev = snap.previous_week;
  const ch = snap.changes;
  const summary = data.summary;
  // Blended ROAS is always shown (from the snapshot when the API sends no tile); other tiles as sent.
  const extra = Object.entries(data.tiles ?? {}).filter(([k]) => k !== "blended_roas");
  const roasTile = data.tiles?.blended_roas;

  return (
    <section className="card summary-card" aria-labelledby="summary-title">
      <div className="card-head">
        <h2 id="summary-title">
          Weekly summary{summary?.week ? <span className="card-sub"> · week {summary.week.split("-W")[1]}</span> : null}
        </h2>
        <HelpLink topic="dashboard" anchor="weekly-summary" label="What the weekly summary shows" />
      </div>
      {snap.as_of_date === null ? (
        <p className="muted">No figures yet: the first sync and model build have not finished for this store.</p>
      ) : (
        <dl className="metrics" data-testid="summary-metrics">
          <Metric
            label="Ad spend"
            value={money(snap.total_spend, currency)}
            change={ch?.spend_pct}
            polarity="neutral"
            compareLabel={compareLabel}
            previous={prev ? money(prev.total_spend, currency) : null}
          />
          <Metric
            label="Revenue"
            value={money(snap.total_revenue, currency)}
            change={ch?.revenue_pct}
            polarity="up_is_good"
            compareLabel={compareLabel}
            previous={prev ? money(prev.total_revenue, currency) : null}
            help={<HelpLink topic="figures" anchor="revenue" label="How revenue is counted" />}
          />
          <Metric
            label="Blended ROAS"
            value={ratio(roasTile?.value ?? snap.blended_roas)}
            change={roasTile ? roasTile.change_pct : ch?.roas_pct}
            polarity="up_is_good"
            compareLabel={compareLabel}
            previous={prev ? ratio(prev.blended_roas) : null}
            help={<HelpLink topic="figures" anchor="roas" label="What blended ROAS means" />}
          />
          {extra.map(([key, t]) => {
            const info = TILE_INFO[key] ?? { label: t.label ?? key, unit: t.unit ?? "count", polarity: "neutral" as Polarity, anchor: "" };
            return (
              <Metric
                key={key}
                label={t.label ?? info.label}
                value={tileValue(t, t.unit ?? info.unit, currency)}
                change={t.change_pct}
                polarity={info.polarity}
                compareLabel={compareLabel}
                previous={t.previous !== undefined && t.previous !== null ? tileValue({ value: t.previous }, t.unit ?? info.unit, currency) : null}
                help={info.anchor ? <HelpLink topic="figures" anchor={info.anchor} label={`What ${info.label} means`} /> : undefined}
              />
            );
          })}
        </dl>
      )}
      {summary?.summary ? (
        <div className="summary-text">
          <p>{summary.summary}</p>
          {summary.inventory_insights ? <p>{summary.inventory_insights}</p> : null}
          {summary.channel_performance && Object.keys(summary.channel_performance).length > 0 ? (
            <details>
              <summary>Channel by channel</summary>
              <ul className="plain-list">
                {Object.entries(summary.channel_performance).map(([c, text]) => (
                  <li key={c}>
                    <strong>{channelName(c)}:</strong> {text}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
          <p className="byline">
            {summary.author === "claude"
              ? "Written by Claude from this week's figures, and checked against them."
              : "Written from this week's figures by Control Tower's own templates (no AI)."}
          </p>
        </div>
      ) : (
        <p className="muted">The weekly summary appears after the first full week of data is modelled.</p>
      )}
    </section>
  );
}
