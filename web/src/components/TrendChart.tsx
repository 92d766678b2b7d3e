import { useMemo } from "react";
import type { Series } from "../api/types";
import { day, money, ratio } from "../lib/format";
import { ChartFrame } from "./charts/ChartFrame";
import { COMPARE, REVENUE, SPEND } from "./charts/colors";

/** Daily spend and revenue over the range, with the comparison period's revenue as a dashed line. */
export function TrendChart({ series, currency, compareLabel }: { series: Series; currency: string; compareLabel: string }) {
  const option = useMemo(() => {
    const dates = series.days.map((d) => day(d.date, false));
    const lines: object[] = [
      { name: "Spend", type: "line", data: series.days.map((d) => d.spend), itemStyle: { color: SPEND }, symbol: "none" },
      { name: "Revenue", type: "line", data: series.days.map((d) => d.revenue), itemStyle: { color: REVENUE }, symbol: "none" },
    ];
    if (series.compare_days?.length) {
      lines.push({
        name: `Revenue, ${compareLabel}`,
        type: "line",
        data: series.compare_days.map((d) => d.revenue),
        itemStyle: { color: COMPARE },
        lineStyle: { type: "dashed" },
        symbol: "none",
      });
    }
    return {
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      legend: { top: 0 },
      xAxis: { type: "category", data: dates },
      yAxis: { type: "value", axisLabel: { formatter: (v: number) => money(v, currency) } },
      tooltip: { trigger: "axis", valueFormatter: (v: number) => money(v, currency, { cents: true }) },
      series: lines,
    };
  }, [series, currency, compareLabel]);

  return (
    <ChartFrame
      chart={{ option, height: 240, label: `Daily ad spend and revenue, ${series.days.length} days. The table view lists each day.` }}
      table={
        <table className="data-table">
          <caption className="visually-hidden">Daily ad spend and revenue</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col" className="num">Spend</th>
              <th scope="col" className="num">Revenue</th>
              <th scope="col" className="num">ROAS</th>
            </tr>
          </thead>
          <tbody>
            {series.days.map((d) => (
              <tr key={d.date}>
                <th scope="row">{day(d.date)}</th>
                <td className="num">{money(d.spend, currency, { cents: true })}</td>
                <td className="num">{money(d.revenue, currency, { cents: true })}</td>
                <td className="num">{ratio(d.roas ?? (d.spend > 0 ? d.revenue / d.spend : null))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}
