import { type FormEvent, useId, useState } from "react";
import { api } from "../api/client";
import type { Answer, AnswerQuery } from "../api/types";
import { ErrorState, HelpLink } from "./States";
import { ScrollBox } from "./ScrollBox";

const EXAMPLES = [
  "Which products performed best last month?",
  "Why did my revenue drop this week?",
  "Which regions are performing best this month?",
];
const MAX_CHARS = 500;

function cell(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return String(v);
}

function QueryDetail({ q, n }: { q: AnswerQuery; n: number }) {
  const input = Object.entries(q.input ?? {});
  const cols = q.columns ?? (q.data?.[0] ? Object.keys(q.data[0]) : []);
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
                  {cols.map((c) => (
                    <td key={c}>{cell(row[c])}</td>
                  ))}
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
export function AskBox({ brandId }: { brandId: string }) {
  const id = useId();
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
            {answer.figures?.length ? (
              <dl className="figures">
                {answer.figures.map((f, i) => (
                  <div key={i}>
                    <dt>{f.label}</dt>
                    <dd>
                      {cell(f.value)}
                      {f.unit ? ` ${f.unit}` : ""}
                    </dd>
                  </div>
                ))}
              </dl>
            ) : null}
            <p className="byline">
              {answer.author === "claude"
                ? "Answered by Claude with read-only queries, and checked against their results."
                : "Answered by Control Tower's own rules from the queries below (no AI)."}
            </p>
            {answer.queries?.length ? (
              <details className="queries" open>
                <summary>Figures and queries behind this answer</summary>
                <ol className="plain-list">
                  {answer.queries.map((q, i) => (
                    <QueryDetail key={i} q={q} n={i + 1} />
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
