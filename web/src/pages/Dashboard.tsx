import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, roleOn } from "../api/client";
import {
  type Alert,
  CHANNELS,
  type Channel,
  type Dashboard as DashboardData,
  type Drilldown,
  type Integration,
  type Products,
  type Series,
} from "../api/types";
import { AlertList } from "../components/AlertList";
import { AlignmentChart } from "../components/AlignmentChart";
import { AskBox } from "../components/AskBox";
import { ChannelPanel } from "../components/ChannelPanel";
import { ChannelTabs, TABS, type Tab } from "../components/ChannelTabs";
import { ProductTable } from "../components/ProductTable";
import { RangePicker } from "../components/RangePicker";
import { IN_FLIGHT, Recommendations } from "../components/Recommendations";
import { ErrorState, Loading } from "../components/States";
import { SummaryCard } from "../components/SummaryCard";
import { TrendChart } from "../components/TrendChart";
import { addDays, channelName, day, dayRange, instant } from "../lib/format";
import { markMeaningful } from "../lib/perf";
import { productsFromFindings } from "../lib/products";
import {
  COMPARES,
  compareRange,
  isDefault,
  type RangeChoice,
  rangeFromQuery,
  presetLabel,
  rangeParams,
  rangeQuery,
} from "../lib/range";
import { Link, setQuery, useLocation } from "../lib/router";
import { usePoll } from "../lib/usePoll";

const POLL_MS = 30_000;
const FAST_POLL_MS = 2_000;

function compareWords(choice: RangeChoice, isDefaultView: boolean): string {
  if (choice.compare === "none") return "no comparison";
  if (isDefaultView) return "the 7 days before";
  return COMPARES.find((c) => c.id === choice.compare)?.label.toLowerCase() ?? "before";
}

function Integrations({ items, timeZone }: { items: Integration[]; timeZone: string }) {
  return (
    <ul className="integrations" aria-label="Connected platforms">
      {items.map((i) => (
        <li key={i.platform} className={`integration integration-${i.status}`}>
          <span className="integration-name">{channelName(i.platform)}</span>{" "}
          <span className="muted">
            {i.status === "connected" ? "connected" : i.status}
            {i.last_sync_at ? ` · synced ${instant(i.last_sync_at, timeZone)}` : ""}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function Dashboard({ brandId }: { brandId: string }) {
  const { query } = useLocation();
  const base = `/api/brands/${encodeURIComponent(brandId)}`;
  const [today, setToday] = useState<string | null>(null);
  const tabParam = query.get("channel");
  const tab: Tab = (TABS as readonly string[]).includes(tabParam ?? "") ? (tabParam as Tab) : "all";
  const choice = today ? rangeFromQuery(query, today) : null;
  const params = choice ? rangeParams(choice) : {};
  const paramKey = JSON.stringify(params);
  const [fast, setFast] = useState(false);

  const dashKey = `${brandId}|${paramKey}`;
  const dash = usePoll(() => api.get<DashboardData>(`${base}/dashboard`, params), dashKey, fast ? FAST_POLL_MS : POLL_MS);
  const data = dash.data;

  useEffect(() => {
    if (data && data.brand.today !== today) setToday(data.brand.today);
  }, [data, today]);

  useEffect(() => {
    setFast(!!data?.recommendations.some((r) => IN_FLIGHT.has(r.status)));
  }, [data]);

  useEffect(() => {
    if (data) markMeaningful("dashboard");
  }, [data]);

  useEffect(() => {
    if (data) document.title = `${data.brand.brand_name} · Control Tower`;
    return () => {
      document.title = "Control Tower";
    };
  }, [data]);

  // Everything below waits for the dashboard itself: the API answers one warehouse query at a time,
  // and the first screen's figures come first.
  const ready = data !== null;

  // The three channels' drilldowns: the channel tabs, and (summed) the all-channels geography.
  const drill = usePoll(
    async () => {
      if (!ready) return null;
      const parts = await Promise.all(
        CHANNELS.map((c) => api.get<Drilldown>(`${base}/drilldown/channel/${c}`, params).then((d) => [c, d] as const)),
      );
      return Object.fromEntries(parts) as Record<Channel, Drilldown>;
    },
    `${brandId}|${paramKey}|${ready}`,
    POLL_MS * 2,
  );

  // Served by a newer API only; null here means this server does not have it (see web/API-NEEDS.md).
  const channelParam = tab === "all" ? {} : { channel: tab };
  const extraKey = `${brandId}|${paramKey}|${tab}|${ready}`;
  const series = usePoll(
    () => (ready ? api.getOptional<Series>(`${base}/series`, { ...params, ...channelParam }, "series") : Promise.resolve(null)),
    extraKey,
    POLL_MS * 2,
  );
  const products = usePoll(
    () => (ready ? api.getOptional<Products>(`${base}/products`, { ...params, ...channelParam }, "products") : Promise.resolve(null)),
    extraKey,
    POLL_MS * 2,
  );
  const integrations = usePoll(
    () => (ready ? api.getOptional<{ integrations: Integration[] }>(`${base}/integrations`, undefined, "integrations") : Promise.resolve(null)),
    `${brandId}|${ready}`,
    POLL_MS * 4,
  );

  const [alertFilter, setAlertFilter] = useState<"open" | "resolved" | "all">("open");
  const otherAlerts = usePoll(
    () => (alertFilter === "open" ? Promise.resolve(null) : api.get<{ alerts: Alert[] }>(`${base}/alerts`, { status: alertFilter })),
    `${brandId}|${alertFilter}`,
    POLL_MS * 2,
  );

  const heading = useRef<HTMLHeadingElement>(null);
  const onRange = useCallback((next: RangeChoice) => setQuery(rangeQuery(next)), []);
  const onTab = useCallback((t: Tab) => setQuery({ channel: t === "all" ? null : t }, { replace: true }), []);

  const productRows = useMemo(() => {
    if (products.data) return { rows: products.data.products, partial: false };
    return { rows: data ? productsFromFindings(data) : [], partial: true };
  }, [products.data, data]);

  if (!data) {
    return (
      <main id="main" className="page" tabIndex={-1}>
        <p className="back">
          <Link to="/">← All brands</Link>
        </p>
        {dash.error ? <ErrorState error={dash.error} onRetry={dash.reload} title="The dashboard could not be loaded" /> : <Loading label="Loading the dashboard…" lines={6} />}
      </main>
    );
  }

  const brand = data.brand;
  const snap = data.performance_snapshot;
  const currency = snap.currency ?? brand.currency;
  const view = choice ?? rangeFromQuery(new URLSearchParams(), brand.today);
  const defaultView = isDefault(view);
  const served = data.range;
  // judged only on data loaded for the range on screen (not the previous view's, still shown while loading)
  const current = dash.dataKey === dashKey;
  const unsupportedRange = current && !defaultView && !served;
  const compareLabel = compareWords(view, defaultView);
  // the API's dates when it names them (its ends are exclusive), else the page's own reckoning
  const shownDays = served && current ? { start: served.start, end: served.last_day ?? addDays(served.end, -1) } : view;
  const cmp =
    served && current
      ? served.compare_start && served.compare_end
        ? { start: served.compare_start, end: addDays(served.compare_end, -1) }
        : null
      : compareRange(view);
  const alerts = alertFilter === "open" ? data.alerts : (otherAlerts.data?.alerts ?? []);
  const updating = dash.loading;

  return (
    <main id="main" className="page" tabIndex={-1} aria-busy={updating}>
      <p className="back">
        <Link to="/">← All brands</Link>
      </p>
      <div className="page-head">
        <div>
          <p className="eyebrow">Dashboard</p>
          <h1 ref={heading} tabIndex={-1}>
            {brand.brand_name}
          </h1>
          <p className="store-facts" data-testid="store-facts">
            <span>
              Currency <strong>{brand.currency}</strong>
            </span>
            <span>
              Time zone <strong>{brand.timezone.replace(/_/g, " ")}</strong>
            </span>
            <span>
              Store date <strong>{day(brand.today)}</strong>
            </span>
            {snap.as_of_date ? (
              <span>
                Figures through <strong>{day(snap.as_of_date)}</strong>
              </span>
            ) : null}
          </p>
          {integrations.data ? <Integrations items={integrations.data.integrations} timeZone={brand.timezone} /> : null}
        </div>
        <p className="muted small refresh-note" aria-live="off">
          {/* in the store's time zone, like every other time on this screen */}
          {updating ? "Updating…" : dash.updatedAt ? `Updated ${instant(dash.updatedAt.toISOString(), brand.timezone)}` : ""}
          <br />
          Refreshes by itself every {fast ? "2 seconds while a change is applied" : "30 seconds"}
        </p>
      </div>

      <div className="toolbar">
        <RangePicker value={view} today={brand.today} onChange={onRange} />
        <p className="range-label" data-testid="range-label">
          <strong>
            {presetLabel(view)} ({dayRange(shownDays.start, shownDays.end)})
          </strong>
          {cmp ? <span className="muted"> compared with {dayRange(cmp.start, cmp.end)}</span> : null}
        </p>
      </div>
      {unsupportedRange ? (
        <p className="notice notice-info" role="status" data-testid="range-notice">
          This server shows only the latest {snap.period_days ?? 7} days
          {snap.as_of_date ? ` (${dayRange(addDays(snap.as_of_date, -((snap.period_days ?? 7) - 1)), snap.as_of_date)})` : ""}: the
          figures below are for those days, not the dates you picked.
        </p>
      ) : null}
      {dash.error ? <ErrorState error={dash.error} onRetry={dash.reload} title="The latest figures could not be loaded; showing the last ones received" /> : null}

      <div className="grid">
        <div className="grid-main">
          <SummaryCard data={data} compareLabel={compareLabel} />
          {series.data && series.data.days.length > 0 ? (
            <section className="card" aria-labelledby="trend-title">
              <h2 id="trend-title">Day by day{tab !== "all" ? `: ${channelName(tab)}` : ""}</h2>
              <TrendChart series={series.data} currency={currency} compareLabel={compareLabel} />
            </section>
          ) : null}
          <Recommendations
            brandId={brandId}
            recs={data.recommendations}
            currency={currency}
            week={data.summary?.week ?? data.recommendations[0]?.week}
            onChanged={dash.reload}
            readOnly={roleOn(api.principal, brandId) === "merchant_viewer"}
          />
        </div>
        <div className="grid-side">
          <AskBox brandId={brandId} currency={currency} />
          <AlertList
            alerts={alerts}
            filter={alertFilter}
            onFilter={setAlertFilter}
            loading={alertFilter !== "open" && otherAlerts.loading}
            error={alertFilter !== "open" ? otherAlerts.error : null}
            onRetry={otherAlerts.reload}
          />
        </div>
      </div>

      <section className="card channels" aria-labelledby="channels-title">
        <h2 id="channels-title">Channels</h2>
        <ChannelTabs value={tab} onChange={onTab} panelId="channel-panel" />
        <div id="channel-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} tabIndex={0} className="tab-panel">
          <ChannelPanel
            tab={tab}
            data={data}
            drilldowns={drill.data}
            loading={drill.loading && !drill.data}
            error={drill.error}
            onRetry={drill.reload}
            currency={currency}
            compareLabel={compareLabel}
          />
        </div>
      </section>

      <AlignmentChart rows={productRows.rows} currency={currency} />
      <ProductTable rows={productRows.rows} currency={currency} partial={productRows.partial} />
    </main>
  );
}
