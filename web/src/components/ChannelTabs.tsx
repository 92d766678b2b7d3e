import { type KeyboardEvent, useRef } from "react";
import { channelName } from "../lib/format";

export const TABS = ["all", "meta", "tiktok", "google_ads"] as const;
export type Tab = (typeof TABS)[number];

/** The WAI-ARIA tabs pattern: arrow keys, Home and End move between tabs; Tab goes into the panel. */
export function ChannelTabs({ value, onChange, panelId }: { value: Tab; onChange: (t: Tab) => void; panelId: string }) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);

  function onKey(e: KeyboardEvent<HTMLButtonElement>, i: number) {
    let next = -1;
    if (e.key === "ArrowRight") next = (i + 1) % TABS.length;
    else if (e.key === "ArrowLeft") next = (i - 1 + TABS.length) % TABS.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = TABS.length - 1;
    if (next < 0) return;
    e.preventDefault();
    refs.current[next]?.focus();
    onChange(TABS[next]);
  }

  return (
    <div className="tabs" role="tablist" aria-label="Channel">
      {TABS.map((t, i) => (
        <button
          key={t}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${t}`}
          aria-selected={value === t}
          aria-controls={panelId}
          tabIndex={value === t ? 0 : -1}
          className="tab"
          onClick={() => onChange(t)}
          onKeyDown={(e) => onKey(e, i)}
        >
          {t === "all" ? "All channels" : channelName(t)}
        </button>
      ))}
    </div>
  );
}
