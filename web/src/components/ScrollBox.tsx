import { type ReactNode, useEffect, useRef, useState } from "react";

/**
 * A box that scrolls sideways when its table is wider than the screen. While it does, it is a
 * labelled region in the tab order, so a keyboard can scroll it too (arrow keys once focused).
 */
export function ScrollBox({ label, children }: { label: string; children: ReactNode }) {
  const el = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);

  useEffect(() => {
    const box = el.current;
    if (!box) return;
    const check = () => setScrolls(box.scrollWidth > box.clientWidth + 1);
    check();
    if (typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(check);
    ro.observe(box);
    if (box.firstElementChild) ro.observe(box.firstElementChild);
    return () => ro.disconnect();
  }, []);

  return (
    <div
      ref={el}
      className="table-scroll"
      {...(scrolls ? { tabIndex: 0, role: "region", "aria-label": `${label} (scrolls sideways)` } : {})}
    >
      {children}
    </div>
  );
}
