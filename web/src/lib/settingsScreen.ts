// What the settings screens (API keys, Team) share: how roles and times read, and how a change runs.
import { useState } from "react";
import { api } from "../api/client";

/** Each role as the page names it. */
export const ROLE_LABELS: Record<string, string> = {
  merchant_owner: "Owner",
  merchant_viewer: "Viewer (read only)",
  agency_admin: "Agency admin",
  agency_member: "Agency member",
  operator: "Operator",
};

/** A stored time in the reader's locale (``none`` when there is none). */
export function when(iso: string | null, none = ""): string {
  if (!iso) return none;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/**
 * One change at a time on a settings screen: ``act(run)`` marks the screen busy, runs the change, forgets
 * the cached copies under ``prefix`` and reloads; a refusal lands in ``error`` (the screen shows it).
 */
export function useChange(prefix: () => string, reload: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function act<T>(run: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    try {
      const out = await run();
      api.invalidate(prefix());
      await reload();
      return out;
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  return { busy, error, setError, act };
}
