import { describe, expect, it } from "vitest";
import type { ProductRow } from "../api/types";
import { alignmentOption } from "./AlignmentChart";

const row = (over: Partial<ProductRow>): ProductRow => ({
  product_id: "gid://shopify/Product/1",
  title: "Mug",
  available_units: 10,
  days_of_cover: 12,
  spend: 0,
  revenue: 0,
  roas: null,
  status: "aligned",
  ...over,
});

describe("alignmentOption", () => {
  const option = alignmentOption(
    [
      row({ product_id: "a", days_of_cover: 400, spend: 80, revenue: 200, status: "underspending_overstock" }),
      row({ product_id: "b", days_of_cover: null, spend: 0, revenue: 0, status: "underspending_overstock" }),
      row({ product_id: "c", days_of_cover: 3, spend: 150, revenue: 90, status: "overspending_low_stock" }),
    ],
    "EUR",
  );

  it("draws cover beyond the cap, and stock that is not selling, on the labelled top line", () => {
    const points = option.series.flatMap((s) => s.data.map((d) => [d.row.product_id, d.value[1]]));
    expect(Object.fromEntries(points)).toEqual({ a: 120, b: 120, c: 3 });
    expect(option.yAxis.axisLabel.formatter(120)).toBe("120+");
    expect(option.yAxis.axisLabel.formatter(40)).toBe("40");
  });

  it("keeps unadvertised products off the y axis and leaves the margin's negative ticks blank", () => {
    expect(option.xAxis.boundaryGap[0]).not.toBe("0%");
    expect(option.xAxis.axisLabel.formatter(-20)).toBe("");
    expect(option.xAxis.axisLabel.formatter(100)).toContain("100");
  });

  it("sizes bubbles by revenue", () => {
    const sizes = Object.fromEntries(option.series.flatMap((s) => s.data.map((d) => [d.row.product_id, d.symbolSize])));
    expect(sizes.a).toBe(50);
    expect(sizes.b).toBe(10);
    expect(sizes.c).toBeGreaterThan(10);
    expect(sizes.c).toBeLessThan(50);
  });
});
