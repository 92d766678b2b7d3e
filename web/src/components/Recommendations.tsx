import { useEffect, useId, useState } from "react";
import { ApiError, api } from "../api/client";
import type { ActionChange, ActionResult, Recommendation } from "../api/types";
import { channelName, money, productName } from "../lib/format";
import { Modal } from "./Modal";
import { Thumb } from "./Thumb";
import { Empty, ErrorState, errorMessage, HelpLink, Loading } from "./States";

export const STATUS_TEXT: Record<string, string> = {
  open: "Open",
  accepting: "Applying…",
  applied: "Applied",
  accepted: "Accepted",
  failed: "Failed",
  undoing: "Undoing…",
  undone: "Undone",
  dismissed: "Dismissed",
  superseded: "Replaced by a newer card",
};

export const TYPE_TEXT: Record<string, string> = {
  reduce_spend: "Cut spend",
  increase_spend: "Grow spend",
  promotion: "Promotion",
};

const SHOWN_FIRST = 5;

/** Statuses that settle by themselves (the budget task runs): poll quickly while one is shown. */
export const IN_FLIGHT = new Set(["accepting", "undoing"]);

function canUndo(r: Recommendation & { applied_changes?: { status?: string }[] }): boolean {
  if (r.status === "applied") return true;
  return r.status === "failed" && (r.applied_changes ?? []).some((c) => c.status === "applied");
}

interface Conflict {
  platform?: string;
  campaign_id?: string;
  recorded?: number | null;
  current?: number | null;
}

function conflictsOf(e: unknown): Conflict[] {
  if (!(e instanceof ApiError) || e.status !== 409) return [];
  const body = e.body as { error?: { conflicts?: Conflict[] } } | null;
  return body?.error?.conflicts ?? [];
}

function ChangeList({ changes, fallbackCurrency }: { changes: ActionChange[]; fallbackCurrency: string }) {
  return (
    <table className="data-table change-table">
      <caption className="visually-hidden">What changes on each platform</caption>
      <thead>
        <tr>
          <th scope="col">Where</th>
          <th scope="col">Change</th>
          <th scope="col">Check</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c, i) => {
          const currency = c.currency ?? fallbackCurrency;
          const discount = c.kind === "discount";
          return (
            <tr key={c.campaign_id ?? c.title ?? i}>
              <th scope="row">
                {discount ? "Shopify discount" : channelName(c.platform)}
                <span className="cell-sub">{discount ? c.title : (c.campaign_name ?? c.campaign_id)}</span>
              </th>
              <td>
                {discount ? (
                  <>
                    {c.percentage !== undefined ? `${c.percentage}% off` : "Discount"}
                    {c.starts_at && c.ends_at ? <span className="cell-sub">{`${c.starts_at.slice(0, 10)} to ${c.ends_at.slice(0, 10)}`}</span> : null}
                  </>
                ) : (
                  <>
                    Daily budget {money(c.before ?? null, currency, { cents: true })} → <strong>{money(c.after ?? null, currency, { cents: true })}</strong>
                  </>
                )}
              </td>
              <td>
                <span className={`check check-${c.status === "refused" ? "bad" : "ok"}`}>
                  {c.status === "refused" ? "Refused" : "Allowed"}
                </span>
                {c.status === "refused" && c.detail ? <span className="cell-sub">{c.detail}</span> : null}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Accept: preview the exact platform change (a dry run through the real write path), then confirm. */
function AcceptDialog({ brandId, rec, currency, onClose, onDone }: {
  brandId: string;
  rec: Recommendation;
  currency: string;
  onClose: () => void;
  onDone: (r: ActionResult) => void;
}) {
  const [preview, setPreview] = useState<ActionResult | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const base = `/api/brands/${encodeURIComponent(brandId)}/recommendations/${encodeURIComponent(rec.id)}`;

  useEffect(() => {
    let live = true;
    api
      .post<ActionResult>(`${base}/accept`, { dry_run: true })
      .then((r) => live && setPreview(r))
      .catch((e) => live && setPreviewError(e));
    return () => {
      live = false;
    };
  }, [base]);

  async function confirm() {
    setSubmitting(true);
    setError(null);
    try {
      onDone(await api.post<ActionResult>(`${base}/accept`, {}));
    } catch (e) {
      setError(e);
      setSubmitting(false);
    }
  }

  const changes = preview?.changes ?? [];
  const allRefused = changes.length > 0 && changes.every((c) => c.status === "refused");
  const conflicts = conflictsOf(previewError ?? error);

  return (
    <Modal
      title="Accept this recommendation?"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button button-quiet" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-primary"
            onClick={confirm}
            disabled={!preview || allRefused || submitting}
            data-autofocus
          >
            {submitting ? "Accepting…" : changes.length ? "Apply these changes" : "Accept"}
          </button>
        </>
      }
    >
      <p className="modal-lead">{rec.action}</p>
      {!preview && !previewError ? <Loading label="Asking each platform for the current budget…" lines={2} /> : null}
      {previewError && conflicts.length === 0 ? (
        <ErrorState error={previewError} title="The change could not be previewed" />
      ) : null}
      {conflicts.length > 0 ? (
        <div className="notice notice-warn" role="alert">
          <p>A budget has changed on the platform since this recommendation was made, so it cannot be applied as it is:</p>
          <ul>
            {conflicts.map((c, i) => (
              <li key={i}>
                {channelName(c.platform)} campaign {c.campaign_id}: now {money(c.current ?? null, currency, { cents: true })},
                recommended on {money(c.recorded ?? null, currency, { cents: true })}.
              </li>
            ))}
          </ul>
          <p>The next model build makes a fresh recommendation from the current budget.</p>
        </div>
      ) : null}
      {preview ? (
        changes.length ? (
          <>
            <p>Control Tower will make exactly these changes, checked just now against each platform:</p>
            <ChangeList changes={changes} fallbackCurrency={currency} />
            {allRefused ? <p className="field-error">Every change was refused, so there is nothing to apply.</p> : null}
            <p className="muted small">
              {rec.type === "promotion"
                ? "You can undo it afterwards: the discount ends at once, and it ends by itself on its last day."
                : "You can undo it afterwards: each budget goes back to what it was."}
            </p>
          </>
        ) : (
          <p>
            Nothing changes on an ad platform: accepting records your decision, so everyone on the account can see it is in hand
            {rec.type === "promotion" ? " (run the promotion in Shopify)" : ""}.
          </p>
        )
      ) : null}
      {error && conflicts.length === 0 ? <ErrorState error={error} title="It was not accepted" /> : null}
    </Modal>
  );
}

const REASONS = ["Not relevant to our plans", "Already handled", "The figures look wrong", "Other"];

function DismissDialog({ brandId, rec, onClose, onDone }: {
  brandId: string;
  rec: Recommendation;
  onClose: () => void;
  onDone: (r: ActionResult) => void;
}) {
  const id = useId();
  const [choice, setChoice] = useState("");
  const [other, setOther] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const reason = choice === "Other" ? other.trim() : choice;
    if (!reason) {
      setProblem(choice === "Other" ? "Say briefly why." : "Pick a reason.");
      return;
    }
    setSubmitting(true);
    try {
      onDone(
        await api.post<ActionResult>(
          `/api/brands/${encodeURIComponent(brandId)}/recommendations/${encodeURIComponent(rec.id)}/dismiss`,
          { reason },
        ),
      );
    } catch (err) {
      setError(err);
      setSubmitting(false);
    }
  }

  return (
    <Modal title="Dismiss this recommendation" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p className="modal-lead">{rec.action}</p>
        <fieldset className="radio-group" aria-describedby={problem ? `${id}-problem` : undefined}>
          <legend>Why? (kept with the decision)</legend>
          {REASONS.map((r, i) => (
            <label key={r} className="radio">
              <input
                type="radio"
                name={`${id}-reason`}
                value={r}
                checked={choice === r}
                onChange={() => {
                  setChoice(r);
                  setProblem(null);
                }}
                data-autofocus={i === 0 ? true : undefined}
              />
              {r}
            </label>
          ))}
        </fieldset>
        {choice === "Other" ? (
          <div className="field">
            <label htmlFor={`${id}-other`}>Your reason</label>
            <textarea id={`${id}-other`} maxLength={500} rows={3} value={other} onChange={(e) => setOther(e.target.value)} />
          </div>
        ) : null}
        {problem ? (
          <p id={`${id}-problem`} className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
        {error ? <ErrorState error={error} title="It was not dismissed" /> : null}
        <div className="modal-footer">
          <button type="button" className="button button-quiet" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={submitting}>
            {submitting ? "Dismissing…" : "Dismiss"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function UndoDialog({ brandId, rec, onClose, onDone }: {
  brandId: string;
  rec: Recommendation;
  onClose: () => void;
  onDone: (r: ActionResult) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);
  const conflicts = conflictsOf(error);

  async function confirm() {
    setSubmitting(true);
    try {
      onDone(
        await api.post<ActionResult>(
          `/api/brands/${encodeURIComponent(brandId)}/recommendations/${encodeURIComponent(rec.id)}/undo`,
          {},
        ),
      );
    } catch (e) {
      setError(e);
      setSubmitting(false);
    }
  }

  return (
    <Modal
      title="Undo this change?"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button button-quiet" onClick={onClose}>
            Keep it
          </button>
          <button type="button" className="button button-primary" onClick={confirm} disabled={submitting} data-autofocus>
            {submitting ? "Undoing…" : "Undo the change"}
          </button>
        </>
      }
    >
      <p className="modal-lead">{rec.action}</p>
      <p>Each campaign's daily budget goes back to what it was before you accepted.</p>
      {error ? (
        <div className="notice notice-warn" role="alert">
          <p>{errorMessage(error)}</p>
          {conflicts.length ? <p>Undo later changes to these campaigns first, newest first.</p> : null}
        </div>
      ) : null}
    </Modal>
  );
}

type Dialog = { kind: "accept" | "dismiss" | "undo"; rec: Recommendation } | null;

export function RecommendationCard({ rec, currency, onAct, readOnly = false }: {
  rec: Recommendation;
  currency: string;
  onAct: (kind: "accept" | "dismiss" | "undo", rec: Recommendation) => void;
  /** A viewer's card: the figures, no Accept, Dismiss or Undo (the API would refuse them). */
  readOnly?: boolean;
}) {
  const cur = rec.currency ?? currency;
  const change = rec.recommended_change ?? 0;
  return (
    <article className={`rec rec-${rec.priority}`} aria-labelledby={`rec-${rec.id}`} data-testid="recommendation" data-rec-id={rec.id} data-status={rec.status}>
      <div className="rec-tags">
        <span className={`badge badge-${rec.priority}`}>{rec.priority} priority</span>
        <span className="badge badge-quiet">{TYPE_TEXT[rec.type] ?? rec.type}</span>
        {rec.channel ? <span className="badge badge-quiet">{channelName(rec.channel)}</span> : null}
        <span className={`rec-status rec-status-${rec.status}`} data-testid="rec-status">
          {STATUS_TEXT[rec.status] ?? rec.status}
        </span>
      </div>
      <h3 id={`rec-${rec.id}`} className="rec-title">
        {rec.action}
      </h3>
      {rec.reason ? (
        <p className="rec-reason">
          <span className="label">Why: </span>
          {rec.reason}
        </p>
      ) : null}
      {rec.expected_impact ? (
        <p className="rec-impact">
          <span className="label">Expected impact: </span>
          {rec.expected_impact}
        </p>
      ) : null}
      {rec.type !== "promotion" && change !== 0 && rec.current_spend !== undefined && rec.new_spend !== undefined ? (
        <p className="rec-spend">
          Spend over {String(rec.metrics?.window_days ?? 30)} days: {money(rec.current_spend, cur)} → <strong>{money(rec.new_spend, cur)}</strong>
        </p>
      ) : null}
      {rec.product ? (
        <p className="muted small product-line">
          <Thumb item={rec} name={productName(rec.product, rec.product_id)} />
          <span>Product: {productName(rec.product, rec.product_id)}</span>
        </p>
      ) : null}
      <div className="rec-actions">
        {readOnly ? <span className="muted small">View only: an owner acts on recommendations.</span> : null}
        {!readOnly && (rec.status === "open" || rec.status === "undone" || rec.status === "failed") ? (
          <>
            <button type="button" className="button button-primary" onClick={() => onAct("accept", rec)}>
              Accept
            </button>
            <button type="button" className="button" onClick={() => onAct("dismiss", rec)}>
              Dismiss
            </button>
          </>
        ) : null}
        {!readOnly && canUndo(rec) ? (
          <button type="button" className="button" onClick={() => onAct("undo", rec)}>
            Undo
          </button>
        ) : null}
        <HelpLink topic="recommendations" anchor={rec.type.replace(/_/g, "-")} label="Why this recommendation was made" />
      </div>
    </article>
  );
}

/** This week's cards, each with Accept (previewed), Dismiss (with a reason) and Undo. */
export function Recommendations({ brandId, recs, currency, week, onChanged, loadError, loading, readOnly = false }: {
  brandId: string;
  readOnly?: boolean;
  recs: Recommendation[];
  currency: string;
  week?: string | null;
  onChanged: () => void;
  loadError?: unknown;
  loading?: boolean;
}) {
  const [dialog, setDialog] = useState<Dialog>(null);
  const [announce, setAnnounce] = useState("");
  const [all, setAll] = useState(false);
  // Cards in flight stay in view whatever their rank, so a change being applied is never hidden.
  const shown = all ? recs : recs.filter((r, i) => i < SHOWN_FIRST || IN_FLIGHT.has(r.status));

  function done(r: ActionResult) {
    setDialog(null);
    const words: Record<string, string> = {
      accepting: "Accepted. Applying the changes on the platform…",
      accepted: "Accepted.",
      dismissed: "Dismissed.",
      undoing: "Undoing the change on the platform…",
    };
    setAnnounce(words[r.status ?? ""] ?? (r.changed === false ? "Nothing changed: it was already done." : "Done."));
    api.invalidate(`/api/brands/${encodeURIComponent(brandId)}`);
    onChanged();
  }

  return (
    <section className="card" aria-labelledby="recs-title">
      <div className="card-head">
        <h2 id="recs-title">
          Recommendations{week ? <span className="card-sub"> · week {week.split("-W")[1]}</span> : null}
        </h2>
        <HelpLink topic="recommendations" label="How recommendations are made" />
      </div>
      <p className="visually-hidden" role="status">
        {announce}
      </p>
      {loadError ? <ErrorState error={loadError} onRetry={onChanged} /> : null}
      {!loadError && loading && recs.length === 0 ? <Loading /> : null}
      {!loadError && !loading && recs.length === 0 ? (
        <Empty title="Nothing to act on this week.">
          <p>New recommendations appear after each model build, when spend and stock call for a change.</p>
        </Empty>
      ) : null}
      <div className="rec-list">
        {shown.map((r) => (
          <RecommendationCard key={r.id} rec={r} currency={currency} readOnly={readOnly} onAct={(kind, rec) => setDialog({ kind, rec })} />
        ))}
      </div>
      {recs.length > shown.length || all ? (
        <button type="button" className="button button-quiet show-more" aria-expanded={all} onClick={() => setAll((v) => !v)}>
          {all ? "Show the top 5 only" : `Show all ${recs.length} recommendations`}
        </button>
      ) : null}
      {dialog?.kind === "accept" ? (
        <AcceptDialog brandId={brandId} rec={dialog.rec} currency={currency} onClose={() => setDialog(null)} onDone={done} />
      ) : null}
      {dialog?.kind === "dismiss" ? (
        <DismissDialog brandId={brandId} rec={dialog.rec} onClose={() => setDialog(null)} onDone={done} />
      ) : null}
      {dialog?.kind === "undo" ? (
        <UndoDialog brandId={brandId} rec={dialog.rec} onClose={() => setDialog(null)} onDone={done} />
      ) : null}
    </section>
  );
}
