import { render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/client";
import type { Notifications } from "../api/types";
import { fakeFetch } from "../test/fakeApi";
import { NotificationsPanel } from "./Notifications";

afterEach(async () => {
  vi.unstubAllGlobals();
  await api.signOut();
});

const log: Notifications = {
  agency_id: "agency_demo",
  recipients: [
    { recipient_id: "ops", channel: "email", address: "ops@northstar.example" },
    { recipient_id: "growth", channel: "slack", address: "#growth" },
  ],
  deliveries: [
    { delivery_id: "d3", kind: "digest", recipient_id: "ops", channel: "email", status: "dead", attempts: 4,
      title: "Northstar: weekly digest, last week (2026-11-16 to 2026-11-22)", last_error: "SendError: the SMTP server could not be reached", updated_at: "2026-11-23T15:02:00+00:00" },
    { delivery_id: "d2", kind: "alert", recipient_id: "ops", channel: "email", status: "held", reason: "budget", attempts: 0,
      title: "ROAS fell on Meta", updated_at: "2026-11-23T15:01:00+00:00" },
    { delivery_id: "d1", kind: "alert", recipient_id: "growth", channel: "slack", status: "sent", reason: "ok", attempts: 1,
      title: "SKU-1 sells out in 3 days", updated_at: "2026-11-23T15:00:00+00:00" },
  ],
  counts: { sent: 1, held: 1, rolled: 0, skipped: 0, retrying: 0, dead: 1 },
};

describe("what was sent", () => {
  it("lists the newest deliveries with why they were held or failed", async () => {
    vi.stubGlobal("fetch", fakeFetch({ "GET /api/agency/notifications": log }).fetchImpl);
    render(<NotificationsPanel />);
    const rows = await screen.findAllByTestId("delivery-row");
    expect(rows).toHaveLength(3);
    expect(within(rows[0]).getByText(/Failed/)).toBeTruthy();
    expect(within(rows[0]).getByText(/could not be reached/)).toBeTruthy();
    expect(within(rows[1]).getByText("Held for the digest (over the daily limit)")).toBeTruthy();
    expect(within(rows[2]).getByText("Sent")).toBeTruthy();
    expect(screen.getByText(/1 sent · 1 held for the next digest · 1 failed · 2 recipients/)).toBeTruthy();
  });

  it("shows nothing to a key that has no agency", async () => {
    const forbidden = { status: 403, body: { error: { code: "forbidden", message: "use the agency's API key" } } };
    const { fetchImpl, calls } = fakeFetch({ "GET /api/agency/notifications": () => forbidden });
    vi.stubGlobal("fetch", fetchImpl);
    const { container } = render(<NotificationsPanel />);
    await vi.waitFor(() => expect(calls.length).toBeGreaterThan(0));
    expect(container.textContent).toBe("");
  });

  it("tells an agency without recipients how to add one", async () => {
    const empty = { agency_id: "agency_demo", recipients: [], deliveries: [],
                    counts: { sent: 0, held: 0, rolled: 0, skipped: 0, retrying: 0, dead: 0 } };
    const { fetchImpl } = fakeFetch({ "GET /api/agency/notifications": () => ({ body: empty }) });
    vi.stubGlobal("fetch", fetchImpl);
    render(<NotificationsPanel />);
    const note = await screen.findByTestId("no-recipients");
    expect(note.textContent).toMatch(/Nobody receives alerts .* tower notify add --agency agency_demo/);
  });
});
