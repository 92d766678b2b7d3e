import { useMemo } from "react";
import type { ProductRow } from "../api/types";
import { days, money, productName, ratio } from "../lib/format";
import { STATUS_LABELS, statusLabel } from "../lib/products";
import { ChartFrame } from "./charts/ChartFrame";
import { STATUS_COLORS } from "./charts/colors";
import { Empty, HelpLink } from "./States";

// Cover beyond this (or stock that does not sell) is drawn on the top line: the question the chart
// answers is "is money going where the stock is", and 400 days of cover reads the same as 120.
const COVER_CAP = 120;

/** The chart's ECharts option: one scatter series per status present, cover capped at COVER_CAP. */
export function alignmentOption(rows: ProductRow[], currency: string) {
  const maxRevenue = Math.max(1, ...rows.map((r) => r.revenue));
  const statuses = Object.keys(STATUS_LABELS).filter((s) => rows.some((r) => r.status === s));
  return {
    grid: { left: 8, right: 24, top: 56, bottom: 32, containLabel: true },
    legend: { top: 0, type: "scroll", data: statuses.map(statusLabel) },
    // A margin left of zero keeps bubbles of unadvertised products off the y axis's labels; the
    // negative ticks it brings are left blank.
    xAxis: {
      type: "value",
      name: "Ad spend",
      nameLocation: "middle",
      nameGap: 28,
      boundaryGap: ["6%", "4%"],
      axisLabel: { formatter: (v: number) => (v < 0 ? "" : money(v, currency)) },
    },
    yAxis: {
      type: "value",
      name: "Days of cover",
      max: COVER_CAP,
      min: 0,
      axisLabel: { formatter: (v: number) => (v >= COVER_CAP ? `${COVER_CAP}+` : String(v)) },
    },
    tooltip: {
      trigger: "item",
      formatter: (p: { data: { row: ProductRow } }) => {
        const r = p.data.row;
        return `${productName(r.title, r.product_id)}\n${statusLabel(r.status)}\nSpend ${money(r.spend, currency)} · Revenue ${money(r.revenue, currency)}\nCover ${days(r.days_of_cover)}`;
      },
    },
    series: statuses.map((s) => ({
      name: statusLabel(s),
      type: "scatter",
      itemStyle: { color: STATUS_COLORS[s] ?? STATUS_COLORS.unknown, opacity: 0.8 },
      data: rows
        .filter((r) => r.status === s)
        .map((r) => ({
          value: [r.spend, r.days_of_cover === null ? COVER_CAP : Math.min(r.days_of_cover, COVER_CAP)],
          symbolSize: 10 + 40 * Math.sqrt(Math.max(0, r.revenue) / maxRevenue),
          row: r,
        })),
    })),
  };
}

/** Inventory ↔ ad alignment: x spend, y days of cover, bubble size revenue, colour status. */
export function AlignmentChart({ rows, currency }: { rows: ProductRow[]; currency: string }) {
  const option = useMemo(() => alignmentOption(rows, currency), [rows, currency]);

  return (
    <section className="card" aria-labelledby="alignment-title">
      <div className="card-head">
        <h2 id="alignment-title">Is ad money going where the stock is?</h2>
        <HelpLink topic="dashboard" anchor="alignment" label="How to read the alignment chart" />
      </div>
      <p className="muted small">
        Each bubble is a product: further right is more ad spend, higher is more days of stock, bigger is more revenue.
        Trouble sits bottom right (spend on little stock) and top left (stock with no ads). Products with more
        than {COVER_CAP} days of cover, or stock that is not selling, sit on the top line.
      </p>
      {rows.length === 0 ? (
        <Empty title="No products to place yet." />
      ) : (
        <ChartFrame
          chart={{
            option,
            height: 320,
            label: `Alignment of ad spend and stock for ${rows.length} products. The table view lists each product's figures.`,
          }}
          table={
            <table className="data-table">
              <caption className="visually-hidden">Products by ad spend and days of cover</caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col" className="num">Spend</th>
                  <th scope="col" className="num">Days of cover</th>
                  <th scope="col" className="num">Revenue</th>
                  <th scope="col" className="num">ROAS</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.product_id}>
                    <th scope="row">{productName(r.title, r.product_id)}</th>
                    <td className="num">{money(r.spend, currency)}</td>
                    <td className="num">{days(r.days_of_cover)}</td>
                    <td className="num">{money(r.revenue, currency)}</td>
                    <td className="num">{ratio(r.roas)}</td>
                    <td>{statusLabel(r.status)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          }
        />
      )}
    </section>
  );
}
