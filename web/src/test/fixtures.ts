// API bodies in the shapes the demo's API returns (trimmed), for component tests.
import type { AgencyOverview, Dashboard, Recommendation } from "../api/types";

export const budgetCard: Recommendation = {
  id: "rec_budget",
  type: "increase_spend",
  priority: "low",
  status: "open",
  action: "Increase Meta spend on Vanilla Bourbon Wax Melts in 58 regions by $232 (50%), from $464 to $696 over 30 days",
  reason: "Strong ROAS (4.5×) with healthy stock (30 days of cover) on only 8% of all ad spend",
  expected_impact: "About $738 incremental revenue",
  product_id: "gid://shopify/Product/1",
  product: "Vanilla Bourbon Wax Melts",
  channel: "meta",
  currency: "USD",
  current_spend: 464.33,
  recommended_change: 232.17,
  new_spend: 696.5,
  metrics: { spend: 464.33, revenue: 2108.69, roas: 4.54, days_of_cover: 30.2, available_units: 121, window_days: 30 },
  campaign_changes: [
    { platform: "meta", account_id: "905", campaign_id: "120327", campaign_name: "US | Retargeting | Catalog", currency: "USD", current_daily_budget: 33, proposed_daily_budget: 36.51 },
  ],
};

export const promotionCard: Recommendation = {
  id: "rec_promo",
  type: "promotion",
  priority: "medium",
  status: "open",
  action: "Launch a limited-time discount or bundle for Sandalwood Rose Reed Diffuser",
  reason: "No sales recently while 147 units sit in stock, tying up $2,857",
  expected_impact: "Accelerate sell-through and free up to $2,857 of tied capital",
  product_id: "gid://shopify/Product/2",
  product: "Sandalwood Rose Reed Diffuser",
  channel: "",
  currency: "USD",
  current_spend: 36.91,
  recommended_change: 0,
  new_spend: 36.91,
  metrics: { days_of_cover: null, available_units: 147, ad_spend: 36.91, window_days: 30 },
  campaign_changes: [],
};

export const dashboard: Dashboard = {
  brand: { brand_id: "acme-candles", brand_name: "Acme Candles", currency: "USD", timezone: "America/New_York", today: "2026-12-05" },
  summary: {
    summary: "Last week you spent $1,745 on ads and generated $10,937 in Shopify revenue at a blended 6.3× ROAS.",
    channel_performance: { meta: "Meta spent $593." },
    inventory_insights: "Vanilla Bourbon Travel Tin is out of stock.",
    week: "2026-W49",
    author: "narrator",
  },
  recommendations: [promotionCard, budgetCard],
  performance_snapshot: {
    as_of_date: "2026-12-04",
    period_days: 7,
    currency: "USD",
    total_spend: 1744.98,
    total_revenue: 10937.41,
    blended_roas: 6.27,
    by_channel: {
      google_ads: { spend: 240.16, revenue: 6382.84, roas: 26.58 },
      meta: { spend: 592.66, revenue: 2532.27, roas: 4.27 },
      tiktok: { spend: 912.16, revenue: 1872.65, roas: 2.05 },
    },
    previous_week: { total_spend: 1111.81, total_revenue: 8701.68, blended_roas: 7.83, by_channel: {} },
    changes: {
      spend_pct: 56.9,
      revenue_pct: 25.7,
      roas_pct: -19.9,
      by_channel: { meta: { spend_pct: -11.8, revenue_pct: -9.2, roas_pct: 2.9 } },
    },
  },
  alerts: [
    {
      id: "alert_1",
      type: "inventory_mismatch",
      severity: "high",
      channel: "google_ads",
      product_id: "gid://shopify/Product/3",
      product: "Vanilla Bourbon Travel Tin",
      title: "Spending $167 on Vanilla Bourbon Travel Tin, which is out of stock",
      explanation: "Google Ads spent $167 promoting Vanilla Bourbon Travel Tin, where it has no stock left.",
      recommended_action: "Pause ads on Google Ads for Vanilla Bourbon Travel Tin until it is restocked",
      metrics: { mismatch: "spending_on_stockout", spend: 166.97, days_of_cover: 0, available_units: 0 },
      status: "open",
      raised_on: "2026-12-05",
      ai_explanation: "Google Ads spent $167 promoting Vanilla Bourbon Travel Tin. The largest campaign is US | Shopping.",
      ai_explanation_author: "claude",
    },
  ],
};

export const overview: AgencyOverview = {
  agency: { agency_id: "agency_demo", name: "Northstar Growth" },
  brands: [
    { brand_id: "acme-candles", brand_name: "Acme Candles", health_score: 0, alerts: 12, opportunities: 5, status: "needs_attention", top_issue: "Spending $167 on Vanilla Bourbon Travel Tin" },
    { brand_id: "maple-and-moss", brand_name: "Maple & Moss", health_score: 90, alerts: 0, opportunities: 2, status: "opportunity", top_issue: "Increase Meta spend" },
    { brand_id: "calm-co", brand_name: "Calm Co", health_score: 100, alerts: 0, opportunities: 0, status: "stable", top_issue: null },
  ],
};
