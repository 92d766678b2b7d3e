import { lazy, type ReactNode, Suspense, useState } from "react";
import { ScrollBox } from "../ScrollBox";
import type { EChartProps } from "./EChart";

const EChart = lazy(() => import("./EChart"));

/**
 * A chart with its figures one click away as a table: the table is what a screen reader, a
 * keyboard user or a narrow phone reads best, and the chart is what an eye scans fastest.
 */
export function ChartFrame({ chart, table, tableFirst = false }: {
  chart: EChartProps;
  table: ReactNode;
  tableFirst?: boolean;
}) {
  const [asTable, setAsTable] = useState(tableFirst);
  return (
    <div className="chart-frame">
      <div className="chart-toggle">
        <button type="button" className="button button-small button-quiet" aria-pressed={asTable} onClick={() => setAsTable((v) => !v)}>
          {asTable ? "Show as chart" : "Show as table"}
        </button>
      </div>
      {asTable ? (
        <ScrollBox label={chart.label.split(".")[0]}>{table}</ScrollBox>
      ) : (
        <Suspense fallback={<div className="chart-placeholder" style={{ height: chart.height }} aria-hidden="true" />}>
          <EChart {...chart} />
        </Suspense>
      )}
    </div>
  );
}
