import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { ApiError, api } from "../api/client";
import { ErrorState, Loading } from "../components/States";
import { markMeaningful } from "../lib/perf";
import { ROLE_LABELS, useChange, when } from "../lib/settingsScreen";

/** A key as GET /api/api-keys lists it: never the key itself. */
export interface ApiKeyRow {
  key_prefix: string;
  name: string;
  role: string;
  agency_id: string | null;
  brand_ids: string[];
  operator: boolean;
  created_at: string | null;
  last_used_at: string | null;
}

interface NewKey {
  api_key: string;
  key: ApiKeyRow;
}

/**
 * Settings › API keys: the keys the signed-in role manages, with their last use; create, rotate and
 * revoke. A new key is shown once, held in this screen's memory only, and gone when dismissed.
 */
export function ApiKeys() {
  const id = useId();
  const [rows, setRows] = useState<ApiKeyRow[] | null>(null);
  const [fresh, setFresh] = useState<NewKey | null>(null);
  const [name, setName] = useState("");
  const agency = api.principal?.agency_id != null;
  const roles = agency ? ["agency_member", "agency_admin"] : ["merchant_viewer", "merchant_owner"];
  const [role, setRole] = useState(roles[0]);

  // the change hook reloads through load, declared below (it runs only after the first render)
  const change = useChange(() => "/api/api-keys", () => load());
  const { busy, error, setError } = change;

  const load = useCallback(async () => {
    try {
      const answer = await api.get<{ api_keys: ApiKeyRow[] }>("/api/api-keys");
      setRows(answer.api_keys);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [setError]);

  useEffect(() => {
    markMeaningful("api-keys");
    void load();
  }, [load]);

  async function act(run: () => Promise<NewKey | null>) {
    const made = await change.act(run);
    if (made) setFresh(made);
  }

  function create(e: FormEvent) {
    e.preventDefault();
    void act(() => api.write<NewKey>("POST", "/api/api-keys", { name: name.trim(), role })).then(() => setName(""));
  }

  const forbidden = error instanceof ApiError && error.status === 403 && rows === null;
  return (
    <main id="main" className="page" tabIndex={-1}>
      <h1>API keys</h1>
      <p className="muted">
        Keys let scripts and other tools read your brands. Each key has a role; rotate a key to replace it, revoke it
        to stop it at once. Last use is recorded every few minutes.
      </p>
      {forbidden ? (
        <p role="alert">Your role cannot manage API keys. Ask an owner or your agency's admin.</p>
      ) : error ? (
        <ErrorState error={error} title="Something went wrong" />
      ) : null}
      {fresh ? (
        <section className="card" aria-labelledby={`${id}-new`}>
          <h2 id={`${id}-new`}>New key for {fresh.key.name}</h2>
          <p>Copy it now: it is not shown again.</p>
          <output className="code" aria-label="The new API key">
            {fresh.api_key}
          </output>
          <button type="button" className="button" onClick={() => setFresh(null)}>
            I have copied it
          </button>
        </section>
      ) : null}
      {rows === null && !error ? <Loading lines={3} /> : null}
      {rows !== null ? (
        <table className="table">
          <caption className="sr-only">Your API keys</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((k) => (
              <tr key={k.key_prefix}>
                <td>
                  <code>{k.key_prefix}…</code>
                </td>
                <td>{k.name}</td>
                <td>{ROLE_LABELS[k.role] ?? k.role}</td>
                <td>{when(k.created_at, "never")}</td>
                <td>{when(k.last_used_at, "never")}</td>
                <td>
                  <button
                    type="button"
                    className="button"
                    disabled={busy}
                    onClick={() =>
                      void act(() => api.write<NewKey>("POST", `/api/api-keys/${encodeURIComponent(k.key_prefix)}/rotate`))
                    }
                  >
                    Rotate <span className="sr-only">{k.name}</span>
                  </button>{" "}
                  <button
                    type="button"
                    className="button"
                    disabled={busy}
                    onClick={() =>
                      void act(async () => {
                        await api.write("DELETE", `/api/api-keys/${encodeURIComponent(k.key_prefix)}`);
                        return null;
                      })
                    }
                  >
                    Revoke <span className="sr-only">{k.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {rows !== null ? (
        <form onSubmit={create} className="card">
          <h2>Create a key</h2>
          <div className="field">
            <label htmlFor={`${id}-name`}>Name (who or what it is for)</label>
            <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-role`}>Role</label>
            <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="button button-primary" disabled={busy || !name.trim()}>
            Create key
          </button>
        </form>
      ) : null}
    </main>
  );
}
