import { describe, expect, it } from "vitest";
import { compactMoney, days, money } from "./format";

describe("money as the page writes it", () => {
  it("writes nothing as $0, not $0.00 beside whole amounts", () => {
    expect(money(0, "USD")).toBe("$0");
    expect(money(465, "USD")).toBe("$465");
    expect(money(81.82, "USD")).toBe("$81.82");
  });

  it("gives axis labels in compact form", () => {
    expect(compactMoney(1500, "USD")).toBe("$1.5K");
    expect(compactMoney(0, "CAD")).toBe("CA$0");
  });
});

describe("days of cover", () => {
  it("says none left rather than 0.0 days", () => {
    expect(days(0)).toBe("none left");
    expect(days(8)).toBe("8.0 days");
    expect(days(null)).toBe("no recent sales");
  });
});
