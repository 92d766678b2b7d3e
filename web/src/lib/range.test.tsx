import { describe, expect, it } from "vitest";
import { compareRange, presetRange, rangeFromQuery, rangeLabel, rangeParams, rangeQuery, validateCustom } from "./range";

const TODAY = "2026-12-05";

describe("date ranges", () => {
  it("defaults to last week (the 7 complete days) against the 7 before, and asks the API for nothing special", () => {
    const r = rangeFromQuery(new URLSearchParams(), TODAY);
    expect(r).toEqual({ preset: "last_week", start: "2026-11-28", end: "2026-12-04", compare: "previous_period" });
    expect(rangeParams(r)).toEqual({});
    expect(compareRange(r)).toEqual({ start: "2026-11-21", end: "2026-11-27" });
  });

  it("asks for a preset by its name in the shared period vocabulary", () => {
    const r = rangeFromQuery(new URLSearchParams("range=last_30_days&compare=previous_year"), TODAY);
    expect(r).toMatchObject({ preset: "last_30_days", start: "2026-11-05", end: "2026-12-04", compare: "previous_year" });
    expect(rangeParams(r)).toEqual({ period: "last_30_days", compare: "previous_year" });
    expect(compareRange(r)).toEqual({ start: "2025-11-05", end: "2025-12-04" });
    // the default period with another comparison still names itself
    expect(rangeParams(rangeFromQuery(new URLSearchParams("compare=none"), TODAY))).toEqual({ period: "last_week", compare: "none" });
  });

  it("sends custom dates half-open, as the API takes them, and keeps both days in the URL", () => {
    const c = rangeFromQuery(new URLSearchParams("from=2026-10-01&to=2026-10-31&compare=none"), TODAY);
    expect(c).toEqual({ preset: "custom", start: "2026-10-01", end: "2026-10-31", compare: "none" });
    expect(rangeParams(c)).toEqual({ start: "2026-10-01", end: "2026-11-01", compare: "none" });
    expect(compareRange(c)).toBeNull();
    expect(rangeQuery(c)).toEqual({ range: null, from: "2026-10-01", to: "2026-10-31", compare: "none" });
  });

  it("reckons the month presets as tower.periods does", () => {
    expect(presetRange("month_to_date", TODAY)).toEqual({ start: "2026-12-01", end: "2026-12-04" });
    expect(presetRange("month_to_date", "2026-12-01")).toEqual({ start: "2026-11-01", end: "2026-11-30" });
    expect(presetRange("last_month", TODAY)).toEqual({ start: "2026-11-01", end: "2026-11-30" });
    expect(presetRange("last_90_days", TODAY)).toEqual({ start: "2026-09-06", end: "2026-12-04" });
  });

  it("ignores what it cannot use in the URL", () => {
    expect(rangeFromQuery(new URLSearchParams("range=forever&compare=sideways"), TODAY)).toMatchObject({ preset: "last_week", compare: "previous_period" });
    // today is still in progress: a range ending today falls back to the default
    expect(rangeFromQuery(new URLSearchParams("from=2026-12-01&to=2026-12-05"), TODAY).preset).toBe("last_week");
  });

  it("explains why custom dates are refused", () => {
    expect(validateCustom("2026-12-03", "2026-12-01", TODAY)).toMatch(/on or before/);
    expect(validateCustom("2026-12-01", "2026-12-05", TODAY)).toMatch(/before today/);
    expect(validateCustom("2024-01-01", "2026-12-01", TODAY)).toMatch(/at most 400 days/);
    expect(validateCustom("", "2026-12-01", TODAY)).toMatch(/both/);
    expect(validateCustom("2026-11-01", "2026-11-30", TODAY)).toBeNull();
  });

  it("maps a leap day to the year before's Feb 28", () => {
    const r = rangeFromQuery(new URLSearchParams("from=2028-02-29&to=2028-03-01&compare=previous_year"), "2028-03-10");
    expect(compareRange(r)).toEqual({ start: "2027-02-28", end: "2027-03-01" });
  });

  it("labels a range with its dates", () => {
    expect(rangeLabel(rangeFromQuery(new URLSearchParams(), TODAY))).toBe("Last 7 days (Nov 28 – Dec 4, 2026)");
  });
});
