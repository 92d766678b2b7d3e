import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { ApiError, type TeamRef, api, managedTeams } from "../api/client";
import { ErrorState, Loading } from "../components/States";
import { markMeaningful } from "../lib/perf";
import { ROLE_LABELS, useChange, when } from "../lib/settingsScreen";

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

const ROLES: Record<TeamRef["kind"], string[]> = {
  brand: ["merchant_viewer", "merchant_owner"],
  agency: ["agency_member", "agency_admin"],
};

function base(team: TeamRef): string {
  return `/api/${team.kind === "brand" ? "brands" : "agencies"}/${encodeURIComponent(team.id)}`;
}

function label(team: TeamRef): string {
  return team.kind === "agency" ? `Agency ${team.id}` : `Brand ${team.id}`;
}

/** A row of the members' or the invitations' table, with its one action. */
interface PersonRow {
  key: string;
  email: string;
  role: string;
  at: string | null;
  action: string;
  /** What the action applies to, for a screen reader ("Remove ana@…"). */
  what: string;
  run: () => Promise<string>;
}

function PeopleTable({ caption, atHeading, testId, rows, busy, act }: {
  caption: string;
  atHeading: string;
  testId: string;
  rows: PersonRow[];
  busy: boolean;
  act: (run: () => Promise<string>) => Promise<void>;
}) {
  return (
    <table className="table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">E-mail</th>
          <th scope="col">Role</th>
          <th scope="col">{atHeading}</th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} data-testid={testId}>
            <td>{r.email}</td>
            <td>{ROLE_LABELS[r.role] ?? r.role}</td>
            <td>{when(r.at)}</td>
            <td>
              <button type="button" className="button" disabled={busy} onClick={() => void act(r.run)}>
                {r.action} <span className="sr-only">{r.what}</span>
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
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
  const [notice, setNotice] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("");
  const teamKey = team ? `${team.kind}:${team.id}` : "";
  // the change hook reloads through load, declared below (it runs only after the first render)
  const change = useChange(() => (team ? `${base(team)}/members` : ""), () => load());
  const { busy, error, setError } = change;

  const load = useCallback(async () => {
    if (!team) return;
    try {
      setData(await api.get<TeamAnswer>(`${base(team)}/members`));
      setError(null);
    } catch (e) {
      setError(e);
    }
    // teamKey names the team: the object itself is rebuilt on every render, its name only when it changes
  }, [teamKey, setError]);

  useEffect(() => {
    markMeaningful("team");
    setData(null);
    setRole(team ? ROLES[team.kind][0] : "");
    void load();
  }, [load]);

  async function act(run: () => Promise<string>) {
    setNotice("");
    setNotice((await change.act(run)) ?? "");
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
        <PeopleTable
          caption="Members"
          atHeading="Joined"
          testId="member"
          busy={busy}
          act={act}
          rows={data.members.map((m) => ({
            key: m.uid,
            email: m.email,
            role: m.role,
            at: m.joined_at,
            action: "Remove",
            what: m.email,
            run: async () => {
              await api.write("DELETE", `${base(team)}/members/${encodeURIComponent(m.uid)}`);
              return `${m.email} was removed and signed out.`;
            },
          }))}
        />
      ) : null}
      {data !== null && data.invitations.length > 0 ? (
        <PeopleTable
          caption="Pending invitations"
          atHeading="Link works until"
          testId="invitation"
          busy={busy}
          act={act}
          rows={data.invitations.map((i) => ({
            key: i.invitation_id,
            email: i.email,
            role: i.role,
            at: i.expires_at,
            action: "Revoke",
            what: `the invitation to ${i.email}`,
            run: async () => {
              await api.write("DELETE", `${base(team)}/invitations/${encodeURIComponent(i.invitation_id)}`);
              return `The invitation to ${i.email} was revoked.`;
            },
          }))}
        />
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
