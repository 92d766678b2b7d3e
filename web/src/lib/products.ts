// Product rows for the alignment chart and the product table. A newer API serves every product
// (GET …/products, from the inventory_alignment model); until then the rows come from what this
// week's cards and alerts say about the products they name.
import type { Alert, Dashboard, ProductRow, Recommendation } from "../api/types";

export const STATUS_LABELS: Record<string, string> = {
  spending_on_stockout: "Advertised while out of stock",
  overspending_low_stock: "Heavily advertised, low stock",
  low_stock: "Low stock, still advertised",
  underspending_overstock: "Overstocked, little ad support",
  aligned: "Aligned",
  unknown: "Not judged",
};

// Worst first: a product named by several findings shows the most urgent.
const SEVERITY = ["spending_on_stockout", "overspending_low_stock", "low_stock", "underspending_overstock", "aligned", "unknown"];

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status.replace(/_/g, " ");
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function fromRecommendation(r: Recommendation): ProductRow | null {
  if (!r.product_id) return null;
  const m = r.metrics ?? {};
  const status =
    r.type === "promotion" ? "underspending_overstock" : r.type === "reduce_spend" ? "overspending_low_stock" : "aligned";
  const spend = num(m.spend) ?? num(m.ad_spend) ?? r.current_spend ?? 0;
  const revenue = num(m.revenue) ?? 0;
  return {
    product_id: r.product_id,
    title: r.product ?? "",
    image_url: r.image_url ?? null,
    image_alt: r.image_alt ?? null,
    available_units: num(m.available_units),
    days_of_cover: num(m.days_of_cover),
    spend,
    revenue,
    roas: num(m.roas) ?? (spend > 0 ? revenue / spend : null),
    status,
  };
}

function fromAlert(a: Alert): ProductRow | null {
  if (!a.product_id) return null;
  const m = a.metrics ?? {};
  const mismatch = typeof m.mismatch === "string" ? m.mismatch : null;
  const status = mismatch ?? (a.type === "stockout_risk" ? "low_stock" : "unknown");
  return {
    product_id: a.product_id,
    title: a.product ?? "",
    image_url: a.image_url ?? null,
    image_alt: a.image_alt ?? null,
    available_units: num(m.available_units),
    days_of_cover: num(m.days_of_cover),
    spend: num(m.spend) ?? num(m.ad_spend_7d) ?? 0,
    revenue: num(m.revenue) ?? 0,
    roas: num(m.roas),
    status,
  };
}

/** One row per product named by the dashboard's cards and alerts, merged (the larger figures, the worst status). */
export function productsFromFindings(d: Pick<Dashboard, "recommendations" | "alerts">): ProductRow[] {
  const rows = new Map<string, ProductRow>();
  const candidates = [...d.alerts.map(fromAlert), ...d.recommendations.map(fromRecommendation)];
  for (const row of candidates) {
    if (!row) continue;
    const had = rows.get(row.product_id);
    if (!had) {
      rows.set(row.product_id, row);
      continue;
    }
    const worse = SEVERITY.indexOf(row.status) < SEVERITY.indexOf(had.status) ? row.status : had.status;
    const richer = row.spend > had.spend ? row : had;
    rows.set(row.product_id, {
      ...richer,
      title: had.title || row.title,
      available_units: had.available_units ?? row.available_units,
      days_of_cover: had.days_of_cover ?? row.days_of_cover,
      revenue: Math.max(had.revenue, row.revenue),
      status: worse,
    });
  }
  return [...rows.values()];
}

export type SortKey = "title" | "available_units" | "days_of_cover" | "spend" | "revenue" | "roas" | "status";

export function sortProducts(rows: ProductRow[], key: SortKey, dir: "asc" | "desc"): ProductRow[] {
  const sign = dir === "asc" ? 1 : -1;
  const value = (r: ProductRow): number | string | null => {
    if (key === "title") return r.title.toLowerCase();
    if (key === "status") return SEVERITY.indexOf(r.status) === -1 ? SEVERITY.length : SEVERITY.indexOf(r.status);
    if (key === "days_of_cover") return r.days_of_cover ?? Number.POSITIVE_INFINITY; // no sales: unbounded cover
    return r[key];
  };
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    // missing figures sort last whichever the direction
    if (va === null && vb === null) return a.title.localeCompare(b.title);
    if (va === null) return 1;
    if (vb === null) return -1;
    if (va < vb) return -1 * sign;
    if (va > vb) return 1 * sign;
    return a.title.localeCompare(b.title);
  });
}

export function searchProducts(rows: ProductRow[], text: string): ProductRow[] {
  const q = text.trim().toLowerCase();
  if (!q) return rows;
  return rows.filter((r) => r.title.toLowerCase().includes(q) || statusLabel(r.status).toLowerCase().includes(q));
}
