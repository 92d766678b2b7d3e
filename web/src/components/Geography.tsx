import { useMemo, useState } from "react";
import type { Figures } from "../api/types";
import { compactMoney, money, ratio, regionCountry, regionName } from "../lib/format";
import { ChartFrame } from "./charts/ChartFrame";
import { REVENUE, SPEND } from "./charts/colors";
import { Empty } from "./States";

type Country = "all" | "US" | "CA";

export interface GeoRow extends Figures {
  code: string;
}

/** Regions summed over channels (the "All channels" tab). */
export function mergeGeo(parts: Record<string, Figures>[]): GeoRow[] {
  const acc = new Map<string, { spend: number; revenue: number }>();
  for (const part of parts) {
    for (const [code, f] of Object.entries(part)) {
      const a = acc.get(code) ?? { spend: 0, revenue: 0 };
      a.spend += f.spend;
      a.revenue += f.revenue;
      acc.set(code, a);
    }
  }
  return [...acc.entries()].map(([code, a]) => ({ code, ...a, roas: a.spend > 0 ? a.revenue / a.spend : null }));
}

export function toRows(byGeo: Record<string, Figures>): GeoRow[] {
  return Object.entries(byGeo).map(([code, f]) => ({ code, ...f }));
}

const TOP = 12;

/** Ranked bars per US state / Canadian province: spend and revenue side by side, ROAS in the table. */
export function Geography({ rows, currency, label }: { rows: GeoRow[]; currency: string; label: string }) {
  const [country, setCountry] = useState<Country>("all");
  const shown = useMemo(
    () =>
      rows
        .filter((r) => country === "all" || regionCountry(r.code) === country)
        .sort((a, b) => b.spend - a.spend || b.revenue - a.revenue),
    [rows, country],
  );
  const top = shown.slice(0, TOP);
  const hasCA = rows.some((r) => regionCountry(r.code) === "CA");

  const option = useMemo(() => {
    const names = top.map((r) => regionName(r.code)).reverse();
    return {
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
      legend: { top: 0, data: ["Spend", "Revenue"] },
      // compact labels ($1.5k), spaced out: full amounts collided at phone width
      xAxis: { type: "value", splitNumber: 4, axisLabel: { formatter: (v: number) => compactMoney(v, currency), hideOverlap: true } },
      yAxis: { type: "category", data: names, axisLabel: { width: 110, overflow: "truncate" } },
      tooltip: { trigger: "axis", valueFormatter: (v: number) => money(v, currency, { cents: true }) },
      series: [
        { name: "Spend", type: "bar", data: top.map((r) => r.spend).reverse(), itemStyle: { color: SPEND } },
        { name: "Revenue", type: "bar", data: top.map((r) => r.revenue).reverse(), itemStyle: { color: REVENUE } },
      ],
    };
  }, [top, currency]);

  return (
    <div className="geography">
      <div className="section-head">
        <h3>Where the money goes</h3>
        {hasCA ? (
          <div className="segmented" role="group" aria-label="Country">
            {(["all", "US", "CA"] as Country[]).map((c) => (
              <button key={c} type="button" className="button button-small" aria-pressed={country === c} onClick={() => setCountry(c)}>
                {c === "all" ? "US & Canada" : c === "US" ? "US states" : "Canadian provinces"}
              </button>
            ))}
          </div>
        ) : null}
      </div>
      {top.length === 0 ? (
        <Empty title="No regional figures for this period." />
      ) : (
        <ChartFrame
          chart={{
            option,
            height: Math.max(220, top.length * 34 + 40),
            label: `${label}: ad spend and revenue for the ${top.length} regions with the most spend. The same figures are in the table view.`,
          }}
          table={
            <table className="data-table">
              <caption className="visually-hidden">{label} by region</caption>
              <thead>
                <tr>
                  <th scope="col">Region</th>
                  <th scope="col" className="num">Spend</th>
                  <th scope="col" className="num">Revenue</th>
                  <th scope="col" className="num">ROAS</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.code}>
                    <th scope="row">{regionName(r.code)}</th>
                    <td className="num">{money(r.spend, currency, { cents: true })}</td>
                    <td className="num">{money(r.revenue, currency, { cents: true })}</td>
                    <td className="num">{ratio(r.roas)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          }
        />
      )}
      {shown.length > TOP ? <p className="muted small">The chart shows the top {TOP} of {shown.length} regions; the table lists all.</p> : null}
    </div>
  );
}
