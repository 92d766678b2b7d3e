// The API's JSON shapes, as shared/tower/api/schemas.py and the views describe them. Fields marked
// "newer API" are read when present and the page degrades without them (see web/API-NEEDS.md).

export type Channel = "meta" | "tiktok" | "google_ads";
export const CHANNELS: readonly Channel[] = ["meta", "tiktok", "google_ads"];
export type Compare = "previous_period" | "previous_year" | "none";

export interface Brand {
  brand_id: string;
  brand_name: string;
  currency: string;
  timezone: string;
  today: string;
}

export interface Figures {
  spend: number;
  revenue: number;
  roas: number | null;
}

export interface Changes {
  spend_pct: number | null;
  revenue_pct: number | null;
  roas_pct: number | null;
}

export interface Period {
  total_spend: number;
  total_revenue: number;
  blended_roas: number | null;
  by_channel: Partial<Record<Channel, Figures>>;
}

export interface PerformanceSnapshot extends Period {
  as_of_date: string | null;
  period_days: number | null;
  currency: string | null;
  previous_week: Period | null;
  changes: (Changes & { by_channel: Partial<Record<Channel, Changes>> }) | null;
}

export interface Summary {
  summary?: string;
  channel_performance?: Partial<Record<Channel, string>>;
  inventory_insights?: string;
  week?: string;
  author?: string;
  grounding?: string;
  generated_at?: string;
}

export interface CampaignChange {
  platform: Channel;
  account_id: string;
  campaign_id: string;
  campaign_name?: string;
  currency?: string;
  current_daily_budget?: number;
  proposed_daily_budget?: number;
  clamped?: boolean;
  change?: number;
}

export interface Recommendation {
  id: string;
  type: string;
  priority: "high" | "medium" | "low" | string;
  status: string;
  action: string;
  reason?: string;
  expected_impact?: string;
  score?: number;
  week?: string;
  channel?: string;
  product?: string;
  product_id?: string;
  /** the product's featured image (null: it has none) and its alt text */
  image_url?: string | null;
  image_alt?: string | null;
  currency?: string;
  current_spend?: number;
  recommended_change?: number;
  new_spend?: number;
  metrics?: Record<string, number | string | null>;
  impact?: Record<string, number | boolean | null>;
  campaign_changes?: CampaignChange[];
  updated_at?: string;
}

export interface Alert {
  id: string;
  type: string;
  severity: "critical" | "high" | "medium" | "low";
  title: string;
  channel?: string;
  product?: string;
  product_id?: string;
  image_url?: string | null;
  image_alt?: string | null;
  explanation?: string;
  recommended_action?: string;
  status?: string;
  raised_on?: string;
  resolved_on?: string | null;
  metrics?: Record<string, number | string | null>;
  ai_explanation?: string;
  ai_explanation_author?: string;
}

/** The range the figures cover (tower.api.ranges): `end` and `compare_end` are exclusive, `last_day` inclusive. */
export interface RangeInfo {
  start: string;
  end: string;
  last_day?: string;
  compare: Compare;
  compare_start?: string | null;
  compare_end?: string | null;
  label?: string;
  compare_label?: string | null;
}

/** newer API: one headline figure with its comparison. */
export interface Tile {
  label?: string;
  value: number | null;
  previous?: number | null;
  change_pct?: number | null;
  unit?: "money" | "ratio" | "percent" | "count";
}

export interface Dashboard {
  brand: Brand;
  summary: Summary | null;
  recommendations: Recommendation[];
  performance_snapshot: PerformanceSnapshot;
  alerts: Alert[];
  range?: RangeInfo;
  tiles?: Record<string, Tile>;
}

export interface Campaign {
  id: string;
  name: string;
  spend: number;
  roas: number | null;
}

export interface Mismatch {
  product: string;
  product_title?: string;
  image_url?: string | null;
  image_alt?: string | null;
  issue: string;
  region?: string;
  days_cover: number | null;
  spend: number;
}

export interface Drilldown {
  channel: Channel;
  as_of_date: string | null;
  performance: { total_spend: number; total_revenue: number; roas: number | null; by_geo: Record<string, Figures> };
  top_campaigns: Campaign[];
  inventory_alignment: { products_promoted: string[]; mismatches: Mismatch[] };
  recommendations: string[];
  range?: RangeInfo;
}

export interface AgencyBrand {
  brand_id: string;
  brand_name: string;
  health_score: number;
  alerts: number;
  opportunities: number;
  status: "needs_attention" | "opportunity" | "stable";
  top_issue: string | null;
}

export interface AgencyOverview {
  agency: { agency_id: string; name: string } | null;
  brands: AgencyBrand[];
}

export interface ActionChange {
  platform?: string;
  account_id?: string;
  campaign_id?: string;
  campaign_name?: string;
  currency?: string;
  before?: number | null;
  after?: number | null;
  status?: string;
  detail?: string;
  /** newer API (promotion Accept): "budget" or "discount" */
  kind?: string;
  title?: string;
  percentage?: number;
  starts_at?: string;
  ends_at?: string;
}

export interface ActionResult {
  recommendation_id: string;
  brand_id: string;
  status?: string;
  changed?: boolean;
  decision_id?: string;
  dry_run?: boolean;
  action?: string;
  changes?: ActionChange[];
  message?: string;
}

export interface AnswerQuery {
  tool?: string;
  input?: Record<string, unknown>;
  rows?: number;
  /** newer API: the SQL that ran, and what it returned (the figures the answer quotes) */
  sql?: string;
  columns?: string[];
  data?: Record<string, unknown>[];
}

export interface Answer {
  question: string;
  answer: string;
  author?: "claude" | "narrator";
  grounding?: string;
  queries?: AnswerQuery[];
  /** each figure the answer states, with the cell it came from (query index, column, 0-based row) */
  figures?: AnswerFigure[];
  /** figures Claude listed that no cell of the data holds: left out of `figures` */
  dropped_figures?: { label: string; value: unknown; reason: string }[];
}

export interface AnswerFigure {
  label: string;
  value: number | null;
  /** a currency code, "percent", "ratio", "days", "units", or null */
  unit?: string | null;
  /** how the answer writes it ("$6,198") */
  text?: string | null;
  /** matched: on the cell it names; relocated: Claude cited another cell, the value was found here */
  check?: "matched" | "relocated";
  source: { query: number; tool?: string; column: string; row: number };
}

/** newer API: GET …/series */
export interface SeriesPoint {
  date: string;
  spend: number;
  revenue: number;
  roas?: number | null;
}

export interface Series {
  currency?: string;
  days: SeriesPoint[];
  compare_days?: SeriesPoint[];
  range?: RangeInfo;
}

/** newer API: GET …/products */
export interface ProductRow {
  product_id: string;
  title: string;
  image_url?: string | null;
  image_alt?: string | null;
  available_units: number | null;
  days_of_cover: number | null;
  spend: number;
  revenue: number;
  roas: number | null;
  status: string;
}

export interface Products {
  as_of_date?: string | null;
  products: ProductRow[];
}

/** newer API: GET …/integrations */
export interface Integration {
  platform: string;
  status: string;
  last_sync_at?: string | null;
  last_sync_status?: string | null;
  error?: string | null;
}

export type DeliveryStatus = "sent" | "held" | "rolled" | "skipped" | "retrying" | "dead";

export interface Delivery {
  delivery_id: string;
  kind: "alert" | "digest";
  recipient_id: string;
  channel: "email" | "slack";
  status: DeliveryStatus;
  reason?: string | null;
  title?: string | null;
  brand_name?: string | null;
  attempts: number;
  last_error?: string | null;
  sent_at?: string | null;
  updated_at: string;
}

export interface Notifications {
  agency_id: string;
  recipients: { recipient_id: string; channel: "email" | "slack"; address: string }[];
  deliveries: Delivery[];
  counts: Record<DeliveryStatus, number>;
}
