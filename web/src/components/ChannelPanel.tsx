import { type Channel, CHANNELS, type Dashboard, type Drilldown } from "../api/types";
import { channelName, money, productName, ratio, regionName } from "../lib/format";
import { statusLabel } from "../lib/products";
import type { Tab } from "./ChannelTabs";
import { Geography, mergeGeo, toRows } from "./Geography";
import { Trend } from "./Metric";
import { Empty, ErrorState, Loading } from "./States";
import { ScrollBox } from "./ScrollBox";
import { Thumb } from "./Thumb";

/** One region by name, or how many when the model lists several ("US-CA, US-TX"). */
function placeName(region: string): string {
  const codes = region.split(",").map((r) => r.trim()).filter(Boolean);
  return codes.length === 1 ? regionName(codes[0]) : `${codes.length} regions`;
}

function ChannelTable({ data, currency, compareLabel }: { data: Dashboard; currency: string; compareLabel: string }) {
  const snap = data.performance_snapshot;
  const rows = CHANNELS.filter((c) => snap.by_channel[c]);
  if (rows.length === 0) return <Empty title="No channel figures for this period." />;
  return (
    <ScrollBox label="Channels">
      <table className="data-table">
        <caption className="visually-hidden">Spend, revenue and ROAS by channel</caption>
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col" className="num">Spend</th>
            <th scope="col" className="num">Revenue</th>
            <th scope="col" className="num">ROAS</th>
            <th scope="col">ROAS change</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => {
            const f = snap.by_channel[c]!;
            return (
              <tr key={c}>
                <th scope="row">{channelName(c)}</th>
                <td className="num">{money(f.spend, currency)}</td>
                <td className="num">{money(f.revenue, currency)}</td>
                <td className="num">{ratio(f.roas)}</td>
                <td>
                  <Trend change={snap.changes?.by_channel[c]?.roas_pct} polarity="up_is_good" compareLabel={compareLabel} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollBox>
  );
}

function OneChannel({ channel, data, drill, currency, compareLabel }: {
  channel: Channel;
  data: Dashboard;
  drill: Drilldown;
  currency: string;
  compareLabel: string;
}) {
  const snap = data.performance_snapshot;
  const f = snap.by_channel[channel];
  const ch = snap.changes?.by_channel[channel];
  const text = data.summary?.channel_performance?.[channel];
  const mismatches = drill.inventory_alignment.mismatches;
  return (
    <div className="channel-one">
      <dl className="metrics metrics-compact">
        <div className="metric">
          <dt className="metric-label">Spend</dt>
          <dd className="metric-value">{money(f?.spend ?? drill.performance.total_spend, currency)}</dd>
          <dd className="metric-trend">
            <Trend change={ch?.spend_pct} polarity="neutral" compareLabel={compareLabel} />
          </dd>
        </div>
        <div className="metric">
          <dt className="metric-label">Revenue</dt>
          <dd className="metric-value">{money(f?.revenue ?? drill.performance.total_revenue, currency)}</dd>
          <dd className="metric-trend">
            <Trend change={ch?.revenue_pct} polarity="up_is_good" compareLabel={compareLabel} />
          </dd>
        </div>
        <div className="metric">
          <dt className="metric-label">ROAS</dt>
          <dd className="metric-value">{ratio(f?.roas ?? drill.performance.roas)}</dd>
          <dd className="metric-trend">
            <Trend change={ch?.roas_pct} polarity="up_is_good" compareLabel={compareLabel} />
          </dd>
        </div>
      </dl>
      {/* the weekly summary's paragraph covers its own week, whatever range the figures above show */}
      {text ? (
        <p>
          <span className="label">{data.summary?.week ? `Weekly summary, ${weekName(data.summary.week)}: ` : "Weekly summary: "}</span>
          {text}
        </p>
      ) : null}
      <Geography rows={toRows(drill.performance.by_geo)} currency={currency} label={`${channelName(channel)} spend and revenue`} />
      <h3>Top campaigns</h3>
      {drill.top_campaigns.length === 0 ? (
        <Empty title="No campaign spend in this period." />
      ) : (
        <ScrollBox label={`${channelName(channel)} campaigns`}>
          <table className="data-table">
            <caption className="visually-hidden">{channelName(channel)} campaigns by spend</caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col" className="num">Spend</th>
                <th scope="col" className="num">ROAS</th>
              </tr>
            </thead>
            <tbody>
              {drill.top_campaigns.map((c) => (
                <tr key={c.id}>
                  <th scope="row">{c.name || c.id}</th>
                  <td className="num">{money(c.spend, currency)}</td>
                  <td className="num">{ratio(c.roas)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      {mismatches.length > 0 ? (
        <>
          <h3>Spend out of line with stock</h3>
          <ul className="plain-list">
            {mismatches.slice(0, 8).map((m, i) => (
              <li key={i} className="product-line">
                <Thumb item={m} name={productName(m.product_title ?? m.product)} size={28} />
                <span>
                {productName(m.product_title ?? m.product)}
                {m.region ? ` in ${placeName(m.region)}` : ""}: {statusLabel(m.issue).toLowerCase()} ({money(m.spend, currency)} spent)
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {drill.recommendations.length > 0 ? (
        <>
          <h3>This week's {channelName(channel)} recommendations</h3>
          <ul className="plain-list">
            {drill.recommendations.map((r, i) => (
              <li key={i}>{r}</li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

/** "2026-W49" → "week 49" (the summary card's own words). */
function weekName(week: string): string {
  const m = /-W(\d+)$/.exec(week);
  return m ? `week ${Number(m[1])}` : week;
}

export function ChannelPanel({ tab, data, drilldowns, loading, error, onRetry, currency, compareLabel }: {
  tab: Tab;
  data: Dashboard;
  drilldowns: Record<Channel, Drilldown> | null;
  loading: boolean;
  error: unknown;
  onRetry: () => void;
  currency: string;
  compareLabel: string;
}) {
  if (tab === "all") {
    return (
      <div className="channel-all">
        <ChannelTable data={data} currency={currency} compareLabel={compareLabel} />
        {drilldowns ? (
          <Geography
            rows={mergeGeo(CHANNELS.map((c) => drilldowns[c].performance.by_geo))}
            currency={currency}
            label="Spend and revenue over all channels"
          />
        ) : error ? (
          <ErrorState error={error} onRetry={onRetry} title="Regional figures could not be loaded" />
        ) : loading ? (
          <Loading label="Loading regional figures…" />
        ) : null}
      </div>
    );
  }
  if (!drilldowns) {
    if (error) return <ErrorState error={error} onRetry={onRetry} title={`${channelName(tab)} could not be loaded`} />;
    return <Loading label={`Loading ${channelName(tab)}…`} />;
  }
  return <OneChannel channel={tab} data={data} drill={drilldowns[tab]} currency={currency} compareLabel={compareLabel} />;
}
