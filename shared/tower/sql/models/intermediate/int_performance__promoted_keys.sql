-- Intermediate: the products each campaign promotes (int_ads__promoted_products), as integer keys.
SELECT c.campaign_key, p.product_key
FROM int_ads__promoted_products AS pr
INNER JOIN int_performance__campaign_keys AS c ON c.platform = pr.platform AND c.campaign_id = pr.campaign_id
INNER JOIN int_performance__product_keys AS p ON p.product_id = pr.product_id
