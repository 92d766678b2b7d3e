import { useEffect, useRef } from "react";
import { api } from "../api/client";
import type { AgencyBrand, AgencyOverview } from "../api/types";
import { NotificationsPanel } from "../components/Notifications";
import { Empty, ErrorState, HelpLink, Loading } from "../components/States";
import { markMeaningful } from "../lib/perf";
import { Link } from "../lib/router";
import { usePoll } from "../lib/usePoll";

const STATUS_TEXT: Record<AgencyBrand["status"], string> = {
  needs_attention: "Needs attention",
  opportunity: "Opportunity",
  stable: "Stable",
};

function HealthMeter({ score }: { score: number }) {
  const band = score >= 70 ? "good" : score >= 40 ? "fair" : "poor";
  return (
    <div className="health">
      <meter className={`health-meter health-${band}`} min={0} max={100} low={40} high={70} optimum={100} value={score} aria-hidden="true" />
      <span className="health-score">
        {score}
        <span className="muted">/100</span>
      </span>
    </div>
  );
}

export function Overview() {
  const { data, error, loading, reload, updatedAt } = usePoll(() => api.get<AgencyOverview>("/api/agency/overview"), "overview", 60_000);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (data) markMeaningful("overview");
  }, [data]);

  return (
    <main id="main" className="page" tabIndex={-1}>
      <div className="page-head">
        <div>
          <p className="eyebrow">{data?.agency ? data.agency.name : "Your brands"}</p>
          <h1 ref={heading} tabIndex={-1}>
            Brands, most urgent first
          </h1>
        </div>
        {updatedAt ? <p className="muted small">Updated {updatedAt.toLocaleTimeString()} · refreshes every minute</p> : null}
      </div>
      <p className="lead">
        Sorted by what needs you: brands with open alerts first, then those with growth opportunities, then stable ones; the
        lowest health score first within each. <HelpLink topic="agency" anchor="health-score" label="How the health score is worked out" />
      </p>
      {error && !data ? <ErrorState error={error} onRetry={reload} /> : null}
      {loading && !data ? <Loading label="Loading your brands…" lines={4} /> : null}
      {data && data.brands.length === 0 ? (
        <Empty title="No brands yet.">
          <p>Brands appear here once their Shopify store is connected.</p>
        </Empty>
      ) : null}
      {data && data.brands.length > 0 ? (
        <ol className="brand-list" aria-label="Brands by urgency">
          {data.brands.map((b, i) => (
            <li key={b.brand_id} className={`brand-row brand-${b.status}`} data-testid="brand-row" data-brand-id={b.brand_id}>
              <span className="brand-rank" aria-hidden="true">
                {i + 1}
              </span>
              <div className="brand-main">
                <h2 className="brand-name">
                  <Link to={`/brands/${encodeURIComponent(b.brand_id)}`}>{b.brand_name}</Link>
                </h2>
                <p className="brand-issue">{b.top_issue ?? "Nothing pressing this week."}</p>
              </div>
              <dl className="brand-figures">
                <div>
                  <dt>Status</dt>
                  <dd>
                    <span className={`badge badge-${b.status}`}>{STATUS_TEXT[b.status]}</span>
                  </dd>
                </div>
                <div>
                  <dt>Health</dt>
                  <dd>
                    <HealthMeter score={b.health_score} />
                  </dd>
                </div>
                <div>
                  <dt>Open alerts</dt>
                  <dd>{b.alerts}</dd>
                </div>
                <div>
                  <dt>Opportunities</dt>
                  <dd>{b.opportunities}</dd>
                </div>
              </dl>
            </li>
          ))}
        </ol>
      ) : null}
      {data?.agency ? <NotificationsPanel /> : null}
    </main>
  );
}
