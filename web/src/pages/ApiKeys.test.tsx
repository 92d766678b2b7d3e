import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { CSRF_HEADER, api } from "../api/client";
import { fakeFetch } from "../test/fakeApi";

afterEach(async () => {
  vi.unstubAllGlobals();
  await api.signOut();
  window.history.pushState({}, "", "/");
  document.cookie = "tower_signed_in=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
});

const principal = { name: "northstar", role: "agency_admin", agency_id: "agency_456", brand_ids: ["acme"], via: "api_key" };
const row = (prefix: string, name: string) => ({
  key_prefix: prefix, name, role: "agency_member", agency_id: "agency_456", brand_ids: [], operator: false,
  created_at: "2026-12-01T10:00:00+00:00", last_used_at: null,
});

describe("signing in and the API keys screen", () => {
  it("signs in through a session, keeps no key, and sends the CSRF token on every change", async () => {
    let keys = [row("tower_aaaa1111", "looker")];
    const { fetchImpl, calls } = fakeFetch({
      "POST /api/session": { principal, csrf_token: "csrf-123", expires_at: null },
      "GET /api/agency/overview": { agency: null, brands: [] },
      "GET /api/api-keys": () => ({ body: { api_keys: keys } }),
      "POST /api/api-keys": (req) => {
        const made = row("tower_bbbb2222", (req.body as { name: string }).name);
        keys = [made, ...keys];
        return { status: 201, body: { api_key: "tower_bbbb2222-the-whole-secret", key: made } };
      },
      "DELETE /api/api-keys/tower_aaaa1111": () => {
        keys = keys.filter((k) => k.key_prefix !== "tower_aaaa1111");
        return { body: { removed: true, key: row("tower_aaaa1111", "looker") } };
      },
      "DELETE /api/session": { removed: true },
    });
    vi.stubGlobal("fetch", fetchImpl);
    const user = userEvent.setup();
    render(<App />);
    await user.type(await screen.findByLabelText("API key"), "tower_my-secret-key");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await user.click(await screen.findByRole("link", { name: "API keys" }));
    expect(await screen.findByRole("cell", { name: "looker" })).toBeTruthy();
    // the key went in the sign-in body only; nothing after carries it, nothing is stored
    const after = calls.filter((c) => c.url !== "/api/session");
    expect(after.every((c) => !c.headers.Authorization && !JSON.stringify(c).includes("tower_my-secret-key"))).toBe(true);
    expect(JSON.stringify({ ...localStorage })).not.toContain("tower_my-secret-key");
    expect(JSON.stringify({ ...sessionStorage })).not.toContain("tower_my-secret-key");

    await user.type(screen.getByLabelText("Name (who or what it is for)"), "dashboards");
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect((await screen.findByLabelText("The new API key")).textContent).toBe("tower_bbbb2222-the-whole-secret");
    const created = calls.find((c) => c.method === "POST" && c.url === "/api/api-keys");
    expect(created?.headers[CSRF_HEADER]).toBe("csrf-123");
    expect(created?.body).toEqual({ name: "dashboards", role: "agency_member" });
    await user.click(screen.getByRole("button", { name: "I have copied it" }));
    expect(screen.queryByText("tower_bbbb2222-the-whole-secret")).toBeNull();

    const looker = screen.getByRole("cell", { name: "looker" }).closest("tr") as HTMLElement;
    await user.click(within(looker).getByRole("button", { name: /Revoke/ }));
    expect(await screen.findByRole("cell", { name: "dashboards" })).toBeTruthy();
    await vi.waitFor(() => expect(screen.queryByRole("cell", { name: "looker" })).toBeNull());
    const revoked = calls.find((c) => c.method === "DELETE" && c.url.startsWith("/api/api-keys/"));
    expect(revoked?.headers[CSRF_HEADER]).toBe("csrf-123");
  });

  it("resumes a session after a reload by asking the session for its CSRF token", async () => {
    document.cookie = "tower_signed_in=1; path=/";
    const { fetchImpl, calls } = fakeFetch({
      "GET /api/session": { principal, csrf_token: "csrf-after-reload", expires_at: null },
      "GET /api/agency/overview": { agency: null, brands: [] },
      "DELETE /api/session": { removed: true },
    });
    vi.stubGlobal("fetch", fetchImpl);
    const user = userEvent.setup();
    render(<App />);
    await user.click(await screen.findByRole("button", { name: "Sign out" }));
    const out = calls.find((c) => c.method === "DELETE" && c.url === "/api/session");
    expect(out?.headers[CSRF_HEADER]).toBe("csrf-after-reload");
  });

  it("tells a role that cannot manage keys so", async () => {
    const forbidden = { status: 403, body: { error: { code: "forbidden", message: "the agency_member role may not manage API keys" } } };
    vi.stubGlobal("fetch", fakeFetch({
      "POST /api/session": { principal: { ...principal, role: "agency_member" }, csrf_token: "c", expires_at: null },
      "GET /api/agency/overview": { agency: null, brands: [] },
      "GET /api/api-keys": () => forbidden,
    }).fetchImpl);
    window.history.pushState({}, "", "/settings/api-keys");
    const user = userEvent.setup();
    render(<App />);
    await user.type(await screen.findByLabelText("API key"), "tower_member");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    window.history.pushState({}, "", "/settings/api-keys");
    window.dispatchEvent(new PopStateEvent("popstate"));
    expect((await screen.findByRole("alert")).textContent).toContain("cannot manage API keys");
  });
});

describe("the invitation link", () => {
  it("creates the account with Firebase Auth, accepts, and leaves the token behind", async () => {
    const { fetchImpl, calls } = fakeFetch({
      "GET /api/auth/config": {
        project_id: "demo-tower",
        identity_toolkit_url: "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1",
        api_key: "emulator",
      },
      "POST http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1/accounts:signUp": { idToken: "id-token-of-bea" },
      "POST /api/invitations/tok_123/accept": {
        principal: { ...principal, name: "bea@example.com", role: "agency_member", via: "sign_in" },
        csrf_token: "c",
        expires_at: null,
      },
      "GET /api/agency/overview": { agency: { agency_id: "agency_456", name: "Northstar" }, brands: [] },
    });
    vi.stubGlobal("fetch", fetchImpl);
    window.history.pushState({}, "", "/invitations/tok_123");
    const user = userEvent.setup();
    render(<App />);
    await user.type(await screen.findByLabelText("E-mail"), "bea@example.com");
    await user.type(screen.getByLabelText("Password"), "correct-horse");
    await user.click(screen.getByRole("button", { name: "Accept the invitation" }));
    await vi.waitFor(() => expect(window.location.pathname).toBe("/"));
    const signUp = calls.find((c) => c.url.includes("accounts:signUp"));
    expect(signUp?.url).toContain("?key=emulator");
    expect(signUp?.body).toEqual({ email: "bea@example.com", password: "correct-horse", returnSecureToken: true });
    const accept = calls.find((c) => c.url === "/api/invitations/tok_123/accept");
    expect(accept?.body).toEqual({ id_token: "id-token-of-bea" });
    // the password went to Firebase only, the ID token to the API only, and neither is kept
    expect(calls.filter((c) => c.url.startsWith("/api/")).some((c) => JSON.stringify(c).includes("correct-horse"))).toBe(false);
    expect(JSON.stringify({ ...localStorage, ...sessionStorage })).not.toContain("id-token-of-bea");
  });

  it("says what Firebase refused, in words", async () => {
    vi.stubGlobal("fetch", fakeFetch({
      "GET /api/auth/config": { project_id: "p", identity_toolkit_url: "https://idt.example/v1", api_key: "k" },
      "POST https://idt.example/v1/accounts:signInWithPassword": () => ({
        status: 400, body: { error: { message: "INVALID_LOGIN_CREDENTIALS" } },
      }),
    }).fetchImpl);
    const user = userEvent.setup();
    render(<App />);
    await user.click(await screen.findByText("Sign in with your e-mail instead"));
    await user.type(screen.getByLabelText("E-mail"), "x@example.com");
    await user.type(screen.getByLabelText("Password"), "nope");
    await user.click(screen.getByRole("button", { name: "Sign in with e-mail" }));
    expect(await screen.findByText(/e-mail address or the password is not right/)).toBeTruthy();
  });
});
