import { fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/client";
import { productsFromFindings } from "../lib/products";
import { fakeFetch } from "../test/fakeApi";
import { dashboard } from "../test/fixtures";
import { AskBox } from "./AskBox";
import { ChannelTabs } from "./ChannelTabs";
import { ProductTable } from "./ProductTable";
import { SummaryCard } from "./SummaryCard";

afterEach(async () => {
  vi.unstubAllGlobals();
  await api.signOut();
});

describe("weekly summary card", () => {
  it("shows each figure with its trend in words and arrows, good and bad told apart", () => {
    render(<SummaryCard data={dashboard} compareLabel="the 7 days before" />);
    const metrics = within(screen.getByTestId("summary-metrics"));
    expect(metrics.getByText("$1,745")).toBeTruthy();
    expect(metrics.getByText("$10,937")).toBeTruthy();
    expect(metrics.getByText("6.27×")).toBeTruthy();
    expect(metrics.getByText("up 25.7%").closest(".trend")!.className).toContain("trend-good");
    expect(metrics.getByText("down 19.9%").closest(".trend")!.className).toContain("trend-bad");
    // more spend is neither good nor bad by itself
    expect(metrics.getByText("up 56.9%").closest(".trend")!.className).toContain("trend-neutral");
    expect(metrics.getByText("was $1,112")).toBeTruthy();
    expect(screen.getByText(/generated \$10,937 in Shopify revenue/)).toBeTruthy();
    expect(screen.getByText(/no AI/)).toBeTruthy();
  });

  it("adds the tiles a newer API sends", () => {
    render(
      <SummaryCard
        data={{ ...dashboard, tiles: { mer: { value: 5.1, previous: 4.8, change_pct: 6.3, unit: "ratio" }, profit: { value: 3200, change_pct: -2, unit: "money" } } }}
        compareLabel="previous period"
      />,
    );
    expect(screen.getByText("MER")).toBeTruthy();
    expect(screen.getByText("5.10×")).toBeTruthy();
    expect(screen.getByText("Profit after ads")).toBeTruthy();
    expect(screen.getByText("$3,200")).toBeTruthy();
  });

  it("says why there are no figures yet", () => {
    render(<SummaryCard data={{ ...dashboard, summary: null, performance_snapshot: { ...dashboard.performance_snapshot, as_of_date: null } }} compareLabel="x" />);
    expect(screen.getByText(/No figures yet/)).toBeTruthy();
    expect(screen.getByText(/appears after the first full week/)).toBeTruthy();
  });
});

describe("product table", () => {
  const rows = productsFromFindings(dashboard);

  it("sorts by a column heading, and again the other way", async () => {
    const user = userEvent.setup();
    render(<ProductTable rows={rows} currency="USD" partial />);
    const names = () => screen.getAllByRole("rowheader").map((h) => h.textContent);
    await user.click(screen.getByRole("button", { name: /Ad spend/ }));
    expect(names()).toEqual(["Vanilla Bourbon Wax Melts", "Vanilla Bourbon Travel Tin", "Sandalwood Rose Reed Diffuser"]);
    expect(screen.getByRole("columnheader", { name: /Ad spend/ }).getAttribute("aria-sort")).toBe("descending");
    await user.click(screen.getByRole("button", { name: /Ad spend/ }));
    expect(names()[0]).toBe("Sandalwood Rose Reed Diffuser");
    await user.click(screen.getByRole("button", { name: /Days of cover/ }));
    expect(names()[0]).toBe("Vanilla Bourbon Travel Tin");
  });

  it("filters by name and says when nothing matches", async () => {
    const user = userEvent.setup();
    render(<ProductTable rows={rows} currency="USD" partial={false} />);
    await user.type(screen.getByLabelText("Search products"), "wax");
    expect(screen.getAllByRole("rowheader").map((h) => h.textContent)).toEqual(["Vanilla Bourbon Wax Melts"]);
    await user.type(screen.getByLabelText("Search products"), "zzz");
    expect(screen.getByText("No product matches “waxzzz”.")).toBeTruthy();
  });
});

describe("channel tabs", () => {
  it("move with the arrow keys, Home and End, as tabs do", () => {
    const onChange = vi.fn();
    render(<ChannelTabs value="all" onChange={onChange} panelId="p" />);
    const all = screen.getByRole("tab", { name: "All channels" });
    expect(all.getAttribute("aria-selected")).toBe("true");
    expect(screen.getByRole("tab", { name: "Meta" }).tabIndex).toBe(-1);
    fireEvent.keyDown(all, { key: "ArrowRight" });
    expect(onChange).toHaveBeenLastCalledWith("meta");
    fireEvent.keyDown(all, { key: "ArrowLeft" });
    expect(onChange).toHaveBeenLastCalledWith("google_ads");
    fireEvent.keyDown(all, { key: "End" });
    expect(onChange).toHaveBeenLastCalledWith("google_ads");
    fireEvent.keyDown(all, { key: "Home" });
    expect(onChange).toHaveBeenLastCalledWith("all");
    expect(document.activeElement).toBe(all);
  });
});

describe("ask box", () => {
  it("shows the answer with the queries behind it", async () => {
    const { fetchImpl, calls } = fakeFetch({
      "POST /api/brands/acme-candles/ask": (req) => ({
        body: {
          question: (req.body as { question: string }).question,
          answer: "Your top product last month was Sandalwood Rose Candle: $6,198 in revenue.",
          author: "narrator",
          grounding: "narrator",
          queries: [{ tool: "top_products", input: { start_date: "2026-11-01", end_date: "2026-12-01", metric: "revenue" }, rows: 5, sql: "SELECT 1", data: [{ product: "Sandalwood Rose Candle", revenue: 6198.2 }] }],
        },
      }),
    });
    vi.stubGlobal("fetch", fetchImpl);
    const user = userEvent.setup();
    render(<AskBox brandId="acme-candles" />);
    await user.click(screen.getByRole("button", { name: "Ask" }));
    expect(screen.getByRole("alert").textContent).toBe("Type a question first.");
    await user.type(screen.getByLabelText("Your question"), "Which products performed best last month?");
    await user.click(screen.getByRole("button", { name: "Ask" }));
    const answer = await screen.findByTestId("answer");
    expect(within(answer).getByText(/Sandalwood Rose Candle: \$6,198/)).toBeTruthy();
    expect(within(answer).getByText("top_products")).toBeTruthy();
    expect(within(answer).getByText(/start date 2026-11-01/)).toBeTruthy();
    expect(within(answer).getByText("6198.20")).toBeTruthy();
    expect(within(answer).getByText("SELECT 1")).toBeTruthy();
    expect(calls[0].body).toEqual({ question: "Which products performed best last month?" });
  });

  it("lists the answer's figures with their units and links each to the query cell it came from", async () => {
    const { fetchImpl } = fakeFetch({
      "POST /api/brands/acme-candles/ask": () => ({
        body: {
          question: "Which products performed best last month?",
          answer: "Sandalwood Rose Candle took £6,198 at a 4.4× ROAS.",
          author: "claude",
          grounding: "passed",
          queries: [{ tool: "top_products", rows: 2, sql: "SELECT 1", columns: ["product_title", "revenue", "roas"],
                      data: [{ product_title: "Sandalwood Rose Candle", revenue: 6198.2, roas: 4.41 }, { product_title: "Fig", revenue: 10, roas: 1 }] }],
          figures: [
            { label: "Revenue, Sandalwood Rose Candle", value: 6198.2, unit: "GBP", text: "£6,198", check: "matched",
              source: { query: 0, tool: "top_products", column: "revenue", row: 0 } },
            { label: "ROAS, Sandalwood Rose Candle", value: 4.41, unit: "ratio", check: "relocated",
              source: { query: 0, tool: "top_products", column: "roas", row: 0 } },
          ],
          dropped_figures: [{ label: "Margin", value: 98765.4, reason: "not in the data" }],
        },
      }),
    });
    vi.stubGlobal("fetch", fetchImpl);
    const user = userEvent.setup();
    render(<AskBox brandId="acme-candles" currency="GBP" />);
    await user.click(screen.getByRole("button", { name: "Which products performed best last month?" }));
    const answer = await screen.findByTestId("answer");
    const table = within(answer).getByRole("table", { name: /Each figure the answer states/ });
    const revenue = within(table).getByRole("row", { name: /Revenue, Sandalwood Rose Candle/ });
    expect(within(revenue).getByText("£6,198")).toBeTruthy();
    const link = within(revenue).getByRole("link", { name: "query 1, revenue, row 1" });
    const target = document.getElementById(link.getAttribute("href")!.slice(1))!;
    expect(target.textContent).toBe("6198.20");
    expect(target.querySelector("mark")).toBeTruthy();
    const roas = within(table).getByRole("row", { name: /ROAS/ });
    expect(within(roas).getByText("4.41×")).toBeTruthy();
    expect(within(roas).getByText(/not where Claude said/)).toBeTruthy();
    expect(within(answer).getByRole("note").textContent).toMatch(/One figure Claude listed was not found .* Margin/);
  });

  it("says what went wrong with a question the API refuses", async () => {
    const { fetchImpl } = fakeFetch({
      "POST /api/brands/acme-candles/ask": () => ({ status: 400, body: { error: { code: "bad_question", message: "the question is longer than 500 characters" } } }),
    });
    vi.stubGlobal("fetch", fetchImpl);
    const user = userEvent.setup();
    render(<AskBox brandId="acme-candles" />);
    await user.click(screen.getByRole("button", { name: "Why did my revenue drop this week?" }));
    expect(await screen.findByText("the question is longer than 500 characters")).toBeTruthy();
  });
});
