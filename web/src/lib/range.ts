// The dashboard's date range: a named period of the shared vocabulary (tower.periods: last_week,
// last_30_days, month_to_date, …) or custom dates, and what to compare it with. Kept in the page's URL
// (?range=last_30_days&compare=previous_year, or ?from=…&to=… with both days included), so a view can
// be bookmarked or shared. The API takes the period by name, or start and end half-open [start, end).
import type { Params } from "../api/client";
import type { Compare } from "../api/types";
import { addDays, daysBetween, dayRange } from "./format";

export const PRESETS = [
  { id: "last_week", label: "Last 7 days" },
  { id: "last_14_days", label: "Last 14 days" },
  { id: "last_30_days", label: "Last 30 days" },
  { id: "last_90_days", label: "Last 90 days" },
  { id: "month_to_date", label: "Month to date" },
  { id: "last_month", label: "Last month" },
] as const;

export const COMPARES: { id: Compare; label: string }[] = [
  { id: "previous_period", label: "Previous period" },
  { id: "previous_year", label: "Same period last year" },
  { id: "none", label: "No comparison" },
];

export const DEFAULT_PRESET = "last_week";
export const DEFAULT_COMPARE: Compare = "previous_period";
export const MAX_RANGE_DAYS = 400;

export interface RangeChoice {
  preset: string; // a PRESETS id, or "custom"
  start: string; // first day, included
  end: string; // last day, included (what a date picker shows)
  compare: Compare;
}

function monthStart(iso: string): string {
  return `${iso.slice(0, 8)}01`;
}

/** A preset's days as tower.periods resolves them (today is never included: it is still in progress). */
export function presetRange(preset: string, today: string): { start: string; end: string } {
  const yesterday = addDays(today, -1);
  if (preset === "month_to_date") {
    // on the 1st there is no complete day of the month yet: the whole previous month
    const start = monthStart(today) === today ? monthStart(yesterday) : monthStart(today);
    return { start, end: yesterday };
  }
  if (preset === "last_month") {
    const end = addDays(monthStart(today), -1);
    return { start: monthStart(end), end };
  }
  const n = preset === "last_week" ? 7 : Number(/^last_(\d+)_days$/.exec(preset)?.[1] ?? 7);
  return { start: addDays(today, -n), end: yesterday };
}

const ISO = /^\d{4}-\d{2}-\d{2}$/;

export function rangeFromQuery(query: URLSearchParams, today: string): RangeChoice {
  const compareRaw = query.get("compare");
  const compare = (COMPARES.some((c) => c.id === compareRaw) ? compareRaw : DEFAULT_COMPARE) as Compare;
  const start = query.get("from");
  const end = query.get("to");
  if (start && end && !validateCustom(start, end, today)) {
    return { preset: "custom", start, end, compare };
  }
  const asked = query.get("range");
  const preset = PRESETS.some((p) => p.id === asked) ? (asked as string) : DEFAULT_PRESET;
  return { preset, ...presetRange(preset, today), compare };
}

/** Why custom dates are unusable (null: they are fine). `end` is the last day, included. */
export function validateCustom(start: string, end: string, today: string): string | null {
  if (!ISO.test(start) || !ISO.test(end)) return "Pick both a start and an end date.";
  if (start > end) return "The start date must be on or before the end date.";
  if (end >= today) return `The end date must be before today (${today}): today's figures are still coming in.`;
  if (daysBetween(start, end) + 1 > MAX_RANGE_DAYS) return `Pick at most ${MAX_RANGE_DAYS} days.`;
  return null;
}

export function isDefault(choice: RangeChoice): boolean {
  return choice.preset === DEFAULT_PRESET && choice.compare === DEFAULT_COMPARE;
}

/** Query parameters for the API: none for the default view (the API's cached, fastest path). */
export function rangeParams(choice: RangeChoice): Params {
  if (isDefault(choice)) return {};
  if (choice.preset === "custom") return { start: choice.start, end: addDays(choice.end, 1), compare: choice.compare };
  return { period: choice.preset, compare: choice.compare };
}

/** The page URL's query for a choice (only what differs from the default). */
export function rangeQuery(choice: RangeChoice): Record<string, string | null> {
  const custom = choice.preset === "custom";
  return {
    range: custom || choice.preset === DEFAULT_PRESET ? null : choice.preset,
    from: custom ? choice.start : null,
    to: custom ? choice.end : null,
    compare: choice.compare === DEFAULT_COMPARE ? null : choice.compare,
  };
}

/** The comparison period's days (both included), as the API computes them, for labels when it does not say. */
export function compareRange(choice: RangeChoice): { start: string; end: string } | null {
  if (choice.compare === "none") return null;
  if (choice.compare === "previous_year") {
    return { start: shiftYear(choice.start), end: addDays(shiftYear(addDays(choice.end, 1)), -1) };
  }
  const len = daysBetween(choice.start, choice.end) + 1;
  return { start: addDays(choice.start, -len), end: addDays(choice.end, -len) };
}

function shiftYear(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  // Feb 29 maps to Feb 28 of the year before
  const day = m === 2 && d === 29 ? 28 : d;
  return `${String(y - 1).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

export function presetLabel(choice: RangeChoice): string {
  return PRESETS.find((p) => p.id === choice.preset)?.label ?? "Custom dates";
}

export function rangeLabel(choice: RangeChoice): string {
  return `${presetLabel(choice)} (${dayRange(choice.start, choice.end)})`;
}
