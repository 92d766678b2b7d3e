import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { ApiError, type TeamRef, api, managedTeams } from "../api/client";
import { ErrorState, Loading } from "../components/States";
import { markMeaningful } from "../lib/perf";

/** A member as GET /api/brands/<id>/members (or /api/agencies/<id>/members) lists them. */
export interface MemberRow {
  uid: string;
  email: string;
  role: string;
  joined_at: string | null;
  invited_by: string | null;
}

/** A pending invitation: never its link, which only the invitee's mailbox holds. */
export interface PendingInvitation {
  invitation_id: string;
  email: string;
  role: string;
  expires_at: string;
}

interface TeamAnswer {
  members: MemberRow[];
  invitations: PendingInvitation[];
}

interface InviteAnswer {
  invitation: { email: string; sent: boolean; send_error: string | null };
}

const ROLE_LABELS: Record<string, string> = {
  merchant_owner: "Owner",
  merchant_viewer: "Viewer (read only)",
  agency_admin: "Agency admin",
  agency_member: "Agency member",
};

const ROLES: Record<TeamRef["kind"], string[]> = {
  brand: ["merchant_viewer", "merchant_owner"],
  agency: ["agency_member", "agency_admin"],
};

function base(team: TeamRef): string {
  return `/api/${team.kind === "brand" ? "brands" : "agencies"}/${encodeURIComponent(team.id)}`;
}

function when(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function label(team: TeamRef): string {
  return team.kind === "agency" ? `Agency ${team.id}` : `Brand ${team.id}`;
}

/**
 * Settings › Team: the people of a brand the signed-in person owns, or of the agency they administer:
 * members and roles, pending invitations (revocable), invite by e-mail, remove. Removing someone ends
 * their sessions at once; the API refuses to remove a brand's last owner and this screen says so.
 */
export function Team() {
  const id = useId();
  const teams = managedTeams(api.principal);
  const [chosen, setChosen] = useState(0);
  const team: TeamRef | undefined = teams[chosen];
  const [data, setData] = useState<TeamAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("");
  const [busy, setBusy] = useState(false);
  const teamKey = team ? `${team.kind}:${team.id}` : "";

  const load = useCallback(async () => {
    if (!team) return;
    try {
      setData(await api.get<TeamAnswer>(`${base(team)}/members`));
      setError(null);
    } catch (e) {
      setError(e);
    }
    // teamKey names the team: the object itself is rebuilt on every render, its name only when it changes
  }, [teamKey]);

  useEffect(() => {
    markMeaningful("team");
    setData(null);
    setRole(team ? ROLES[team.kind][0] : "");
    void load();
  }, [load]);

  async function act(run: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setNotice("");
    try {
      setNotice(await run());
      if (team) api.invalidate(`${base(team)}/members`);
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function invite(e: FormEvent) {
    e.preventDefault();
    if (!team) return;
    void act(async () => {
      const made = await api.write<InviteAnswer>("POST", `${base(team)}/invitations`, { email: email.trim(), role });
      setEmail("");
      const inv = made.invitation;
      return inv.sent
        ? `Invitation sent to ${inv.email}.`
        : `The invitation to ${inv.email} was made, but its e-mail could not be sent (${inv.send_error ?? "no reason given"}). Revoke it and try again later.`;
    });
  }

  if (!team) {
    return (
      <main id="main" className="page" tabIndex={-1}>
        <h1>Team</h1>
        <p role="alert">Your role manages no team. Ask a brand's owner or your agency's admin.</p>
      </main>
    );
  }
  const lastOwner = error instanceof ApiError && error.code === "last_owner";
  return (
    <main id="main" className="page" tabIndex={-1}>
      <h1>Team</h1>
      <p className="muted">
        Who can sign in to {label(team).toLowerCase()}, and as what. Owners change settings and act on recommendations;
        viewers read only. Removing someone signs them out at once.
      </p>
      {teams.length > 1 ? (
        <div className="field">
          <label htmlFor={`${id}-team`}>Team of</label>
          <select id={`${id}-team`} value={chosen} onChange={(e) => setChosen(Number(e.target.value))}>
            {teams.map((t, i) => (
              <option key={`${t.kind}:${t.id}`} value={i}>
                {label(t)}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <p className="visually-hidden" role="status">
        {notice}
      </p>
      {notice ? <p className="notice">{notice}</p> : null}
      {lastOwner ? (
        <p role="alert">{(error as ApiError).message}</p>
      ) : error ? (
        <ErrorState error={error} title="Something went wrong" />
      ) : null}
      {data === null && !error ? <Loading lines={3} /> : null}
      {data !== null ? (
        <table className="table">
          <caption>Members</caption>
          <thead>
            <tr>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.members.map((m) => (
              <tr key={m.uid} data-testid="member">
                <td>{m.email}</td>
                <td>{ROLE_LABELS[m.role] ?? m.role}</td>
                <td>{when(m.joined_at)}</td>
                <td>
                  <button
                    type="button"
                    className="button"
                    disabled={busy}
                    onClick={() =>
                      void act(async () => {
                        await api.write("DELETE", `${base(team)}/members/${encodeURIComponent(m.uid)}`);
                        return `${m.email} was removed and signed out.`;
                      })
                    }
                  >
                    Remove <span className="sr-only">{m.email}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {data !== null && data.invitations.length > 0 ? (
        <table className="table">
          <caption>Pending invitations</caption>
          <thead>
            <tr>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Link works until</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.invitations.map((i) => (
              <tr key={i.invitation_id} data-testid="invitation">
                <td>{i.email}</td>
                <td>{ROLE_LABELS[i.role] ?? i.role}</td>
                <td>{when(i.expires_at)}</td>
                <td>
                  <button
                    type="button"
                    className="button"
                    disabled={busy}
                    onClick={() =>
                      void act(async () => {
                        await api.write("DELETE", `${base(team)}/invitations/${encodeURIComponent(i.invitation_id)}`);
                        return `The invitation to ${i.email} was revoked.`;
                      })
                    }
                  >
                    Revoke <span className="sr-only">the invitation to {i.email}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {data !== null ? (
        <form onSubmit={invite} className="card">
          <h2>Invite someone</h2>
          <p className="muted small">They get a link by e-mail that works once; they sign in with that address.</p>
          <div className="field">
            <label htmlFor={`${id}-email`}>E-mail</label>
            <input
              id={`${id}-email`}
              type="email"
              autoComplete="off"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              required
              maxLength={254}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-role`}>Role</label>
            <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value)}>
              {ROLES[team.kind].map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="button button-primary" disabled={busy || !email.trim()}>
            Send invitation
          </button>
        </form>
      ) : null}
    </main>
  );
}
