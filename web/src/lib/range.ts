// The dashboard's date range: a preset or custom dates, and what to compare it with. Kept in the
// URL (?range=last_30&compare=previous_year, or ?start=…&end=…), so a view can be bookmarked or shared.
import type { Params } from "../api/client";
import type { Compare } from "../api/types";
import { addDays, daysBetween, dayRange } from "./format";

export const PRESETS = [
  { id: "last_7", label: "Last 7 days", days: 7 },
  { id: "last_14", label: "Last 14 days", days: 14 },
  { id: "last_30", label: "Last 30 days", days: 30 },
  { id: "last_90", label: "Last 90 days", days: 90 },
] as const;

export const COMPARES: { id: Compare; label: string }[] = [
  { id: "previous_period", label: "Previous period" },
  { id: "previous_year", label: "Same period last year" },
  { id: "none", label: "No comparison" },
];

export const DEFAULT_PRESET = "last_7";
export const DEFAULT_COMPARE: Compare = "previous_period";
export const MAX_RANGE_DAYS = 400;

export interface RangeChoice {
  preset: string; // a PRESETS id, or "custom"
  start: string;
  end: string;
  compare: Compare;
}

/** The last complete day of the store: the day before its local today (today is still in progress). */
export function lastCompleteDay(today: string): string {
  return addDays(today, -1);
}

export function presetRange(preset: string, today: string): { start: string; end: string } {
  const p = PRESETS.find((x) => x.id === preset) ?? PRESETS[0];
  const end = lastCompleteDay(today);
  return { start: addDays(end, -(p.days - 1)), end };
}

const ISO = /^\d{4}-\d{2}-\d{2}$/;

export function rangeFromQuery(query: URLSearchParams, today: string): RangeChoice {
  const compareRaw = query.get("compare");
  const compare = (COMPARES.some((c) => c.id === compareRaw) ? compareRaw : DEFAULT_COMPARE) as Compare;
  const start = query.get("start");
  const end = query.get("end");
  if (start && end && ISO.test(start) && ISO.test(end) && !validateCustom(start, end, today)) {
    return { preset: "custom", start, end, compare };
  }
  const preset = PRESETS.some((p) => p.id === query.get("range")) ? (query.get("range") as string) : DEFAULT_PRESET;
  return { preset, ...presetRange(preset, today), compare };
}

/** Why a custom range is unusable (null: it is fine). */
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
  return { start: choice.start, end: choice.end, compare: choice.compare };
}

/** The URL query for a choice (only what differs from the default). */
export function rangeQuery(choice: RangeChoice): Record<string, string | null> {
  const custom = choice.preset === "custom";
  return {
    range: custom || choice.preset === DEFAULT_PRESET ? null : choice.preset,
    start: custom ? choice.start : null,
    end: custom ? choice.end : null,
    compare: choice.compare === DEFAULT_COMPARE ? null : choice.compare,
  };
}

/** The comparison period's dates, as the API computes them (for labels when it does not say). */
export function compareRange(choice: RangeChoice): { start: string; end: string } | null {
  if (choice.compare === "none") return null;
  if (choice.compare === "previous_year") {
    return { start: shiftYear(choice.start), end: shiftYear(choice.end) };
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

export function rangeLabel(choice: RangeChoice): string {
  const preset = PRESETS.find((p) => p.id === choice.preset);
  const dates = dayRange(choice.start, choice.end);
  return preset ? `${preset.label} (${dates})` : dates;
}
