// One ECharts canvas. Loaded lazily (React.lazy) so ECharts is not in the first screen's bundle.
import { BarChart, LineChart, ScatterChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import type { EChartsCoreOption } from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";

echarts.use([BarChart, LineChart, ScatterChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export interface EChartProps {
  option: EChartsCoreOption;
  height: number;
  /** What the chart shows, for screen readers (the same figures are in the table beside it). */
  label: string;
  onSelect?: (dataIndex: number, seriesIndex: number) => void;
}

function canvasWorks(): boolean {
  try {
    return !!document.createElement("canvas").getContext("2d");
  } catch {
    return false;
  }
}

export default function EChart({ option, height, label, onSelect }: EChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;

  useEffect(() => {
    if (!el.current || !canvasWorks()) return;
    const c = echarts.init(el.current, null, { renderer: "canvas" });
    chart.current = c;
    c.on("click", (p) => onSelectRef.current?.(p.dataIndex, p.seriesIndex ?? 0));
    const ro = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => c.resize());
    ro?.observe(el.current);
    return () => {
      ro?.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    // The page's Content-Security-Policy forbids inline style attributes, which ECharts' HTML
    // tooltips use: tooltips are drawn on the canvas instead (renderMode richText).
    chart.current?.setOption(
      {
        animation: false,
        textStyle: { fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif" },
        ...option,
        tooltip: { renderMode: "richText", confine: true, ...((option.tooltip as object) ?? {}) },
      },
      { notMerge: true },
    );
  }, [option]);

  return <div ref={el} className="echart" role="img" aria-label={label} style={{ height }} />;
}
