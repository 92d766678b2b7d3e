import { useEffect, useState } from "react";
import { api } from "../api/client";

// The screen an e-mail's "Unsubscribe" link opens. Opening it changes nothing (mail scanners follow
// links); the button does, by POSTing the link's signed token (as a mail client's one-click button does).
interface Unsubscribed {
  recipient_id: string;
  kind: "alerts" | "digest" | "all";
  unsubscribed: string[];
}

const WHAT: Record<Unsubscribed["kind"], string> = {
  alerts: "alert e-mails and messages",
  digest: "the weekly digest",
  all: "every notification",
};

function stopped(u: Unsubscribed): boolean {
  return u.kind === "all" ? ["alerts", "digest"].every((k) => u.unsubscribed.includes(k)) : u.unsubscribed.includes(u.kind);
}

export function Unsubscribe() {
  const token = new URLSearchParams(window.location.search).get("token") ?? "";
  const path = `/api/notify/unsubscribe?token=${encodeURIComponent(token)}`;
  const [state, setState] = useState<Unsubscribed | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<Unsubscribed>(path)
      .then(setState)
      .catch((e: Error) => setError(e.message));
  }, [path]);

  const confirm = () => {
    setBusy(true);
    api
      .post<Unsubscribed>(path, {})
      .then(setState)
      .catch((e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  };

  return (
    <main id="main" className="page" tabIndex={-1}>
      <h1>Unsubscribe</h1>
      {error ? <p role="alert">This link cannot be used: {error}</p> : null}
      {!error && !state ? <p aria-busy="true">Reading the link…</p> : null}
      {state && stopped(state) ? (
        <p role="status">
          Done: {state.recipient_id} no longer receives {WHAT[state.kind]}.
        </p>
      ) : null}
      {state && !stopped(state) ? (
        <>
          <p>
            Stop sending {WHAT[state.kind]} to {state.recipient_id}?
          </p>
          <button type="button" className="button" onClick={confirm} disabled={busy}>
            Unsubscribe
          </button>
        </>
      ) : null}
    </main>
  );
}
