import { useEffect, useRef } from "react";
import { topic, TOPICS } from "../help/content";
import { markMeaningful } from "../lib/perf";
import { Link } from "../lib/router";

export function Help({ topicId }: { topicId: string | null }) {
  const t = topic(topicId);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    markMeaningful("help");
    // a link to a definition (…#days-of-cover) scrolls to it once the page is drawn
    const hash = window.location.hash.slice(1);
    if (hash) document.getElementById(hash)?.scrollIntoView();
  }, [topicId]);

  return (
    <main id="main" className="page help" tabIndex={-1}>
      <p className="back">
        <Link to="/">← Your brands</Link>
      </p>
      <div className="help-layout">
        <nav aria-label="Help topics" className="help-nav">
          <p className="eyebrow">Help</p>
          <ul className="plain-list">
            {TOPICS.map((x) => (
              <li key={x.id}>
                <Link to={`/help/${x.id}`} aria-current={x.id === t?.id ? "page" : undefined}>
                  {x.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <article className="help-body">
          {t ? (
            <>
              <h1 ref={heading}>{t.title}</h1>
              <p className="lead">{t.summary}</p>
              {t.body}
            </>
          ) : (
            <>
              <h1 ref={heading}>{topicId ? "No such help page" : "Help"}</h1>
              <ul className="help-index">
                {TOPICS.map((x) => (
                  <li key={x.id}>
                    <Link to={`/help/${x.id}`}>{x.title}</Link>
                    <p className="muted">{x.summary}</p>
                  </li>
                ))}
              </ul>
            </>
          )}
        </article>
      </div>
    </main>
  );
}
