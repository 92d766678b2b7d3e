import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { CSRF_HEADER, api } from "../api/client";
import { Recommendations } from "../components/Recommendations";
import { type Handler, fakeFetch } from "../test/fakeApi";
import { budgetCard, dashboard } from "../test/fixtures";

// A Norwegian knitwear shop, not the demo's brands.
const BRAND = "fjord-knits";
const AUTH = {
  "GET /api/auth/config": {
    project_id: "demo-tower",
    identity_toolkit_url: "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1",
    api_key: "emulator",
  },
  "POST http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword": { idToken: "id-token-of-ola" },
};

function merchant(roles: Record<string, string>) {
  return {
    name: "ola@fjordknits.example",
    role: Object.values(roles).includes("merchant_owner") ? "merchant_owner" : "merchant_viewer",
    agency_id: null,
    brand_ids: Object.keys(roles).sort(),
    via: "sign_in",
    brand_roles: roles,
  };
}

afterEach(async () => {
  vi.unstubAllGlobals();
  await api.signOut();
  window.history.pushState({}, "", "/");
  document.cookie = "tower_signed_in=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
});

async function signInByEmail(routes: Record<string, Handler | object>) {
  const fake = fakeFetch({ ...AUTH, ...routes });
  vi.stubGlobal("fetch", fake.fetchImpl);
  const user = userEvent.setup();
  render(<App />);
  await user.click(await screen.findByText("Sign in with your e-mail instead"));
  await user.type(screen.getByLabelText("E-mail"), "ola@fjordknits.example");
  await user.type(screen.getByLabelText("Password"), "correct-horse-9");
  await user.click(screen.getByRole("button", { name: "Sign in with e-mail" }));
  return { ...fake, user };
}

describe("a merchant signing in by e-mail", () => {
  it("lands on their only brand's dashboard", async () => {
    const { calls } = await signInByEmail({
      "POST /api/session": { principal: merchant({ [BRAND]: "merchant_owner" }), csrf_token: "c", expires_at: null },
      [`GET /api/brands/${BRAND}/dashboard`]: { ...dashboard, brand: { ...dashboard.brand, brand_id: BRAND } },
    });
    await vi.waitFor(() => expect(window.location.pathname).toBe(`/brands/${BRAND}`));
    expect(calls.find((c) => c.url === "/api/session")?.body).toEqual({ id_token: "id-token-of-ola" });
    // an owner manages the brand's people
    expect(await screen.findByRole("link", { name: "Team" })).toBeTruthy();
  });

  it("with several brands, chooses on the overview; a viewer has no Team screen", async () => {
    await signInByEmail({
      "POST /api/session": {
        principal: merchant({ [BRAND]: "merchant_viewer", "oslo-ceramics": "merchant_viewer" }),
        csrf_token: "c",
        expires_at: null,
      },
      "GET /api/agency/overview": {
        agency: null,
        brands: [
          { brand_id: BRAND, brand_name: "Fjord Knits", status: "stable", health_score: 80, top_issue: null },
          { brand_id: "oslo-ceramics", brand_name: "Oslo Ceramics", status: "stable", health_score: 70, top_issue: null },
        ],
      },
    });
    expect(await screen.findByRole("link", { name: "Oslo Ceramics" })).toBeTruthy();
    expect(window.location.pathname).toBe("/");
    expect(screen.queryByRole("link", { name: "Team" })).toBeNull();
  });
});

describe("a viewer's recommendations", () => {
  it("offer no Accept, Dismiss or Undo", () => {
    render(<Recommendations brandId={BRAND} recs={[budgetCard]} currency="NOK" onChanged={() => undefined} readOnly />);
    expect(screen.queryByRole("button", { name: "Accept" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Dismiss" })).toBeNull();
    expect(screen.getByText(/View only/)).toBeTruthy();
  });
});

describe("the Team screen", () => {
  it("lists members and invitations, invites, revokes and removes, and says why the last owner stays", async () => {
    let members = [
      { uid: "uid-ola", email: "ola@fjordknits.example", role: "merchant_owner", joined_at: "2026-12-01T09:30:00+00:00", invited_by: "cli" },
      { uid: "uid-per", email: "per@fjordknits.example", role: "merchant_viewer", joined_at: "2026-12-02T09:30:00+00:00", invited_by: "user:uid-ola" },
    ];
    let invitations: { invitation_id: string; email: string; role: string; expires_at: string }[] = [];
    const base = `/api/brands/${BRAND}`;
    const { calls, user } = await signInByEmail({
      "POST /api/session": { principal: merchant({ [BRAND]: "merchant_owner" }), csrf_token: "csrf-ola", expires_at: null },
      [`GET ${base}/dashboard`]: dashboard,
      [`GET ${base}/members`]: () => ({ body: { brand_id: BRAND, members, invitations } }),
      [`POST ${base}/invitations`]: (req) => {
        const body = req.body as { email: string; role: string };
        invitations = [{ invitation_id: "inv1", email: body.email, role: body.role, expires_at: "2026-12-09T08:00:00+00:00" }];
        return { status: 201, body: { invitation: { ...invitations[0], brand_id: BRAND, sent: true, send_error: null } } };
      },
      [`DELETE ${base}/invitations/inv1`]: () => {
        invitations = [];
        return { body: { removed: true } };
      },
      [`DELETE ${base}/members/uid-per`]: () => {
        members = members.filter((m) => m.uid !== "uid-per");
        return { body: { removed: true, member: { uid: "uid-per" }, sessions_ended: 1 } };
      },
      [`DELETE ${base}/members/uid-ola`]: () => ({
        status: 409,
        body: { error: { code: "last_owner", message: "ola@fjordknits.example is the last owner of 'fjord-knits'" } },
      }),
    });
    await user.click(await screen.findByRole("link", { name: "Team" }));
    const per = (await screen.findByRole("cell", { name: "per@fjordknits.example" })).closest("tr") as HTMLElement;
    expect(within(per).getByText("Viewer (read only)")).toBeTruthy();

    await user.type(screen.getByLabelText("E-mail"), "nils@fjordknits.example");
    await user.click(screen.getByRole("button", { name: "Send invitation" }));
    expect(await screen.findByText("Invitation sent to nils@fjordknits.example.", { selector: "p.notice" })).toBeTruthy();
    const invited = calls.find((c) => c.method === "POST" && c.url === `${base}/invitations`);
    expect(invited?.body).toEqual({ email: "nils@fjordknits.example", role: "merchant_viewer" });
    expect(invited?.headers[CSRF_HEADER]).toBe("csrf-ola");
    const pending = (await screen.findAllByTestId("invitation"))[0];
    await user.click(within(pending).getByRole("button", { name: /Revoke/ }));
    await vi.waitFor(() => expect(screen.queryAllByTestId("invitation")).toHaveLength(0));

    await user.click(within(per).getByRole("button", { name: /Remove/ }));
    await vi.waitFor(() => expect(screen.queryByRole("cell", { name: "per@fjordknits.example" })).toBeNull());
    expect(calls.find((c) => c.method === "DELETE" && c.url === `${base}/members/uid-per`)?.headers[CSRF_HEADER]).toBe("csrf-ola");

    const ola = screen.getByRole("cell", { name: "ola@fjordknits.example" }).closest("tr") as HTMLElement;
    await user.click(within(ola).getByRole("button", { name: /Remove/ }));
    expect((await screen.findByRole("alert")).textContent).toContain("last owner");
    expect(screen.getByRole("cell", { name: "ola@fjordknits.example" })).toBeTruthy();
  });
});

describe("an agency admin's Team screen", () => {
  it("manages the agency's people, with the agency's roles", async () => {
    const admin = { name: "northstar", role: "agency_admin", agency_id: "agency_456", brand_ids: ["acme"], via: "api_key" };
    const base = "/api/agencies/agency_456";
    const { fetchImpl, calls } = fakeFetch({
      "POST /api/session": { principal: admin, csrf_token: "csrf-admin", expires_at: null },
      "GET /api/agency/overview": { agency: null, brands: [] },
      [`GET ${base}/members`]: {
        agency_id: "agency_456",
        members: [{ uid: "uid-bo", email: "bo@northstar.example", role: "agency_member", joined_at: null, invited_by: null }],
        invitations: [],
      },
      [`POST ${base}/invitations`]: {
        invitation: { agency_id: "agency_456", email: "cy@northstar.example", role: "agency_admin", sent: true, send_error: null },
      },
    });
    vi.stubGlobal("fetch", fetchImpl);
    const user = userEvent.setup();
    render(<App />);
    await user.type(await screen.findByLabelText("API key"), "tower_agency");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await user.click(await screen.findByRole("link", { name: "Team" }));
    expect(await screen.findByRole("cell", { name: "Agency member" })).toBeTruthy();
    await user.type(screen.getByLabelText("E-mail"), "cy@northstar.example");
    await user.selectOptions(screen.getByLabelText("Role"), "agency_admin");
    await user.click(screen.getByRole("button", { name: "Send invitation" }));
    await vi.waitFor(() =>
      expect(calls.find((c) => c.method === "POST" && c.url === `${base}/invitations`)?.body).toEqual({
        email: "cy@northstar.example",
        role: "agency_admin",
      }),
    );
  });
});
