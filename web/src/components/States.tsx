import type { ReactNode } from "react";
import { ApiError } from "../api/client";
import { Link } from "../lib/router";

export function Loading({ label = "Loading…", lines = 3 }: { label?: string; lines?: number }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="visually-hidden">{label}</span>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton" aria-hidden="true" />
      ))}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

/** What went wrong, in words a merchant can act on. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return error.message;
    if (error.status === 401) return "Your sign-in has ended. Sign in again with your API key.";
    if (error.status === 403) return "Your API key does not cover this brand.";
    if (error.status === 404 && error.code === "unknown_brand") return "There is no such brand.";
    if (error.status === 429) return "Too many attempts. Wait a minute, then try again.";
    if (error.status >= 500) return "Control Tower had a problem answering. Try again in a moment.";
    return error.message;
  }
  return "Something went wrong. Try again.";
}

export function ErrorState({ error, onRetry, title = "This could not be loaded" }: {
  error: unknown;
  onRetry?: () => void;
  title?: string;
}) {
  return (
    <div className="error-state" role="alert">
      <p className="error-title">{title}</p>
      <p>{errorMessage(error)}</p>
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** A small "?" link to the help page that explains a card or figure. */
export function HelpLink({ topic, anchor, label }: { topic: string; anchor?: string; label: string }) {
  return (
    <Link className="help-link" to={`/help/${topic}${anchor ? `#${anchor}` : ""}`}>
      <span aria-hidden="true">?</span>
      <span className="visually-hidden">{label}</span>
    </Link>
  );
}
