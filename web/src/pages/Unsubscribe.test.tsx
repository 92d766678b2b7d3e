import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { api } from "../api/client";
import { fakeFetch } from "../test/fakeApi";

afterEach(async () => {
  vi.unstubAllGlobals();
  await api.signOut();
  window.history.pushState({}, "", "/");
});

describe("the unsubscribe link", () => {
  it("reads first, unsubscribes only on the click, without an API key", async () => {
    let gone: string[] = [];
    const { fetchImpl, calls } = fakeFetch({
      "GET /api/notify/unsubscribe": () => ({ body: { recipient_id: "ops", kind: "digest", unsubscribed: gone } }),
      "POST /api/notify/unsubscribe": () => {
        gone = ["digest"];
        return { body: { recipient_id: "ops", kind: "digest", unsubscribed: gone } };
      },
    });
    vi.stubGlobal("fetch", fetchImpl);
    window.history.pushState({}, "", "/unsubscribe?token=abc.def");
    const user = userEvent.setup();
    render(<App />);
    await user.click(await screen.findByRole("button", { name: "Unsubscribe" }));
    expect((await screen.findByRole("status")).textContent).toContain("ops no longer receives the weekly digest");
    const asked = calls.filter((c) => c.url.includes("/api/notify/unsubscribe"));
    expect(asked.map((c) => c.method)).toEqual(["GET", "POST"]);
    expect(asked[1].url).toContain("token=abc.def");
    expect(asked.every((c) => !c.headers.Authorization)).toBe(true);
  });

  it("says when the link is not valid", async () => {
    const bad = { status: 400, body: { error: { code: "invalid_token", message: "the unsubscribe token is not valid" } } };
    vi.stubGlobal("fetch", fakeFetch({ "GET /api/notify/unsubscribe": () => bad }).fetchImpl);
    window.history.pushState({}, "", "/unsubscribe?token=x");
    render(<App />);
    expect((await screen.findByRole("alert")).textContent).toContain("the unsubscribe token is not valid");
  });
});
