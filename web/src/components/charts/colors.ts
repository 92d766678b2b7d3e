// One palette for charts and badges (each colour passes 3:1 against white as a graphic, and the
// text colours 4.5:1; status is never told by colour alone: labels and tables say it too).
export const CHANNEL_COLORS: Record<string, string> = {
  meta: "#1f5fbf",
  tiktok: "#b0245a",
  google_ads: "#1e7d46",
};

export const STATUS_COLORS: Record<string, string> = {
  spending_on_stockout: "#b3261e",
  overspending_low_stock: "#c25e00",
  low_stock: "#9a7b00",
  underspending_overstock: "#6b4fbb",
  aligned: "#1e7d46",
  unknown: "#5f6b7a",
};

export const SPEND = "#1f5fbf";
export const REVENUE = "#1e7d46";
export const COMPARE = "#8a94a3";
