import { type FormEvent, useId, useState } from "react";
import { api } from "../api/client";
import type { Answer, AnswerFigure, AnswerQuery } from "../api/types";
import { count, days, money, ratio } from "../lib/format";
import { ErrorState, HelpLink } from "./States";
import { ScrollBox } from "./ScrollBox";

const EXAMPLES = [
  "Which products performed best last month?",
  "Why did my revenue drop this week?",
  "Which regions are performing best this month?",
];
const MAX_CHARS = 500;
// more figures than this start folded: on a phone a long list would push the queries far down
const OPEN_FIGURES = 6;

function cell(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return String(v);
}

/** A figure's value in its unit: money in the store's currency, ROAS as ×, days, units, percent. */
export function figureValue(f: AnswerFigure, currency: string): string {
  const v = f.value;
  if (v === null || v === undefined) return "—";
  switch (f.unit) {
    case "ratio":
      return ratio(v);
    case "percent":
      return `${count(v, 1)}%`;
    case "days":
      return days(v);
    case "units":
      return `${count(v)} units`;
    case null:
    case undefined:
      return count(v, 2);
    default:
      return money(v, f.unit || currency, { cents: !Number.isInteger(v) && Math.abs(v) < 100 });
  }
}

const cellId = (base: string, q: number, row: number, col: string) => `${base}-q${q}-r${row}-${col}`;

function FigureList({ answer, currency, base }: { answer: Answer; currency: string; base: string }) {
  const figures = answer.figures ?? [];
  const dropped = answer.dropped_figures ?? [];
  if (!figures.length && !dropped.length) return null;
  return (
    <details className="figures" open={figures.length <= OPEN_FIGURES}>
      <summary>
        Figures in this answer <span className="muted">({figures.length})</span>
      </summary>
      {figures.length ? (
        <ScrollBox label="Figures in this answer">
          <table className="data-table figures-table">
            <caption className="visually-hidden">Each figure the answer states, and the query row it comes from</caption>
            <thead>
              <tr>
                <th scope="col">Figure</th>
                <th scope="col" className="num">Value</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {figures.map((f, i) => {
                const shown = f.source.row < (answer.queries?.[f.source.query]?.data?.length ?? 0);
                const where = `query ${f.source.query + 1}, ${f.source.column.replace(/_/g, " ")}, row ${f.source.row + 1}`;
                return (
                  <tr key={i}>
                    <th scope="row">{f.label}</th>
                    <td className="num">{figureValue(f, currency)}</td>
                    <td>
                      {shown ? <a href={`#${cellId(base, f.source.query, f.source.row, f.source.column)}`}>{where}</a> : where}
                      {f.check === "relocated" ? <span className="muted small"> (found here, not where Claude said)</span> : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollBox>
      ) : null}
      {dropped.length ? (
        <p className="muted small" role="note">
          {dropped.length === 1 ? "One figure Claude listed was" : `${dropped.length} figures Claude listed were`} not found in the
          query results and {dropped.length === 1 ? "is" : "are"} left out: {dropped.map((d) => d.label || String(d.value)).join(", ")}.
        </p>
      ) : null}
    </details>
  );
}

function QueryDetail({ q, n, base, cited }: { q: AnswerQuery; n: number; base: string; cited: Set<string> }) {
  const input = Object.entries(q.input ?? {});
  // a column of Shopify ids (gid://…) means nothing to a merchant: the row's title beside it says which
  const cols = (q.columns ?? (q.data?.[0] ? Object.keys(q.data[0]) : [])).filter(
    (c) => !(q.data?.length && q.data.every((r) => typeof r[c] === "string" && (r[c] as string).startsWith("gid://"))),
  );
  return (
    <li className="query">
      <p>
        <span className="label">Query {n}:</span> <code>{q.tool ?? "select"}</code>
        {input.length ? (
          <span className="muted">
            {" "}
            ({input.map(([k, v]) => `${k.replace(/_/g, " ")} ${cell(v)}`).join(", ")})
          </span>
        ) : null}
        {q.rows !== undefined ? <span className="muted"> · {q.rows} rows</span> : null}
      </p>
      {q.sql ? (
        <details>
          <summary>SQL</summary>
          <pre className="sql">{q.sql}</pre>
        </details>
      ) : null}
      {q.data?.length ? (
        <ScrollBox label={`Rows of query ${n}`}>
          <table className="data-table">
            <caption className="visually-hidden">Rows of query {n}</caption>
            <thead>
              <tr>
                {cols.map((c) => (
                  <th key={c} scope="col">
                    {c.replace(/_/g, " ")}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {q.data.map((row, i) => (
                <tr key={i}>
                  {cols.map((c) => {
                    const id = cellId(base, n - 1, i, c);
                    return cited.has(id) ? (
                      <td key={c} id={id} className="cited" tabIndex={-1}>
                        <mark>{cell(row[c])}</mark>
                      </td>
                    ) : (
                      <td key={c}>{cell(row[c])}</td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      ) : null}
    </li>
  );
}

/** Ask a question in plain words; the answer comes with the figures and the queries behind it. */
export function AskBox({ brandId, currency = "USD" }: { brandId: string; currency?: string }) {
  const id = useId();
  const base = `ask${id.replace(/[^a-zA-Z0-9]/g, "")}`;
  const [question, setQuestion] = useState("");
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function ask(q: string) {
    const text = q.trim();
    if (!text) {
      setProblem("Type a question first.");
      return;
    }
    setProblem(null);
    setBusy(true);
    setError(null);
    try {
      setAnswer(await api.post<Answer>(`/api/brands/${encodeURIComponent(brandId)}/ask`, { question: text }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    void ask(question);
  }

  return (
    <section className="card ask" aria-labelledby={`${id}-title`}>
      <div className="card-head">
        <h2 id={`${id}-title`}>Ask about your store</h2>
        <HelpLink topic="dashboard" anchor="ask" label="How answers are worked out" />
      </div>
      <form onSubmit={submit} className="ask-form">
        <label htmlFor={`${id}-q`} className="visually-hidden">
          Your question
        </label>
        <input
          id={`${id}-q`}
          type="text"
          value={question}
          maxLength={MAX_CHARS}
          placeholder="e.g. Which products performed best last month?"
          onChange={(e) => setQuestion(e.target.value)}
          aria-invalid={!!problem}
          aria-describedby={problem ? `${id}-problem` : undefined}
        />
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Asking…" : "Ask"}
        </button>
      </form>
      {problem ? (
        <p id={`${id}-problem`} className="field-error" role="alert">
          {problem}
        </p>
      ) : null}
      <div className="ask-examples">
        <span className="muted small">Try: </span>
        {EXAMPLES.map((q) => (
          <button
            key={q}
            type="button"
            className="chip"
            onClick={() => {
              setQuestion(q);
              void ask(q);
            }}
          >
            {q}
          </button>
        ))}
      </div>
      <div aria-live="polite" aria-busy={busy}>
        {error ? <ErrorState error={error} title="No answer" /> : null}
        {answer ? (
          <div className="answer" data-testid="answer">
            <p className="answer-q">{answer.question}</p>
            <div className="answer-text">
              {answer.answer.split("\n").map((line, i) => (
                <p key={i}>{line}</p>
              ))}
            </div>
            <FigureList answer={answer} currency={currency} base={base} />
            <p className="byline">
              {answer.author === "claude"
                ? "Answered by Claude with read-only queries, and checked against their results."
                : "Answered by Control Tower's own rules from the queries below (no AI)."}
            </p>
            {answer.queries?.length ? (
              <details className="queries" open>
                <summary>Queries behind this answer</summary>
                <ol className="plain-list">
                  {answer.queries.map((q, i) => (
                    <QueryDetail
                      key={i}
                      q={q}
                      n={i + 1}
                      base={base}
                      cited={new Set((answer.figures ?? []).map((f) => cellId(base, f.source.query, f.source.row, f.source.column)))}
                    />
                  ))}
                </ol>
              </details>
            ) : null}
          </div>
        ) : null}
      </div>
    </section>
  );
}
