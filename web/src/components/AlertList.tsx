import { useState } from "react";
import type { Alert } from "../api/types";
import { channelName, day } from "../lib/format";
import { Empty, ErrorState, HelpLink, Loading } from "./States";
import { Thumb } from "./Thumb";

const SHOWN_FIRST = 5;

export type AlertFilter = "open" | "resolved" | "all";

const SEVERITY_TEXT: Record<string, string> = { critical: "Critical", high: "High", medium: "Medium", low: "Low" };

export const ALERT_TYPE_TEXT: Record<string, string> = {
  inventory_mismatch: "Spend and stock out of line",
  stockout_risk: "Stock running out",
  roas_drop: "ROAS dropped",
  spend_anomaly: "Unusual spend",
};

function AlertItem({ alert }: { alert: Alert }) {
  const ai = alert.ai_explanation && alert.ai_explanation !== alert.explanation ? alert.ai_explanation : null;
  return (
    <li className={`alert alert-${alert.severity}`} data-testid="alert">
      <div className="rec-tags">
        <span className={`badge badge-${alert.severity}`}>{SEVERITY_TEXT[alert.severity] ?? alert.severity}</span>
        <span className="badge badge-quiet">{ALERT_TYPE_TEXT[alert.type] ?? alert.type.replace(/_/g, " ")}</span>
        {alert.channel ? <span className="badge badge-quiet">{channelName(alert.channel)}</span> : null}
        {alert.status && alert.status !== "open" ? <span className="rec-status">{alert.status === "resolved" ? "Resolved" : alert.status}</span> : null}
      </div>
      <h3 className="alert-title product-line">
        {alert.product_id ? <Thumb item={alert} name={alert.product ?? ""} /> : null}
        <span>{alert.title}</span>
      </h3>
      {alert.explanation ? <p>{alert.explanation}</p> : null}
      {alert.recommended_action ? (
        <p>
          <span className="label">What to do: </span>
          {alert.recommended_action}
        </p>
      ) : null}
      {ai ? (
        <details className="ai-explanation">
          <summary>{alert.ai_explanation_author === "claude" ? "Explanation by Claude" : "More detail"}</summary>
          <p>{ai}</p>
          {alert.ai_explanation_author === "claude" ? (
            <p className="muted small">Written by Claude from this alert's figures and checked against them.</p>
          ) : null}
        </details>
      ) : null}
      <p className="muted small">
        Raised {day(alert.raised_on)}
        {alert.resolved_on ? ` · resolved ${day(alert.resolved_on)}` : ""}
      </p>
    </li>
  );
}

export function AlertList({ alerts, filter, onFilter, loading, error, onRetry }: {
  alerts: Alert[];
  filter: AlertFilter;
  onFilter: (f: AlertFilter) => void;
  loading: boolean;
  error: unknown;
  onRetry: () => void;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? alerts : alerts.slice(0, SHOWN_FIRST);
  return (
    <section className="card" aria-labelledby="alerts-title">
      <div className="card-head">
        <h2 id="alerts-title">Alerts</h2>
        <HelpLink topic="alerts" label="What each alert means" />
      </div>
      <div className="segmented" role="group" aria-label="Which alerts">
        {(["open", "resolved", "all"] as AlertFilter[]).map((f) => (
          <button key={f} type="button" className="button button-small" aria-pressed={filter === f} onClick={() => onFilter(f)}>
            {f === "open" ? "Open" : f === "resolved" ? "Resolved" : "All"}
          </button>
        ))}
      </div>
      {error ? <ErrorState error={error} onRetry={onRetry} /> : null}
      {!error && loading && alerts.length === 0 ? <Loading /> : null}
      {!error && !loading && alerts.length === 0 ? (
        <Empty title={filter === "open" ? "No open alerts." : "No alerts here."}>
          {filter === "open" ? <p>Alerts appear when spend runs ahead of stock, ROAS drops or spend jumps.</p> : null}
        </Empty>
      ) : null}
      <ul className="alert-list">
        {shown.map((a) => (
          <AlertItem key={a.id} alert={a} />
        ))}
      </ul>
      {alerts.length > SHOWN_FIRST ? (
        <button type="button" className="button button-quiet show-more" aria-expanded={all} onClick={() => setAll((v) => !v)}>
          {all ? "Show the first 5 only" : `Show all ${alerts.length} alerts`}
        </button>
      ) : null}
    </section>
  );
}
