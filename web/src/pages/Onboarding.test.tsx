import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { SESSION_MARKER, api } from "../api/client";
import { fakeFetch, type Handler } from "../test/fakeApi";
import { browser, etaText, type OnboardingState, type Step } from "./Onboarding";

const BRAND = "northwind";
const CSRF = "csrf-from-the-session";

function steps(current: Step["id"] | null, over: Partial<Record<Step["id"], Partial<Step>>> = {}): OnboardingState {
  const ids: Step["id"][] = ["install", "shopify", "subscribe", "ads", "sync", "dashboard"];
  const titles = ["Install or sign in", "Connect Shopify", "Subscribe", "Connect ad accounts", "First sync", "First dashboard"];
  const at = current ? ids.indexOf(current) : ids.length;
  return {
    brand_id: BRAND,
    current,
    complete: current === null,
    steps: ids.map((id, i) => ({
      id,
      title: titles[i],
      state: i < at ? "done" : i === at ? "current" : "todo",
      detail: `${id} detail`,
      error: null,
      ...(id === "ads" ? { platforms: { meta: [], tiktok: [], google_ads: [] } } : {}),
      ...over[id],
    })),
  };
}

let assigned: string[] = [];

function serve(routes: Record<string, Handler | object>) {
  const { fetchImpl, calls } = fakeFetch({
    "GET /api/session": { principal: { role: "merchant_owner", brand_ids: [BRAND] }, csrf_token: CSRF },
    ...routes,
  });
  vi.stubGlobal("fetch", fetchImpl);
  return calls;
}

beforeEach(() => {
  assigned = [];
  document.cookie = `${SESSION_MARKER}=1; path=/`; // what the install's redirect leaves beside its HttpOnly cookie
  vi.spyOn(browser, "go").mockImplementation((url: string) => {
    assigned.push(url);
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  await api.signOut();
  document.cookie = `${SESSION_MARKER}=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  window.history.pushState({}, "", "/");
});

describe("the onboarding wizard", () => {
  it("takes up the install's session and sends the merchant to Shopify's confirmation page to subscribe", async () => {
    const calls = serve({
      [`GET /api/brands/${BRAND}/onboarding`]: steps("subscribe", { subscribe: { detail: "Tower: 49.00 USD every 30 days, 14 days free" } }),
      [`POST /api/brands/${BRAND}/billing/subscribe`]: { status: "pending", confirmation_url: "https://shop.example/admin/charges/1/confirm" },
    });
    window.history.pushState({}, "", `/onboarding/${BRAND}`);
    const user = userEvent.setup();
    render(<App />);
    expect(await screen.findByRole("heading", { name: "Subscribe" })).toBeTruthy();
    expect(within(screen.getByRole("region", { name: "Subscribe" })).getByText("Tower: 49.00 USD every 30 days, 14 days free")).toBeTruthy();
    expect(screen.getByRole("list").querySelector('[aria-current="step"]')?.textContent).toContain("Subscribe");
    await user.click(screen.getByRole("button", { name: "Subscribe" }));
    await waitFor(() => expect(assigned).toEqual(["https://shop.example/admin/charges/1/confirm"]));
    const post = calls.find((c) => c.method === "POST");
    // the cookie session's CSRF token goes with the POST; no API key is involved
    expect(post?.headers["X-CSRF-Token"]).toBe(CSRF);
    expect(post?.headers.Authorization).toBeUndefined();
  });

  it("says what to do when the charge was declined", async () => {
    serve({
      [`GET /api/brands/${BRAND}/onboarding`]: steps("subscribe", {
        subscribe: { state: "error", error: { code: "plan_declined", message: "The subscription is declined", fix: "Subscribe again: Shopify asks you to approve the charge" } },
      }),
    });
    window.history.pushState({}, "", `/onboarding/${BRAND}?step=subscribe&error=plan_declined`);
    render(<App />);
    const alerts = await screen.findAllByRole("alert");
    expect(alerts.map((a) => a.textContent).join(" ")).toContain("Subscribe again and approve the charge");
    expect(screen.getByRole("button", { name: "Subscribe again" })).toBeTruthy();
  });

  it("connects an ad platform: authorize, then pick accounts when the platform sends the merchant back", async () => {
    let connected: string[] = [];
    const calls = serve({
      [`GET /api/brands/${BRAND}/onboarding`]: () => ({
        body: steps(connected.length ? "sync" : "ads", connected.length ? { ads: { platforms: { meta: [{ account_id: "act_9", status: "active" }], tiktok: [], google_ads: [] } } } : {}),
      }),
      [`POST /api/brands/${BRAND}/integrations/tiktok/authorize`]: { authorize_url: "http://tiktok.example/portal/auth?state=s" },
      [`GET /api/brands/${BRAND}/integrations/meta/accounts`]: {
        accounts: [
          { id: "act_9", name: "Northwind US", currency: "USD", time_zone: "America/Chicago" },
          { id: "act_10", name: "Old account", currency: "USD", time_zone: "America/Chicago" },
        ],
      },
      [`POST /api/brands/${BRAND}/integrations/meta/accounts`]: (req) => {
        connected = (req.body as { account_ids: string[] }).account_ids;
        return { status: 202, body: { integrations: [] } };
      },
    });
    window.history.pushState({}, "", `/onboarding/${BRAND}?step=accounts&platform=meta`);
    const user = userEvent.setup();
    render(<App />);
    const picker = await screen.findByRole("form", { name: "Pick Meta accounts" });
    await user.click(within(picker).getByRole("checkbox", { name: /Old account/ }));
    await user.click(within(picker).getByRole("button", { name: "Connect 1 account" }));
    await waitFor(() => expect(connected).toEqual(["act_9"]));
    expect(window.location.search).toBe("?step=ads");
    expect(await screen.findByText("1 connected")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Connect TikTok" }));
    await waitFor(() => expect(assigned).toEqual(["http://tiktok.example/portal/auth?state=s"]));
    expect(calls.some((c) => c.url.endsWith("/integrations/tiktok/authorize") && c.method === "POST")).toBe(true);
  });

  it("offers a Google manager's clients unticked, saying which manager reaches them", async () => {
    let connected: string[] = [];
    serve({
      [`GET /api/brands/${BRAND}/onboarding`]: steps("ads"),
      [`GET /api/brands/${BRAND}/integrations/google_ads/accounts`]: {
        accounts: [
          { id: "4440001111", name: "Northwind AU", currency: "AUD", time_zone: "Australia/Sydney", manager_id: "5550001111" },
          { id: "4440002222", name: "Another client", currency: "JPY", time_zone: "Asia/Tokyo", manager_id: "5550001111" },
          { id: "4440009999", name: "Founder's own", currency: "AUD", time_zone: "Australia/Brisbane", manager_id: null },
        ],
      },
      [`POST /api/brands/${BRAND}/integrations/google_ads/accounts`]: (req) => {
        connected = (req.body as { account_ids: string[] }).account_ids;
        return { status: 202, body: { integrations: [] } };
      },
    });
    window.history.pushState({}, "", `/onboarding/${BRAND}?step=accounts&platform=google_ads`);
    const user = userEvent.setup();
    render(<App />);
    const picker = await screen.findByRole("form", { name: "Pick Google Ads accounts" });
    const client = within(picker).getByRole("checkbox", { name: /Northwind AU/ }) as HTMLInputElement;
    expect(client.checked).toBe(false);
    expect((within(picker).getByRole("checkbox", { name: /Founder's own/ }) as HTMLInputElement).checked).toBe(true);
    expect(client.closest("label")?.textContent).toContain("through manager 5550001111");
    await user.click(client);
    await user.click(within(picker).getByRole("button", { name: "Connect 2 accounts" }));
    await waitFor(() => expect(connected.sort()).toEqual(["4440001111", "4440009999"]));
  });

  it("shows each platform's first sync live, with rows, stage, time left and what to do on a failure", async () => {
    serve({
      [`GET /api/brands/${BRAND}/onboarding`]: steps("sync"),
      [`GET /api/brands/${BRAND}/sync-progress`]: {
        brand_id: BRAND,
        platforms: [
          { platform: "shopify", status: "running", stage: "orders", rows: 1250, started_at: "2026-12-06T05:00:00Z", eta_seconds: 42, error: null },
          { platform: "meta", status: "ok", stage: "done", rows: 90, started_at: "2026-12-06T05:00:00Z", eta_seconds: 0, error: null },
          { platform: "tiktok", status: "needs_reauth", stage: "account 7: chunk 1 of 3", rows: 0, started_at: "2026-12-06T05:00:00Z", eta_seconds: null,
            error: { code: "needs_reauth", message: "token expired", fix: "connect the account again" } },
        ],
      },
    });
    window.history.pushState({}, "", `/onboarding/${BRAND}`);
    render(<App />);
    const table = await screen.findByRole("table", { name: "First sync progress" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-platform"))).toEqual(["shopify", "meta", "tiktok"]);
    expect(rows[0].textContent).toContain("orders");
    expect(rows[0].textContent).toContain("1,250");
    expect(rows[0].textContent).toContain("about 42 s left");
    expect(rows[1].textContent).toContain("done");
    expect(within(rows[2]).getByRole("alert").textContent).toBe("token expired: connect the account again");
  });

  it("ends on a link to the first dashboard", async () => {
    serve({ [`GET /api/brands/${BRAND}/onboarding`]: steps(null) });
    window.history.pushState({}, "", `/onboarding/${BRAND}`);
    render(<App />);
    const link = await screen.findByRole("link", { name: "Open your dashboard" });
    expect(link.getAttribute("href")).toBe(`/brands/${BRAND}`);
  });

  it("asks a visitor without a session to open the app from Shopify", async () => {
    serve({ "GET /api/session": () => ({ status: 401, body: { error: { code: "unauthorized", message: "no session" } } }) });
    window.history.pushState({}, "", `/onboarding/${BRAND}`);
    render(<App />);
    expect((await screen.findByText(/Open the app from your Shopify admin/)).textContent).toContain("sign in");
  });

  it("words the time left", () => {
    expect([etaText(null), etaText(0), etaText(4.2), etaText(600)]).toEqual(["working out time left", "done", "about 4 s left", "about 10 min left"]);
  });
});

describe("leaving the embedded page", () => {
  afterEach(() => {
    delete (globalThis as { shopify?: unknown }).shopify;
    vi.restoreAllMocks();
  });

  it("opens Shopify's or a platform's page in the whole window when framed by the admin", async () => {
    vi.mocked(browser.go).mockRestore(); // the real one, this time
    (globalThis as { shopify?: unknown }).shopify = { idToken: async () => "a.b.c" };
    const framedBy = {} as Window;
    vi.spyOn(window, "top", "get").mockReturnValue(framedBy);
    const open = vi.spyOn(window, "open").mockReturnValue(null);
    browser.go("https://shop.example/admin/charges/1/confirm");
    expect(open).toHaveBeenCalledWith("https://shop.example/admin/charges/1/confirm", "_top");
  });

  it("back inside the admin from a platform's consent, confirms the pending grant before picking accounts", async () => {
    (globalThis as { shopify?: unknown }).shopify = { idToken: async () => "a.b.c" };
    const order: string[] = [];
    const calls = serve({
      [`GET /api/brands/${BRAND}/onboarding`]: steps("ads"),
      [`POST /api/brands/${BRAND}/integrations/meta/authorization/confirm`]: (req) => {
        order.push(`confirm ${(req.body as { pending: string }).pending}`);
        return { body: { confirmed: true, brand_id: BRAND, platform: "meta" } };
      },
      [`GET /api/brands/${BRAND}/integrations/meta/accounts`]: () => {
        order.push("accounts");
        return { body: { accounts: [{ id: "act_9", name: "Northwind US", currency: "USD", time_zone: "America/Chicago" }] } };
      },
    });
    window.history.pushState({}, "", `/onboarding/${BRAND}?step=accounts&platform=meta&pending=p-42&embedded=1&shop=northwind.myshopify.com`);
    render(<App />);
    expect(await screen.findByRole("form", { name: "Pick Meta accounts" })).toBeTruthy();
    expect(order).toEqual(["confirm p-42", "accounts"]);
    // the id is used up: a reload must not confirm it again; the admin's query stays
    expect(window.location.search).toBe("?step=accounts&platform=meta&embedded=1&shop=northwind.myshopify.com");
    const confirm = calls.find((c) => c.url.endsWith("/authorization/confirm"));
    expect(confirm?.headers.Authorization).toBe("Bearer a.b.c");
  });

  it("says why a pending grant cannot be confirmed", async () => {
    (globalThis as { shopify?: unknown }).shopify = { idToken: async () => "a.b.c" };
    serve({
      [`GET /api/brands/${BRAND}/onboarding`]: steps("ads"),
      [`POST /api/brands/${BRAND}/integrations/meta/authorization/confirm`]: () => ({
        status: 410,
        body: { error: { code: "expired_pending", message: "this authorization waited too long to be confirmed; connect the account again" } },
      }),
    });
    window.history.pushState({}, "", `/onboarding/${BRAND}?step=accounts&platform=meta&pending=p-43&embedded=1`);
    render(<App />);
    expect((await screen.findByRole("alert")).textContent).toContain("waited too long");
  });
});
