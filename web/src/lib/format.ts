// Numbers, money and dates as a merchant reads them: the store's currency, the store's calendar.

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function money(value: number | null | undefined, currency: string, opts: { cents?: boolean } = {}): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  // nothing is "$0", not "$0.00" beside "$465"
  const whole = !opts.cents && (Math.abs(value) >= 100 || value === 0);
  const key = `${currency}:${whole}`;
  let f = moneyFormats.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, {
        style: "currency",
        currency,
        maximumFractionDigits: whole ? 0 : 2,
        minimumFractionDigits: whole ? 0 : 2,
      });
    } catch {
      // an unknown code still reads as money
      f = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
    }
    moneyFormats.set(key, f);
  }
  return f.format(value);
}

/** An axis label's amount: "$1.5k", "$20k", "$1.2M" (the tooltip and tables give the exact figure). */
export function compactMoney(value: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency, notation: "compact", minimumFractionDigits: 0, maximumFractionDigits: 1 }).format(value);
  } catch {
    return money(value, currency);
  }
}

export function ratio(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)}×`;
}

export function pct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const sign = value > 0 ? "+" : value < 0 ? "−" : "";
  return `${sign}${Math.abs(value).toFixed(digits)}%`;
}

export function count(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }).format(value);
}

export function days(value: number | null | undefined): string {
  if (value === null || value === undefined) return "no recent sales";
  if (value <= 0) return "none left"; // "0.0 days" of cover is stock that has run out

  if (value >= 365) return "over a year";
  return `${value.toFixed(value < 10 ? 1 : 0)} days`;
}

/** A store-local calendar date (YYYY-MM-DD) as "Dec 4, 2026" (no time zone shift: it is a date, not an instant). */
export function day(iso: string | null | undefined, withYear = true): string {
  if (!iso) return "—";
  const [y, m, d] = iso.split("-").map(Number);
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.toLocaleDateString(undefined, {
    month: "short",
    day: "numeric",
    ...(withYear ? { year: "numeric" } : {}),
    timeZone: "UTC",
  });
}

export function dayRange(start: string, end: string): string {
  const sameYear = start.slice(0, 4) === end.slice(0, 4);
  return `${day(start, !sameYear)} – ${day(end)}`;
}

/** An instant shown in the store's time zone, e.g. "Dec 5, 6:48 PM EST". */
export function instant(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return "—";
  const dt = new Date(iso);
  if (Number.isNaN(dt.getTime())) return iso;
  try {
    return dt.toLocaleString(undefined, {
      month: "short",
      day: "numeric",
      hour: "numeric",
      minute: "2-digit",
      timeZone,
      timeZoneName: "short",
    });
  } catch {
    return dt.toLocaleString();
  }
}

// --- calendar arithmetic on ISO dates (UTC-based, so no daylight-saving surprises) ----------------

export function addDays(iso: string, n: number): string {
  const [y, m, d] = iso.split("-").map(Number);
  const dt = new Date(Date.UTC(y, m - 1, d + n));
  return dt.toISOString().slice(0, 10);
}

export function daysBetween(start: string, end: string): number {
  const a = Date.parse(`${start}T00:00:00Z`);
  const b = Date.parse(`${end}T00:00:00Z`);
  return Math.round((b - a) / 86_400_000);
}

export const CHANNEL_NAMES: Record<string, string> = {
  meta: "Meta",
  tiktok: "TikTok",
  google_ads: "Google Ads",
  shopify: "Shopify",
};

export function channelName(c: string | null | undefined): string {
  if (!c) return "All channels";
  return CHANNEL_NAMES[c] ?? c;
}

const REGIONS: Record<string, string> = {
  "US-AL": "Alabama", "US-AK": "Alaska", "US-AZ": "Arizona", "US-AR": "Arkansas", "US-CA": "California",
  "US-CO": "Colorado", "US-CT": "Connecticut", "US-DE": "Delaware", "US-DC": "District of Columbia",
  "US-FL": "Florida", "US-GA": "Georgia", "US-HI": "Hawaii", "US-ID": "Idaho", "US-IL": "Illinois",
  "US-IN": "Indiana", "US-IA": "Iowa", "US-KS": "Kansas", "US-KY": "Kentucky", "US-LA": "Louisiana",
  "US-ME": "Maine", "US-MD": "Maryland", "US-MA": "Massachusetts", "US-MI": "Michigan", "US-MN": "Minnesota",
  "US-MS": "Mississippi", "US-MO": "Missouri", "US-MT": "Montana", "US-NE": "Nebraska", "US-NV": "Nevada",
  "US-NH": "New Hampshire", "US-NJ": "New Jersey", "US-NM": "New Mexico", "US-NY": "New York",
  "US-NC": "North Carolina", "US-ND": "North Dakota", "US-OH": "Ohio", "US-OK": "Oklahoma", "US-OR": "Oregon",
  "US-PA": "Pennsylvania", "US-RI": "Rhode Island", "US-SC": "South Carolina", "US-SD": "South Dakota",
  "US-TN": "Tennessee", "US-TX": "Texas", "US-UT": "Utah", "US-VT": "Vermont", "US-VA": "Virginia",
  "US-WA": "Washington", "US-WV": "West Virginia", "US-WI": "Wisconsin", "US-WY": "Wyoming",
  "US-PR": "Puerto Rico",
  "CA-AB": "Alberta", "CA-BC": "British Columbia", "CA-MB": "Manitoba", "CA-NB": "New Brunswick",
  "CA-NL": "Newfoundland and Labrador", "CA-NS": "Nova Scotia", "CA-NT": "Northwest Territories",
  "CA-NU": "Nunavut", "CA-ON": "Ontario", "CA-PE": "Prince Edward Island", "CA-QC": "Quebec",
  "CA-SK": "Saskatchewan", "CA-YT": "Yukon",
};

/** "US-CA" → "California"; a code we do not know reads as itself. */
export function regionName(code: string): string {
  return REGIONS[code] ?? code;
}

export function regionCountry(code: string): "US" | "CA" | "other" {
  return code.startsWith("US-") ? "US" : code.startsWith("CA-") ? "CA" : "other";
}

/** A product's display name: its title, never a Shopify gid. */
export function productName(title: string | null | undefined, id?: string | null): string {
  if (title && !title.startsWith("gid://")) return title;
  const raw = title || id || "";
  const num = raw.split("/").pop();
  return num ? `Product #${num}` : "Unnamed product";
}
