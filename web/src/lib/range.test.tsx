import { describe, expect, it } from "vitest";
import { compareRange, rangeFromQuery, rangeLabel, rangeParams, rangeQuery, validateCustom } from "./range";

const TODAY = "2026-12-05";

describe("date ranges", () => {
  it("defaults to the last 7 complete days against the 7 before, and asks the API for nothing special", () => {
    const r = rangeFromQuery(new URLSearchParams(), TODAY);
    expect(r).toEqual({ preset: "last_7", start: "2026-11-28", end: "2026-12-04", compare: "previous_period" });
    expect(rangeParams(r)).toEqual({});
    expect(compareRange(r)).toEqual({ start: "2026-11-21", end: "2026-11-27" });
  });

  it("reads presets, custom dates and comparisons from the URL", () => {
    const r = rangeFromQuery(new URLSearchParams("range=last_30&compare=previous_year"), TODAY);
    expect(r).toMatchObject({ preset: "last_30", start: "2026-11-05", end: "2026-12-04", compare: "previous_year" });
    expect(rangeParams(r)).toEqual({ start: "2026-11-05", end: "2026-12-04", compare: "previous_year" });
    expect(compareRange(r)).toEqual({ start: "2025-11-05", end: "2025-12-04" });
    const c = rangeFromQuery(new URLSearchParams("start=2026-10-01&end=2026-10-31&compare=none"), TODAY);
    expect(c).toEqual({ preset: "custom", start: "2026-10-01", end: "2026-10-31", compare: "none" });
    expect(compareRange(c)).toBeNull();
    expect(rangeQuery(c)).toEqual({ range: null, start: "2026-10-01", end: "2026-10-31", compare: "none" });
  });

  it("ignores what it cannot use in the URL", () => {
    expect(rangeFromQuery(new URLSearchParams("range=forever&compare=sideways"), TODAY)).toMatchObject({ preset: "last_7", compare: "previous_period" });
    // today is still in progress: a range ending today falls back to the default
    expect(rangeFromQuery(new URLSearchParams("start=2026-12-01&end=2026-12-05"), TODAY).preset).toBe("last_7");
  });

  it("explains why custom dates are refused", () => {
    expect(validateCustom("2026-12-03", "2026-12-01", TODAY)).toMatch(/on or before/);
    expect(validateCustom("2026-12-01", "2026-12-05", TODAY)).toMatch(/before today/);
    expect(validateCustom("2024-01-01", "2026-12-01", TODAY)).toMatch(/at most 400 days/);
    expect(validateCustom("", "2026-12-01", TODAY)).toMatch(/both/);
    expect(validateCustom("2026-11-01", "2026-11-30", TODAY)).toBeNull();
  });

  it("maps a leap day to the year before's Feb 28", () => {
    const r = rangeFromQuery(new URLSearchParams("start=2028-02-29&end=2028-03-01&compare=previous_year"), "2028-03-10");
    expect(compareRange(r)).toEqual({ start: "2027-02-28", end: "2027-03-01" });
  });

  it("labels a range with its dates", () => {
    expect(rangeLabel(rangeFromQuery(new URLSearchParams(), TODAY))).toMatch(/^Last 7 days \(Nov 28 – Dec 4, 2026\)$/);
  });
});
