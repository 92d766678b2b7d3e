-- Intermediate: attributed_orders' exact rule for Google clicks. An order of the window whose gclid Google's
-- click_view reported (stg_ads__google_clicks) goes wholly to the campaign that click was on: Google's own
-- record of the click outranks a utm_campaign the merchant's URL template wrote and the click-id rule's guess
-- (the Google campaign promoting the ordered product). click_view holds 90 days only: an older or unreported
-- gclid is left to those rules. A click on a campaign the brand's synced accounts do not list is left too.
SELECT o.order_key, c.platform, c.account_id, c.campaign_id, 'click_id' AS match_type
FROM int_shopify__orders AS o
INNER JOIN stg_ads__google_clicks AS g ON g.gclid = o.gclid
INNER JOIN stg_ads__campaigns AS c ON c.platform = 'google_ads' AND c.campaign_id = g.campaign_id
WHERE o.order_date >= @window_start
