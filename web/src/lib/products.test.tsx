import { describe, expect, it } from "vitest";
import { dashboard } from "../test/fixtures";
import { productsFromFindings, searchProducts, sortProducts, statusLabel } from "./products";

describe("product rows from this week's findings", () => {
  const rows = productsFromFindings(dashboard);

  it("names each product once, with the figures its cards and alerts carry", () => {
    expect(rows.map((r) => r.title).sort()).toEqual(["Sandalwood Rose Reed Diffuser", "Vanilla Bourbon Travel Tin", "Vanilla Bourbon Wax Melts"]);
    const melts = rows.find((r) => r.title === "Vanilla Bourbon Wax Melts")!;
    expect(melts).toMatchObject({ spend: 464.33, revenue: 2108.69, roas: 4.54, days_of_cover: 30.2, status: "aligned" });
    const tin = rows.find((r) => r.title === "Vanilla Bourbon Travel Tin")!;
    expect(tin).toMatchObject({ status: "spending_on_stockout", days_of_cover: 0, spend: 166.97 });
    expect(rows.find((r) => r.title.startsWith("Sandalwood"))!.status).toBe("underspending_overstock");
  });

  it("keeps the worst status when a product is named twice", () => {
    const merged = productsFromFindings({
      recommendations: [{ ...dashboard.recommendations[1], product_id: "gid://shopify/Product/3", product: "Tin" }],
      alerts: dashboard.alerts,
    });
    expect(merged).toHaveLength(1);
    expect(merged[0].status).toBe("spending_on_stockout");
    expect(merged[0].spend).toBe(464.33);
  });

  it("sorts by any column, missing figures last, and searches names and statuses", () => {
    expect(sortProducts(rows, "spend", "desc").map((r) => r.spend)).toEqual([464.33, 166.97, 36.91]);
    expect(sortProducts(rows, "days_of_cover", "asc").map((r) => r.days_of_cover)).toEqual([0, 30.2, null]);
    expect(sortProducts(rows, "status", "asc")[0].status).toBe("spending_on_stockout");
    expect(sortProducts(rows, "roas", "asc").at(-1)!.roas).toBeNull();
    expect(searchProducts(rows, "vanilla").length).toBe(2);
    expect(searchProducts(rows, "overstocked").map((r) => r.title)).toEqual(["Sandalwood Rose Reed Diffuser"]);
    expect(statusLabel("spending_on_stockout")).toBe("Advertised while out of stock");
  });
});
