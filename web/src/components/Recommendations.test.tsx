import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/client";
import { fakeFetch } from "../test/fakeApi";
import { budgetCard, promotionCard } from "../test/fixtures";
import { Recommendations } from "./Recommendations";

const BASE = "/api/brands/acme-candles/recommendations";

afterEach(async () => {
  vi.unstubAllGlobals();
  await api.signOut();
});

function setup(routes: Parameters<typeof fakeFetch>[0], recs = [budgetCard, promotionCard]) {
  const { fetchImpl, calls } = fakeFetch(routes);
  vi.stubGlobal("fetch", fetchImpl);
  const onChanged = vi.fn();
  render(<Recommendations brandId="acme-candles" recs={recs} currency="USD" week="2026-W49" onChanged={onChanged} />);
  return { calls, onChanged, user: userEvent.setup() };
}

describe("recommendation cards", () => {
  it("show priority, type, reason, impact and the spend change", () => {
    setup({});
    const card = screen.getByRole("article", { name: budgetCard.action });
    expect(within(card).getByText("low priority")).toBeTruthy();
    expect(within(card).getByText("Grow spend")).toBeTruthy();
    expect(within(card).getByText(/Strong ROAS/)).toBeTruthy();
    expect(within(card).getByText(/About \$738 incremental revenue/)).toBeTruthy();
    expect(within(card).getByText(/\$464 →/)).toBeTruthy();
    expect(screen.getByRole("heading", { name: /Recommendations · week 49/ })).toBeTruthy();
  });

  it("preview the exact platform change before Accept, then apply it on confirmation", async () => {
    const { calls, onChanged, user } = setup({
      [`POST ${BASE}/rec_budget/accept`]: (req) =>
        (req.body as { dry_run?: boolean }).dry_run
          ? {
              body: {
                recommendation_id: "rec_budget", brand_id: "acme-candles", dry_run: true,
                changes: [{ platform: "meta", campaign_id: "120327", campaign_name: "US | Retargeting | Catalog", currency: "USD", before: 33, after: 36.51, status: "dry_run" }],
              },
            }
          : { body: { recommendation_id: "rec_budget", brand_id: "acme-candles", status: "accepting", changed: true } },
    });
    const card = screen.getByRole("article", { name: budgetCard.action });
    await user.click(within(card).getByRole("button", { name: "Accept" }));
    const dialog = await screen.findByRole("dialog", { name: "Accept this recommendation?" });
    await within(dialog).findByText("US | Retargeting | Catalog");
    expect(within(dialog).getByText(/\$33\.00/)).toBeTruthy();
    expect(within(dialog).getByText("$36.51")).toBeTruthy();
    expect(within(dialog).getByText("Allowed")).toBeTruthy();
    expect(calls.filter((c) => c.method === "POST").map((c) => c.body)).toEqual([{ dry_run: true }]);
    await user.click(within(dialog).getByRole("button", { name: "Apply these changes" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "POST").map((c) => c.body)).toEqual([{ dry_run: true }, {}]);
    expect(onChanged).toHaveBeenCalled();
    expect(screen.getByText(/Accepted\. Applying the changes/)).toBeTruthy();
  });

  it("say when a budget moved on the platform since the card was made", async () => {
    const { user } = setup({
      [`POST ${BASE}/rec_budget/accept`]: () => ({
        status: 409,
        body: { error: { code: "budget_changed", message: "budget is 40 on the platform", conflicts: [{ platform: "meta", campaign_id: "120327", recorded: 33, current: 40 }] } },
      }),
    });
    await user.click(within(screen.getByRole("article", { name: budgetCard.action })).getByRole("button", { name: "Accept" }));
    const dialog = await screen.findByRole("dialog");
    expect(await within(dialog).findByText(/now \$40\.00, recommended on \$33\.00/)).toBeTruthy();
    expect((within(dialog).getByRole("button", { name: "Accept" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("explain that a promotion changes no ad budget", async () => {
    const { user } = setup({
      [`POST ${BASE}/rec_promo/accept`]: { recommendation_id: "rec_promo", brand_id: "acme-candles", dry_run: true, changes: [] },
    });
    await user.click(within(screen.getByRole("article", { name: promotionCard.action })).getByRole("button", { name: "Accept" }));
    expect(await screen.findByText(/Nothing changes on an ad platform/)).toBeTruthy();
  });

  it("need a reason to dismiss, and send it", async () => {
    const { calls, user } = setup({
      [`POST ${BASE}/rec_promo/dismiss`]: { recommendation_id: "rec_promo", brand_id: "acme-candles", status: "dismissed", changed: true },
    });
    await user.click(within(screen.getByRole("article", { name: promotionCard.action })).getByRole("button", { name: "Dismiss" }));
    const dialog = await screen.findByRole("dialog", { name: "Dismiss this recommendation" });
    await user.click(within(dialog).getByRole("button", { name: "Dismiss" }));
    expect(within(dialog).getByRole("alert").textContent).toBe("Pick a reason.");
    await user.click(within(dialog).getByLabelText("Other"));
    await user.click(within(dialog).getByRole("button", { name: "Dismiss" }));
    expect(within(dialog).getByRole("alert").textContent).toBe("Say briefly why.");
    await user.type(within(dialog).getByLabelText("Your reason"), "We run our own promotions");
    await user.click(within(dialog).getByRole("button", { name: "Dismiss" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.at(-1)).toMatchObject({ url: `${BASE}/rec_promo/dismiss`, body: { reason: "We run our own promotions" } });
  });

  it("offer Undo on an applied card only", async () => {
    const { calls, user } = setup(
      { [`POST ${BASE}/rec_budget/undo`]: { recommendation_id: "rec_budget", brand_id: "acme-candles", status: "undoing", changed: true } },
      [{ ...budgetCard, status: "applied" }, promotionCard],
    );
    const applied = screen.getByRole("article", { name: budgetCard.action });
    expect(within(applied).queryByRole("button", { name: "Accept" })).toBeNull();
    expect(within(applied).getByText("Applied")).toBeTruthy();
    expect(within(screen.getByRole("article", { name: promotionCard.action })).queryByRole("button", { name: "Undo" })).toBeNull();
    await user.click(within(applied).getByRole("button", { name: "Undo" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Undo the change" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.at(-1)!.url).toBe(`${BASE}/rec_budget/undo`);
  });

  it("close a dialog with Escape and give focus back to the button that opened it", async () => {
    const { user } = setup({ [`POST ${BASE}/rec_promo/accept`]: { changes: [] } });
    const button = within(screen.getByRole("article", { name: promotionCard.action })).getByRole("button", { name: "Dismiss" });
    await user.click(button);
    await screen.findByRole("dialog");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it("say so when there is nothing to act on", () => {
    setup({}, []);
    expect(screen.getByText("Nothing to act on this week.")).toBeTruthy();
  });
});
