import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError } from "./client";
import { clientWith, fakeFetch } from "../test/fakeApi";

describe("ApiClient", () => {
  it("signs in by checking the key, then sends it as a bearer header and never in the URL", async () => {
    const key = "tower_secret_key_123";
    const { client, calls } = clientWith({
      "GET /api/agency/overview": (req) =>
        req.headers.Authorization === `Bearer ${key}` ? { body: { agency: null, brands: [] } } : { status: 401, body: { error: { code: "unauthorized", message: "unknown API key" } } },
    });
    await client.signIn(`  ${key} `);
    expect(client.signedIn).toBe(true);
    await client.get("/api/agency/overview");
    // the session route does not exist on this API: the key stays in memory
    expect(calls[0]).toMatchObject({ method: "POST", url: "/api/session" });
    for (const c of calls) expect(c.url).not.toContain(key);
    expect(calls.at(-1)!.headers.Authorization).toBe(`Bearer ${key}`);
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.length).toBe(0);
  });

  it("refuses a wrong or empty key and stays signed out", async () => {
    const { client } = clientWith({
      "GET /api/agency/overview": () => ({ status: 401, body: { error: { code: "unauthorized", message: "unknown API key" } } }),
    });
    await expect(client.signIn("tower_wrong")).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(client.signedIn).toBe(false);
    await expect(client.signIn("   ")).rejects.toMatchObject({ code: "empty_key" });
  });

  it("uses the API's session cookie when it offers one, and keeps no key", async () => {
    const { client, calls } = clientWith({
      "POST /api/session": { signed_in: true },
      "GET /api/agency/overview": { agency: null, brands: [] },
    });
    await client.signIn("tower_abc");
    await client.get("/api/agency/overview");
    expect(calls.at(-1)!.headers.Authorization).toBeUndefined();
    expect(calls[0].body).toEqual({ api_key: "tower_abc" });
  });

  it("revalidates with If-None-Match and returns the very same object on a 304", async () => {
    let n = 0;
    const { client, calls } = clientWith({
      "GET /api/brands/b/dashboard": (req) => {
        n += 1;
        if (req.headers["If-None-Match"] === '"v1"') return { status: 304, headers: { ETag: '"v1"' } };
        return { body: { n }, headers: { ETag: '"v1"' } };
      },
    });
    const first = await client.get<{ n: number }>("/api/brands/b/dashboard");
    const second = await client.get<{ n: number }>("/api/brands/b/dashboard");
    expect(second).toBe(first);
    expect(calls[1].headers["If-None-Match"]).toBe('"v1"');
    client.invalidate("/api/brands/b");
    await client.get("/api/brands/b/dashboard");
    expect(calls[2].headers["If-None-Match"]).toBeUndefined();
  });

  it("treats a missing route of a newer API as absent, once, but other 404s as errors", async () => {
    const { client, calls } = clientWith({
      "GET /api/brands/nope/series": () => ({ status: 404, body: { error: { code: "unknown_brand", message: "no brand" } } }),
    });
    expect(await client.getOptional("/api/brands/b/series", { start: "2026-11-01" }, "series")).toBeNull();
    expect(await client.getOptional("/api/brands/b/series", undefined, "series")).toBeNull();
    expect(calls).toHaveLength(1); // remembered: a poll does not ask again
    await expect(client.getOptional("/api/brands/nope/series", undefined, "other")).rejects.toBeInstanceOf(ApiError);
  });

  it("tells the page when the key stops working", async () => {
    let allowed = true;
    const { client } = clientWith({
      "GET /api/agency/overview": () => (allowed ? { body: { brands: [] } } : { status: 401, body: { error: { code: "unauthorized", message: "unknown API key" } } }),
    });
    await client.signIn("tower_k");
    const onUnauthorized = vi.fn();
    client.onUnauthorized = onUnauthorized;
    allowed = false;
    await expect(client.get("/api/agency/overview")).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledOnce();
    expect(client.signedIn).toBe(false);
  });

  it("reports an unreachable server in words", async () => {
    const broken = new ApiClient(() => Promise.reject(new TypeError("Failed to fetch")));
    await expect(broken.get("/api/agency/overview")).rejects.toMatchObject({ status: 0, code: "network" });
  });
});

describe("ApiClient embedded in the Shopify admin (App Bridge loaded)", () => {
  const principal = { name: "lakeside.myshopify.com", role: "merchant_owner", agency_id: null, brand_ids: ["lakeside"] };

  function embedded() {
    let n = 0;
    const idToken = vi.fn(async () => `header.token-${++n}.signature`);
    (globalThis as { shopify?: unknown }).shopify = { idToken };
    const credentials: (RequestCredentials | undefined)[] = [];
    const { fetchImpl, calls } = fakeFetch({
      "GET /api/session": (req) =>
        req.headers.Authorization?.startsWith("Bearer header.token-") ? { body: { principal, csrf_token: null } } : { status: 401, body: {} },
      "GET /api/brands/lakeside/dashboard": { kpis: [] },
      "POST /api/brands/lakeside/recommendations/r1/dismiss": { ok: true },
    });
    const spy = (async (input: RequestInfo | URL, init?: RequestInit) => {
      credentials.push(init?.credentials);
      return fetchImpl(input, init);
    }) as typeof fetch;
    return { client: new ApiClient(spy), calls, credentials, idToken };
  }

  afterEach(() => {
    delete (globalThis as { shopify?: unknown }).shopify;
  });

  it("is signed in without a cookie sign-in and learns who from its session token", async () => {
    const { client, calls } = embedded();
    expect(client.signedIn).toBe(true);
    expect(await client.resume()).toBe(true);
    expect(client.principal).toEqual(principal);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(["GET /api/session"]); // no POST /api/session
  });

  it("sends a fresh session token as a bearer header on every call, never a cookie or a CSRF token", async () => {
    const { client, calls, credentials, idToken } = embedded();
    await client.get("/api/brands/lakeside/dashboard");
    await client.post("/api/brands/lakeside/recommendations/r1/dismiss", { reason: "x" });
    await client.get("/api/brands/lakeside/dashboard");
    expect(idToken).toHaveBeenCalledTimes(3);
    expect(calls.map((c) => c.headers.Authorization)).toEqual([
      "Bearer header.token-1.signature",
      "Bearer header.token-2.signature",
      "Bearer header.token-3.signature",
    ]);
    expect(calls.every((c) => c.headers["X-CSRF-Token"] === undefined)).toBe(true);
    expect(credentials).toEqual(["omit", "omit", "omit"]);
  });

  it("says to reload the app when App Bridge gives no token, and sends nothing", async () => {
    const { client, calls, idToken } = embedded();
    idToken.mockRejectedValueOnce(new Error("not embedded"));
    await expect(client.get("/api/brands/lakeside/dashboard")).rejects.toMatchObject({ status: 401, code: "session_token" });
    expect(calls).toHaveLength(0);
  });
});
