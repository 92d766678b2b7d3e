import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, appBridge } from "../api/client";
import { Loading, errorMessage } from "../components/States";
import { Link, setQuery, useLocation } from "../lib/router";
import { usePoll } from "../lib/usePoll";

// The onboarding wizard: install or sign in → connect Shopify → subscribe → connect ad accounts → first
// sync → first dashboard. The API says which steps are done (GET …/onboarding), so a reload, or coming
// back from Shopify's or an ad platform's page, resumes where the merchant is.

type StepId = "install" | "shopify" | "subscribe" | "ads" | "sync" | "dashboard";

interface StepError {
  code: string;
  message: string;
  fix: string;
}

export interface Step {
  id: StepId;
  title: string;
  state: "done" | "current" | "todo" | "error";
  detail: string;
  error: StepError | null;
  platforms?: Record<string, { account_id: string; status: string }[]>;
}

export interface OnboardingState {
  brand_id: string;
  current: StepId | null;
  complete: boolean;
  steps: Step[];
}

export interface PlatformProgress {
  platform: string;
  status: "not_started" | "running" | "ok" | "failed" | "needs_reauth";
  stage: string | null;
  rows: number;
  started_at: string | null;
  eta_seconds: number | null;
  error: StepError | null;
}

interface AdAccount {
  id: string;
  name: string;
  currency: string;
  time_zone: string;
  /** The Google Ads manager (MCC) account it is reached through; null when reached directly. */
  manager_id?: string | null;
}

export const AD_PLATFORMS: { id: string; name: string }[] = [
  { id: "meta", name: "Meta" },
  { id: "tiktok", name: "TikTok" },
  { id: "google_ads", name: "Google Ads" },
];
const PLATFORM_NAMES: Record<string, string> = { shopify: "Shopify", ...Object.fromEntries(AD_PLATFORMS.map((p) => [p.id, p.name])) };

// What the ?error= codes the OAuth and billing returns carry mean, and what to do.
const RETURN_ERRORS: Record<string, string> = {
  access_denied: "You declined access on the platform's page. Connect again and approve access to continue.",
  other_browser:
    "The connection was finished in another browser than the one that started it. Start it again here and approve it in this browser.",
  other_person: "The connection was started by someone else than who is signed in here. Start it again while signed in.",
  plan_declined: "The subscription was declined in Shopify. Subscribe again and approve the charge to continue.",
  plan_none: "Shopify has no approved subscription for this store yet. Subscribe and approve the charge.",
  plan_expired: "The charge expired: Shopify drops a charge that is not approved within two days. Subscribe again and approve the new one.",
  shopify_unavailable: "Shopify could not be reached. Try again in a minute.",
  shopify_not_connected: "The store is not connected. Install the app from your Shopify admin first.",
};

function returnError(code: string): string {
  return RETURN_ERRORS[code] ?? `The platform did not complete the connection (${code}). Try connecting again.`;
}

/** Leaving the page for Shopify's or a platform's own page (tests replace `go`). Embedded in the Shopify
 * admin, the whole window goes (Shopify's charge page and the platforms' consent pages refuse a frame). */
export const browser = {
  go(url: string): void {
    if (appBridge() && window.top !== window.self) window.open(url, "_top");
    else window.location.assign(url);
  },
};

export function etaText(seconds: number | null): string {
  if (seconds === null) return "working out time left";
  if (seconds <= 0) return "done";
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

function StepList({ steps, shown }: { steps: Step[]; shown: StepId }) {
  return (
    <ol className="wizard-steps">
      {steps.map((s) => (
        <li key={s.id} className={`wizard-step wizard-${s.state}`} aria-current={s.id === shown ? "step" : undefined}>
          <span className="wizard-mark" aria-hidden="true">
            {s.state === "done" ? "✓" : s.state === "error" ? "!" : "•"}
          </span>
          <span>
            <strong>{s.title}</strong>
            <span className="visually-hidden">: {s.state === "current" ? "to do now" : s.state}</span>
            <span className="muted small wizard-detail">{s.detail}</span>
          </span>
        </li>
      ))}
    </ol>
  );
}

function StepProblem({ error }: { error: StepError }) {
  return (
    <div className="notice notice-warn" role="alert">
      <p>
        <strong>{error.message}.</strong> {error.fix}.
      </p>
    </div>
  );
}

function ShopifyStep() {
  const [shop, setShop] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    browser.go(`/shopify/install?shop=${encodeURIComponent(shop.trim())}`);
  };
  return (
    <form onSubmit={submit} className="field-inline">
      <label className="field">
        <span className="label">Your store's address</span>
        <input value={shop} onChange={(e) => setShop(e.target.value)} placeholder="your-store.myshopify.com" required />
      </label>
      <button type="submit" className="button button-primary">
        Install on Shopify
      </button>
    </form>
  );
}

function SubscribeStep({ brandId, step }: { brandId: string; step: Step }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const subscribe = () => {
    setBusy(true);
    setError(null);
    api
      .post<{ status: string; confirmation_url: string | null }>(`/api/brands/${encodeURIComponent(brandId)}/billing/subscribe`, {})
      .then((out) => {
        if (out.confirmation_url) browser.go(out.confirmation_url);
        else setQuery({ step: "ads" });
      })
      .catch((e: unknown) => setError(errorMessage(e)))
      .finally(() => setBusy(false));
  };
  return (
    <>
      <p>{step.detail}</p>
      <p className="muted small">
        Shopify bills the plan with your store's invoice. Until you subscribe you can still connect your accounts and
        watch the first sync; your figures appear once the plan is active.
      </p>
      {error ? (
        <p role="alert" className="field-error">
          {error}
        </p>
      ) : null}
      <button type="button" className="button button-primary" onClick={subscribe} disabled={busy}>
        {step.state === "error" ? "Subscribe again" : "Subscribe"}
      </button>
    </>
  );
}

// A pending grant is confirmed once per page, however often the picker's effect runs.
const confirming = new Map<string, Promise<unknown>>();

function confirmOnce(base: string, pending: string): Promise<unknown> {
  if (!confirming.has(pending)) confirming.set(pending, api.post(`${base}/authorization/confirm`, { pending }));
  return confirming.get(pending) as Promise<unknown>;
}

function AccountPicker({ brandId, platform, pending, onDone }: { brandId: string; platform: string; pending: string | null; onDone: () => void }) {
  const base = `/api/brands/${encodeURIComponent(brandId)}/integrations/${platform}`;
  const [accounts, setAccounts] = useState<AdAccount[] | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // the id the return carried, as the picker opened (the URL drops it once confirmed)
  const [pendingAtOpen] = useState(pending);
  useEffect(() => {
    // Back inside the Shopify admin from a platform's consent: no cookie tied the consent to this browser
    // (the admin's frame keeps none), so the grant waits until this app, signed in by the shop's session
    // token, confirms it; then the accounts are read.
    const confirmed = pendingAtOpen
      ? confirmOnce(base, pendingAtOpen).then(() => setQuery({ pending: null }, { replace: true }))
      : Promise.resolve();
    confirmed
      .then(() => api.get<{ accounts: AdAccount[] }>(`${base}/accounts`))
      .then((out) => {
        setAccounts(out.accounts);
        // An agency's manager reaches all its clients: only accounts reached directly start ticked.
        setPicked(new Set(out.accounts.filter((a) => !a.manager_id).map((a) => a.id)));
      })
      .catch((e: unknown) => setError(errorMessage(e)));
  }, [base, pendingAtOpen]);
  const connect = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    api
      .post(`${base}/accounts`, { account_ids: [...picked] })
      .then(() => onDone())
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setBusy(false));
  };
  const name = PLATFORM_NAMES[platform] ?? platform;
  if (error) return <p role="alert">{error}</p>;
  if (!accounts) return <Loading label={`Reading your ${name} accounts…`} lines={2} />;
  if (accounts.length === 0) return <p>This {name} login reaches no ad accounts. Connect with another login.</p>;
  return (
    <form onSubmit={connect} aria-label={`Pick ${name} accounts`}>
      <fieldset>
        <legend>Which {name} accounts belong to this store?</legend>
        {accounts.map((a) => (
          <label key={a.id} className="check-row">
            <input
              type="checkbox"
              checked={picked.has(a.id)}
              onChange={(e) => {
                const next = new Set(picked);
                if (e.target.checked) next.add(a.id);
                else next.delete(a.id);
                setPicked(next);
              }}
            />{" "}
            {a.name}{" "}
            <span className="muted small">
              ({a.id} · {a.currency} · {a.time_zone}
              {a.manager_id ? ` · through manager ${a.manager_id}` : ""})
            </span>
          </label>
        ))}
      </fieldset>
      <button type="submit" className="button button-primary" disabled={busy || picked.size === 0}>
        Connect {picked.size} {picked.size === 1 ? "account" : "accounts"}
      </button>
    </form>
  );
}

function AdsStep({
  brandId,
  step,
  picking,
  pending,
  reload,
}: {
  brandId: string;
  step: Step;
  picking: string | null;
  pending: string | null;
  reload: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const authorize = (platform: string) => {
    setError(null);
    api
      .post<{ authorize_url: string }>(`/api/brands/${encodeURIComponent(brandId)}/integrations/${platform}/authorize`, {})
      .then((out) => browser.go(out.authorize_url))
      .catch((e: unknown) => setError(errorMessage(e)));
  };
  if (picking) {
    return (
      <AccountPicker
        brandId={brandId}
        platform={picking}
        pending={pending}
        onDone={() => {
          setQuery({ step: "ads", platform: null, error: null, pending: null });
          reload();
        }}
      />
    );
  }
  const connected = step.platforms ?? {};
  return (
    <>
      {error ? <p role="alert">{error}</p> : null}
      <ul className="plain-list wizard-platforms">
        {AD_PLATFORMS.map((p) => {
          const accounts = connected[p.id] ?? [];
          const broken = accounts.some((a) => a.status === "needs_reauth" || a.status === "needs_reconnect");
          return (
            <li key={p.id}>
              <strong>{p.name}</strong>{" "}
              <span className="muted small">
                {accounts.length === 0 ? "not connected" : broken ? "needs reconnecting" : `${accounts.length} connected`}
              </span>{" "}
              <button type="button" className="button button-small" onClick={() => authorize(p.id)}>
                {accounts.length === 0 ? `Connect ${p.name}` : `Reconnect ${p.name}`}
              </button>
            </li>
          );
        })}
      </ul>
      {step.state === "done" ? (
        <button type="button" className="button button-primary" onClick={() => setQuery({ step: "sync", platform: null, error: null })}>
          Continue to the first sync
        </button>
      ) : null}
    </>
  );
}

function SyncStep({ brandId, onFinished }: { brandId: string; onFinished: () => void }) {
  const polled = usePoll(
    () => api.get<{ platforms: PlatformProgress[] }>(`/api/brands/${encodeURIComponent(brandId)}/sync-progress`),
    brandId,
    2_000,
  );
  const platforms = polled.data?.platforms ?? [];
  const allDone = platforms.length > 0 && platforms.every((p) => p.status === "ok");
  useEffect(() => {
    if (allDone) onFinished();
  }, [allDone, onFinished]);
  if (!polled.data) return <Loading label="Reading the sync's progress…" lines={3} />;
  return (
    <table className="data-table" aria-label="First sync progress">
      <thead>
        <tr>
          <th scope="col">Platform</th>
          <th scope="col">Stage</th>
          <th scope="col">Rows</th>
          <th scope="col">Time left</th>
        </tr>
      </thead>
      <tbody>
        {platforms.map((p) => (
          <tr key={p.platform} data-platform={p.platform} data-status={p.status}>
            <th scope="row">{PLATFORM_NAMES[p.platform] ?? p.platform}</th>
            <td>
              {p.status === "not_started" ? "waiting to start" : p.status === "ok" ? "done" : (p.stage ?? "starting").replace(/_/g, " ")}
              {p.error ? (
                <span role="alert" className="cell-sub">
                  {p.error.message}: {p.error.fix}
                </span>
              ) : null}
            </td>
            <td>{p.rows.toLocaleString("en-US")}</td>
            <td>{p.status === "ok" ? "done" : p.status === "running" ? etaText(p.eta_seconds) : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Onboarding({ brandId }: { brandId: string }) {
  const { query } = useLocation();
  const [session, setSession] = useState<"checking" | "yes" | "no">(api.signedIn ? "yes" : "checking");
  useEffect(() => {
    if (session !== "checking") return;
    // the install's redirect left a session cookie and its marker: take the session up (GET /api/session)
    void api.resume().then((ok) => setSession(ok ? "yes" : "no"));
  }, [session]);
  const path = `/api/brands/${encodeURIComponent(brandId)}/onboarding`;
  const polled = usePoll(() => (session === "yes" ? api.get<OnboardingState>(path) : Promise.resolve(null)), `${brandId}:${session}`, 5_000);
  const reload = polled.reload;
  const finished = useCallback(() => void reload(), [reload]);

  if (session === "no") {
    return (
      <main id="main" className="page" tabIndex={-1}>
        <h1>Set up Control Tower</h1>
        <p>
          Open the app from your Shopify admin to continue, or <Link to="/signin">sign in</Link>.
        </p>
      </main>
    );
  }
  const state = polled.data;
  if (!state) {
    return (
      <main id="main" className="page" tabIndex={-1}>
        <h1>Set up Control Tower</h1>
        {polled.error ? <p role="alert">{errorMessage(polled.error)}</p> : <Loading lines={4} />}
      </main>
    );
  }
  const asked = query.get("step");
  const wanted = (asked === "accounts" ? "ads" : asked) as StepId | null;
  const byId = Object.fromEntries(state.steps.map((s) => [s.id, s])) as Record<StepId, Step>;
  // A step asked for in the URL is shown when it is reachable (done or the current one), else the current step.
  const order = state.steps.map((s) => s.id);
  const currentIndex = state.current ? order.indexOf(state.current) : order.length - 1;
  const shown: StepId =
    wanted && byId[wanted] && order.indexOf(wanted) <= Math.max(currentIndex, order.indexOf("sync")) ? wanted : (state.current ?? "dashboard");
  const step = byId[shown];
  const returned = query.get("error");
  return (
    <main id="main" className="page" tabIndex={-1}>
      <div className="page-head">
        <h1>Set up Control Tower</h1>
      </div>
      <div className="wizard">
        <StepList steps={state.steps} shown={shown} />
        <section className="card wizard-panel" aria-labelledby="wizard-step-title">
          <h2 id="wizard-step-title">{step.title}</h2>
          {returned ? (
            <div className="notice notice-warn" role="alert">
              <p>{returnError(returned)}</p>
            </div>
          ) : null}
          {step.error ? <StepProblem error={step.error} /> : null}
          {shown === "install" || shown === "shopify" ? (
            step.state === "done" ? <p>{step.detail}</p> : <ShopifyStep />
          ) : null}
          {shown === "subscribe" ? (
            step.state === "done" ? (
              <>
                <p>{step.detail}</p>
                <button type="button" className="button button-primary" onClick={() => setQuery({ step: "ads", error: null })}>
                  Continue
                </button>
              </>
            ) : (
              <SubscribeStep brandId={brandId} step={step} />
            )
          ) : null}
          {shown === "ads" ? (
            <AdsStep
              brandId={brandId}
              step={step}
              picking={asked === "accounts" && !returned ? query.get("platform") : null}
              pending={query.get("pending")}
              reload={finished}
            />
          ) : null}
          {shown === "sync" ? <SyncStep brandId={brandId} onFinished={finished} /> : null}
          {shown === "sync" && state.complete ? (
            <p role="status">
              Every account has synced. <Link to={`/brands/${encodeURIComponent(brandId)}`}>Open your dashboard</Link>
            </p>
          ) : null}
          {shown === "dashboard" ? (
            state.complete ? (
              <p>
                Your first figures are ready. <Link to={`/brands/${encodeURIComponent(brandId)}`}>Open your dashboard</Link>
              </p>
            ) : (
              <p>{step.detail}</p>
            )
          ) : null}
        </section>
      </div>
    </main>
  );
}
