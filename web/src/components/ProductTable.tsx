import { useId, useMemo, useState } from "react";
import type { ProductRow } from "../api/types";
import { count, days, money, productName, ratio } from "../lib/format";
import { searchProducts, type SortKey, sortProducts, statusLabel } from "../lib/products";
import { Empty, HelpLink } from "./States";
import { ScrollBox } from "./ScrollBox";
import { Thumb } from "./Thumb";

const SHOWN_FIRST = 10;

const COLUMNS: { key: SortKey; label: string; num: boolean; first: "asc" | "desc" }[] = [
  { key: "title", label: "Product", num: false, first: "asc" },
  { key: "available_units", label: "In stock", num: true, first: "asc" },
  { key: "days_of_cover", label: "Days of cover", num: true, first: "asc" },
  { key: "spend", label: "Ad spend", num: true, first: "desc" },
  { key: "revenue", label: "Revenue", num: true, first: "desc" },
  { key: "roas", label: "ROAS", num: true, first: "desc" },
  { key: "status", label: "Status", num: false, first: "asc" },
];

export function ProductTable({ rows, currency, partial }: { rows: ProductRow[]; currency: string; partial: boolean }) {
  const id = useId();
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; dir: "asc" | "desc" }>({ key: "status", dir: "asc" });
  const [all, setAll] = useState(false);
  const matching = useMemo(() => sortProducts(searchProducts(rows, query), sort.key, sort.dir), [rows, query, sort]);
  // a search shows every match; otherwise the first rows, the rest one click away
  const shown = all || query.trim() ? matching : matching.slice(0, SHOWN_FIRST);

  function sortBy(key: SortKey) {
    const col = COLUMNS.find((c) => c.key === key)!;
    setSort((s) => (s.key === key ? { key, dir: s.dir === "asc" ? "desc" : "asc" } : { key, dir: col.first }));
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <div className="card-head">
        <h2 id={`${id}-title`}>Products</h2>
        <HelpLink topic="figures" anchor="days-of-cover" label="What days of cover means" />
      </div>
      {partial ? (
        <p className="muted small">Showing the products this week's recommendations and alerts name.</p>
      ) : null}
      <div className="field field-inline">
        <label htmlFor={`${id}-search`}>Search products</label>
        <input
          id={`${id}-search`}
          type="search"
          value={query}
          placeholder="Name or status"
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <p className="visually-hidden" aria-live="polite">
        {matching.length} of {rows.length} products match
      </p>
      {matching.length === 0 ? (
        <Empty title={rows.length === 0 ? "No products to show yet." : `No product matches “${query}”.`} />
      ) : (
        <ScrollBox label="Products">
          <table className="data-table products-table">
            <caption className="visually-hidden">Products, sorted by {COLUMNS.find((c) => c.key === sort.key)!.label}</caption>
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th
                    key={c.key}
                    scope="col"
                    className={c.num ? "num" : undefined}
                    aria-sort={sort.key === c.key ? (sort.dir === "asc" ? "ascending" : "descending") : undefined}
                  >
                    <button type="button" className="sort-button" onClick={() => sortBy(c.key)}>
                      {c.label}
                      <span aria-hidden="true" className="sort-mark">
                        {sort.key === c.key ? (sort.dir === "asc" ? " ↑" : " ↓") : ""}
                      </span>
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.product_id}>
                  <th scope="row">
                    <span className="product-cell">
                      <Thumb item={r} name={productName(r.title, r.product_id)} />
                      {productName(r.title, r.product_id)}
                    </span>
                  </th>
                  <td className="num" data-label="In stock">{count(r.available_units)}</td>
                  <td className="num" data-label="Days of cover">{days(r.days_of_cover)}</td>
                  <td className="num" data-label="Ad spend">{money(r.spend, currency)}</td>
                  <td className="num" data-label="Revenue">{money(r.revenue, currency)}</td>
                  <td className="num" data-label="ROAS">{ratio(r.roas)}</td>
                  <td data-label="Status">
                    <span className={`status status-${r.status}`}>{statusLabel(r.status)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      {matching.length > SHOWN_FIRST && !query.trim() ? (
        <button type="button" className="button button-quiet show-more" aria-expanded={all} onClick={() => setAll((v) => !v)}>
          {all ? `Show the first ${SHOWN_FIRST} only` : `Show all ${matching.length} products`}
        </button>
      ) : null}
    </section>
  );
}
