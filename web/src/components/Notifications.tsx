import { api } from "../api/client";
import type { Delivery, DeliveryStatus, Notifications } from "../api/types";
import { usePoll } from "../lib/usePoll";
import { ScrollBox } from "./ScrollBox";

// What the agency's e-mails and Slack messages did: the newest deliveries from the delivery log
// (GET /api/agency/notifications), with what was held for the digest, skipped and why, and dead letters.
const STATUS_TEXT: Record<DeliveryStatus, string> = {
  sent: "Sent",
  held: "Held for the digest",
  rolled: "In a digest",
  skipped: "Not sent",
  retrying: "Retrying",
  dead: "Failed",
};

const REASON_TEXT: Record<string, string> = {
  budget: "over the daily limit",
  quiet_hours: "quiet hours",
  duplicate: "sent already",
  muted: "muted",
  snoozed: "snoozed",
  below_severity: "below the minimum severity",
  unsubscribed: "unsubscribed",
};

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function Row({ d }: { d: Delivery }) {
  const reason = d.reason && REASON_TEXT[d.reason] ? ` (${REASON_TEXT[d.reason]})` : "";
  return (
    <tr data-testid="delivery-row" className={`delivery-${d.status}`}>
      <td>{when(d.updated_at)}</td>
      <td>{d.kind === "digest" ? "Weekly digest" : "Alert"}</td>
      <td>
        {d.recipient_id} <span className="muted">({d.channel === "slack" ? "Slack" : "e-mail"})</span>
      </td>
      <td>{d.title ?? ""}</td>
      <td>
        {STATUS_TEXT[d.status]}
        {reason}
        {d.status === "dead" && d.last_error ? <span className="muted"> · {d.last_error}</span> : null}
      </td>
    </tr>
  );
}

export function NotificationsPanel() {
  const { data, error } = usePoll(() => api.get<Notifications>("/api/agency/notifications"), "notifications", 60_000);
  if (error || !data) return null;
  if (data.recipients.length === 0 && data.deliveries.length === 0) {
    // an agency that never set up alerts should learn that it can, not see nothing at all
    return (
      <section className="notifications" aria-labelledby="notifications-title">
        <h2 id="notifications-title">What was sent</h2>
        <p className="muted small" data-testid="no-recipients">
          Nobody receives alerts or the weekly digest yet. Add an e-mail address or a Slack channel with{" "}
          <code>tower notify add --agency {data.agency_id} --id you --email you@example.com</code>; what is sent then shows
          here.
        </p>
      </section>
    );
  }
  const shown = data.deliveries.slice(0, 10);
  return (
    <section className="notifications" aria-labelledby="notifications-title">
      <h2 id="notifications-title">What was sent</h2>
      <p className="muted small">
        {data.counts.sent} sent · {data.counts.held} held for the next digest · {data.counts.dead} failed ·{" "}
        {data.recipients.length} recipients
      </p>
      {shown.length > 0 ? (
        <ScrollBox label="Notifications sent">
        <table className="data-table delivery-log">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <Row key={d.delivery_id} d={d} />
            ))}
          </tbody>
        </table>
        </ScrollBox>
      ) : null}
    </section>
  );
}
