import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { api } from "../api/client";
import { CHANNELS } from "../api/types";
import { fakeFetch, type Handler } from "../test/fakeApi";
import { dashboard, overview } from "../test/fixtures";

const KEY = "tower_component_test_key";

afterEach(async () => {
  vi.unstubAllGlobals();
  await api.signOut();
});

function drilldown(channel: string) {
  return {
    channel,
    as_of_date: "2026-12-04",
    performance: { total_spend: 100, total_revenue: 400, roas: 4, by_geo: { "US-CA": { spend: 60, revenue: 300, roas: 5 }, "CA-ON": { spend: 40, revenue: 100, roas: 2.5 } } },
    top_campaigns: [{ id: `${channel}-1`, name: `${channel} | Prospecting`, spend: 80, roas: 4.2 }],
    inventory_alignment: { products_promoted: [], mismatches: [] },
    recommendations: [],
  };
}

function serve(extra: Record<string, Handler | object> = {}) {
  const routes: Record<string, Handler | object> = {
    "GET /api/agency/overview": (req) =>
      req.headers.Authorization === `Bearer ${KEY}` ? { body: overview } : { status: 401, body: { error: { code: "unauthorized", message: "unknown API key" } } },
    "GET /api/brands/acme-candles/dashboard": dashboard,
    ...Object.fromEntries(CHANNELS.map((c) => [`GET /api/brands/acme-candles/drilldown/channel/${c}`, drilldown(c)])),
    ...extra,
  };
  const { fetchImpl, calls } = fakeFetch(routes);
  vi.stubGlobal("fetch", fetchImpl);
  return calls;
}

async function signIn(user: ReturnType<typeof userEvent.setup>) {
  await user.type(await screen.findByLabelText("API key"), KEY);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("the app", () => {
  it("asks for the key first, then lists the brands most urgent first and opens one", async () => {
    serve();
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    const rows = await screen.findAllByTestId("brand-row");
    expect(rows.map((r) => r.getAttribute("data-brand-id"))).toEqual(["acme-candles", "maple-and-moss", "calm-co"]);
    expect(within(rows[0]).getByText("Needs attention")).toBeTruthy();
    expect(within(rows[2]).getByText("Nothing pressing this week.")).toBeTruthy();
    expect(window.location.href).not.toContain(KEY);

    await user.click(within(rows[0]).getByRole("link", { name: "Acme Candles" }));
    expect(window.location.pathname).toBe("/brands/acme-candles");
    expect(await screen.findByRole("heading", { level: 1, name: "Acme Candles" })).toBeTruthy();
    const facts = screen.getByTestId("store-facts");
    expect(facts.textContent).toContain("USD");
    expect(facts.textContent).toContain("America/New York");
  });

  it("shows help without a key", async () => {
    serve();
    window.history.replaceState(null, "", "/help/figures");
    render(<App />);
    expect(await screen.findByRole("heading", { level: 1, name: "What the figures mean" })).toBeTruthy();
    expect(screen.queryByLabelText("API key")).toBeNull();
  });

  it("asks the API for a picked range and says when this API cannot serve it", async () => {
    const calls = serve();
    window.history.replaceState(null, "", "/brands/acme-candles");
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    await screen.findByTestId("summary-metrics");
    await user.selectOptions(screen.getByLabelText("Dates"), "last_30_days");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    expect(window.location.search).toBe("?range=last_30_days");
    await waitFor(() =>
      expect(calls.some((c) => c.url === "/api/brands/acme-candles/dashboard?period=last_30_days&compare=previous_period")).toBe(true),
    );
    expect((await screen.findByTestId("range-notice")).textContent).toContain("latest 7 days (Nov 28 – Dec 4, 2026)");
    expect(screen.getByTestId("range-label").textContent).toContain("Last 30 days");
  });

  it("shows the dates the API says it covered (its ends are exclusive)", async () => {
    serve({
      "GET /api/brands/acme-candles/dashboard": (req) =>
        req.url.includes("period=last_30_days")
          ? {
              body: {
                ...dashboard,
                range: { start: "2026-11-05", end: "2026-12-05", last_day: "2026-12-04", compare: "previous_year", compare_start: "2025-11-05", compare_end: "2025-12-05", label: "the last 30 days" },
              },
            }
          : { body: dashboard },
    });
    window.history.replaceState(null, "", "/brands/acme-candles?range=last_30_days&compare=previous_year");
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    await waitFor(() => expect(screen.getByTestId("range-label").textContent).toBe("Last 30 days (Nov 5 – Dec 4, 2026) compared with Nov 5 – Dec 4, 2025"));
    expect(screen.queryByTestId("range-notice")).toBeNull();
  });

  it("switches channel tabs, keeping the choice in the URL", async () => {
    serve();
    window.history.replaceState(null, "", "/brands/acme-candles");
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    await screen.findByTestId("summary-metrics");
    await user.click(screen.getByRole("tab", { name: "TikTok" }));
    expect(window.location.search).toBe("?channel=tiktok");
    const panel = screen.getByRole("tabpanel");
    expect(await within(panel).findByText("tiktok | Prospecting")).toBeTruthy();
    expect(within(panel).getByRole("heading", { name: "Where the money goes" })).toBeTruthy();
  });

  it("shows an error with a retry when the dashboard cannot be loaded", async () => {
    serve({ "GET /api/brands/acme-candles/dashboard": () => ({ status: 503, body: { error: { code: "platform_unavailable", message: "x" } } }) });
    window.history.replaceState(null, "", "/brands/acme-candles");
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Control Tower had a problem answering");
    expect(within(alert).getByRole("button", { name: "Try again" })).toBeTruthy();
  });

  it("goes back to sign-in when the key stops working", async () => {
    let ok = true;
    serve({
      "GET /api/agency/overview": () => (ok ? { body: overview } : { status: 401, body: { error: { code: "unauthorized", message: "unknown API key" } } }),
    });
    const user = userEvent.setup();
    render(<App />);
    await signIn(user);
    await screen.findAllByTestId("brand-row");
    ok = false;
    await user.click(screen.getByRole("link", { name: "Control Tower" }));
    await api.get("/api/agency/overview").catch(() => undefined);
    expect(await screen.findByLabelText("API key")).toBeTruthy();
  });
});
