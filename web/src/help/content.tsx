// Help for merchants, written from the product's own definitions (the models' SQL headers, the
// rules, alerts and scoring modules, and the agency overview's health score). Defaults are quoted;
// an operator can change each threshold (TOWER_* settings), so the page says "by default".
import type { ReactNode } from "react";
import { Link } from "../lib/router";

export interface HelpTopic {
  id: string;
  title: string;
  summary: string;
  body: ReactNode;
}

export const TOPICS: HelpTopic[] = [
  {
    id: "getting-started",
    title: "Getting started",
    summary: "Sign in, read the weekly summary, act on a recommendation.",
    body: (
      <>
        <h2 id="sign-in">1. Sign in</h2>
        <p>
          Paste the API key you were given (it starts with <code>tower_</code>). The page keeps it in the tab's memory only:
          it is never put in a link or saved in the browser, so closing or reloading the tab signs you out.
        </p>
        <p>
          Invited by e-mail? Open the link, create your account with that address, and from then on sign in with{" "}
          <strong>Sign in with your e-mail instead</strong>. A brand's owner invites people as owners or viewers (read only:
          no Accept, Dismiss or Undo) and removes them under <strong>Team</strong>; someone removed is signed out at once.
        </p>
        <h2 id="brands">2. Pick a brand</h2>
        <p>
          An agency key opens the <Link to="/help/agency">agency overview</Link>: every brand, the most urgent first. Open a
          brand to see its dashboard.
        </p>
        <h2 id="read">3. Read the week</h2>
        <p>
          The <Link to="/help/dashboard#weekly-summary">weekly summary</Link> gives last week's ad spend, store revenue and
          blended ROAS, each against the week before, and says in plain words what moved. Figures are in the store's
          currency and dates in the store's time zone, both shown under the brand's name.
        </p>
        <h2 id="act">4. Act</h2>
        <p>
          Each <Link to="/help/recommendations">recommendation</Link> says what to change, why, and what it should bring.
          <strong> Accept</strong> first shows the exact change on each ad platform (checked live against the platform's
          current budget) and applies it only when you confirm; <strong>Undo</strong> puts the budgets back.
          <strong> Dismiss</strong> hides a card, with your reason kept.
        </p>
        <h2 id="ask">5. Ask</h2>
        <p>
          Type a question such as “Which products performed best last month?”. The answer lists the figures it used and
          the queries that produced them, so you can check it.
        </p>
        <h2 id="refresh">How fresh is it?</h2>
        <p>
          Stores and ad accounts sync every hour; models, recommendations and alerts are rebuilt after each sync. The page
          checks for new figures every 30 seconds on its own (every 2 seconds while a change you accepted is being
          applied). Today is never counted: its figures are still coming in, so ranges end yesterday.
        </p>
      </>
    ),
  },
  {
    id: "dashboard",
    title: "The dashboard, card by card",
    summary: "What each card shows and where its numbers come from.",
    body: (
      <>
        <h2 id="weekly-summary">Weekly summary</h2>
        <p>
          Ad spend across Meta, TikTok and Google Ads, revenue, <Link to="/help/figures#roas">blended ROAS</Link>,{" "}
          <Link to="/help/figures#mer">MER</Link>, new-customer revenue and profit. Arrows compare with the period before: green is
          good news, red bad, grey neither (more spend is neither by itself). The text is written from the same figures,
          by Claude when the service has an AI key (and checked against the figures before it is shown), otherwise by
          Control Tower's own templates.
        </p>
        <h2 id="range">Dates and comparison</h2>
        <p>
          Pick a preset or your own dates (up to 400 days, ending yesterday at the latest) and what to compare with: the
          same number of days just before, or the same dates a year earlier. The choice is kept in the page's address, so
          you can bookmark or share a view.
        </p>
        <h2 id="channels">Channels and geography</h2>
        <p>
          The channel tabs show each platform's spend, the revenue <Link to="/help/figures#attribution">attributed</Link> to
          it, its ROAS, its top campaigns, and the US states and Canadian provinces where its money goes. “All channels”
          sums the platforms region by region.
        </p>
        <h2 id="alignment">Is ad money going where the stock is?</h2>
        <p>
          Each bubble is a product: across, its ad spend over the alignment window (30 days by default); up, its{" "}
          <Link to="/help/figures#days-of-cover">days of cover</Link>; size, its revenue; colour, its status:
        </p>
        <ul>
          <li>
            <strong>Advertised while out of stock</strong>: no stock left and still spending. Those clicks cannot convert.
          </li>
          <li>
            <strong>Heavily advertised, low stock</strong>: under 14 days of cover while taking more than 15% of the spend.
          </li>
          <li>
            <strong>Overstocked, little ad support</strong>: over 90 days of cover (or stock that does not sell) with under
            5% of the spend.
          </li>
          <li>
            <strong>Aligned</strong>: none of the above.
          </li>
        </ul>
        <p>Products that do not sell are drawn on the top line: their cover has no end.</p>
        <h2 id="products">Products</h2>
        <p>
          Stock, days of cover, ad spend, revenue, ROAS and status per product. Click a column heading to sort; type to
          filter by name or status.
        </p>
        <h2 id="ask">Ask about your store</h2>
        <p>
          Questions are answered from read-only queries over your store's figures. Periods follow one vocabulary: “this
          week” is the 7 days before today, “last week” the 7 before those, “this month” the 1st to yesterday, “last month”
          the previous calendar month; anything unspecified is the last 30 days. When a question cannot be answered from
          the data, the answer says so rather than guess.
        </p>
      </>
    ),
  },
  {
    id: "recommendations",
    title: "Why a recommendation was made",
    summary: "The three rules, how cards are ranked, and what each status means.",
    body: (
      <>
        <p>
          Recommendations are worked out after each model build from the last 30 days of spend, attributed revenue and
          stock, per product, channel and region. Rows spending under 50 (in the store's currency) are not judged: a ROAS
          on a few dollars is noise. The thresholds below are the defaults.
        </p>
        <h2 id="reduce-spend">Cut spend</h2>
        <p>
          When a product's ROAS on a channel in a region is under 2.5×, its stock covers under 14 days, and it takes more
          than 10% of that channel's spend there: cut its spend by 20%. Money is going to ads that return little, on stock
          that is about to run out. The card names the regions and the saving, and how many days of stock it buys.
        </p>
        <h2 id="increase-spend">Grow spend</h2>
        <p>
          When a product's ROAS on a channel is over 4×, its stock covers over 30 days, and it takes under 10% of all ad
          spend: raise its spend by up to 50%, capped so the extra sales fit in the stock left after normal demand. The
          expected revenue assumes the extra money earns 0.7 of the current ROAS (the next dollar earns less than the
          average one).
        </p>
        <h2 id="promotion">Promotion</h2>
        <p>
          When a product has over 90 days of cover (or does not sell at all): run a time-limited discount or bundle. The
          impact is the capital tied up in the stock beyond 90 days.
        </p>
        <h2 id="priority">Priority</h2>
        <p>
          A budget change of more than 1,000 scores 3 and of more than 500 scores 2 (both, above 1,000); a cut adds 2 and a
          raise 1. A score of 4 or more is high priority, 2–3 medium, below 2 low. A promotion is at most medium:
          preventing waste comes before capturing growth, which comes before freeing capital.
        </p>
        <h2 id="changes">What Accept changes</h2>
        <p>
          Platforms move <em>daily</em> budgets, so a card's change over 30 days is spread over its campaigns by their share
          of the spend and turned into a daily amount. One step never moves a campaign's budget by more than 50%, nor below
          1 a day. Before anything changes, Control Tower checks each campaign's budget on the platform is still the one the
          card was worked out on; if someone changed it, Accept stops and shows both amounts.
        </p>
        <h2 id="statuses">Statuses</h2>
        <dl className="definitions">
          <dt>Open</dt>
          <dd>Waiting for you.</dd>
          <dt>Applying…</dt>
          <dd>Accepted; the budget changes are being made on the platforms.</dd>
          <dt>Applied</dt>
          <dd>Every change was made. Undo puts the budgets back.</dd>
          <dt>Accepted</dt>
          <dd>A card that changes no ad budget (a promotion): your decision is recorded.</dd>
          <dt>Failed</dt>
          <dd>A platform refused or kept failing. Changes that were made can be undone; you can accept again.</dd>
          <dt>Undoing… / Undone</dt>
          <dd>The budgets are going back / went back to what they were. An undone card can be accepted again.</dd>
          <dt>Dismissed</dt>
          <dd>Hidden for good, with your reason kept.</dd>
          <dt>Replaced by a newer card</dt>
          <dd>A later model build made a fresher recommendation for the same product and channel.</dd>
        </dl>
      </>
    ),
  },
  {
    id: "alerts",
    title: "Alerts",
    summary: "The four alerts, their severities, and when they close.",
    body: (
      <>
        <dl className="definitions">
          <dt id="stockout-risk">Stock running out</dt>
          <dd>
            An advertised product will run out at a location within 14 days at its current sales rate: critical at 3 days or
            less, high at 7 or less, else medium.
          </dd>
          <dt id="inventory-mismatch">Spend and stock out of line</dt>
          <dd>
            Ads are spending on a product with no stock left (high), or a product with under 14 days of cover takes more than
            15% of the spend (medium).
          </dd>
          <dt id="roas-drop">ROAS dropped</dt>
          <dd>
            A channel's (or a channel's in one region) ROAS this week is under 85% of its average over the previous 4 weeks.
            High from a 25% drop. A region must also drop by more than chance would explain from its number of orders.
          </dd>
          <dt id="spend-anomaly">Unusual spend</dt>
          <dd>
            A campaign's spend yesterday is far outside its recent range (and more than 50% away from its usual level): a
            spike is medium, or high above twice the recent maximum; a drop is low.
          </dd>
        </dl>
        <p>
          An alert stays open while its condition holds and closes by itself (resolved) when it no longer does. The longer
          explanation is written by Claude from the alert's own figures when the service has an AI key, and checked against
          them.
        </p>
      </>
    ),
  },
  {
    id: "figures",
    title: "What the figures mean",
    summary: "Revenue, ROAS, MER, attribution, days of cover.",
    body: (
      <>
        <dl className="definitions">
          <dt id="revenue">Revenue</dt>
          <dd>
            On the summary: all Shopify revenue from orders placed in the period, by the store's calendar, whether or not an
            ad is credited with it. On a channel: the revenue attributed to that channel.
          </dd>
          <dt id="roas">ROAS and blended ROAS</dt>
          <dd>
            Return on ad spend: revenue ÷ ad spend, always from sums (never an average of daily ratios). A channel's ROAS
            sets the revenue attributed to it against its own spend; blended ROAS sets all the store's revenue, whatever
            earned it, against all ad spend (the summary's "at a blended 3.9× ROAS").
          </dd>
          <dt id="mer">MER</dt>
          <dd>
            Marketing efficiency ratio: all ad spend as a percentage of all the store's revenue, whatever earned it (the
            other way round from blended ROAS). The store-wide view: it does not depend on attribution; lower is better.
          </dd>
          <dt id="new-customer-revenue">New-customer revenue</dt>
          <dd>Revenue from orders of customers who had never ordered from the store before.</dd>
          <dt id="profit">Profit after ads</dt>
          <dd>
            For the store: all its revenue minus the cost of the goods sold, fulfilment and all ad spend. For a channel:
            the revenue attributed to it minus the same costs of those orders and its own spend.
          </dd>
          <dt id="attribution">Attribution: which ad gets the credit</dt>
          <dd>
            An order whose link names a campaign (its <code>utm_campaign</code>, with the platform's click id when present)
            goes wholly to that campaign. Otherwise, a campaign that spent in the order's state or province on one of the 7
            days before the order, promoting one of its products, is a “touch”; by default the last touch gets the credit
            (first touch, linear, time decay and position-based are also built). Each order's credits add up to one, so no
            revenue is counted twice.
          </dd>
          <dt id="days-of-cover">Days of cover</dt>
          <dd>
            How long the stock lasts at the current sales rate: units available ÷ units sold per day. The sales rate is over
            the last 30 days, counting only days the product was in stock (a day out of stock says nothing about demand).
            Zero means out of stock; “no recent sales” means the stock does not sell, so its cover has no end. Under 14 days
            is low, over 90 is overstock.
          </dd>
          <dt id="spend-share">Spend share</dt>
          <dd>A product's ad spend ÷ all the ad spend it is compared with (the brand's, or one channel's in one region).</dd>
        </dl>
      </>
    ),
  },
  {
    id: "agency",
    title: "The agency overview",
    summary: "How brands are ordered, and the health score.",
    body: (
      <>
        <h2 id="order">Order</h2>
        <p>
          Brands with any open alert come first (needs attention), then brands with a growth opportunity (an open “grow
          spend” or promotion card), then stable ones. Within each group the lowest health score comes first, then the name.
        </p>
        <h2 id="health-score">Health score</h2>
        <p>
          100, minus 30 for each open critical alert, 20 for each high, 10 for each medium and 5 for each low, minus 5 for
          each open high-priority “cut spend” card (money going where it should not), never below 0. It is a reading aid
          for sorting, not a model: open the brand to see what drives it.
        </p>
        <h2 id="top-issue">Top issue</h2>
        <p>The most severe open alert's title; without alerts, the best opportunity's action; otherwise nothing.</p>
      </>
    ),
  },
];

export function topic(id: string | null): HelpTopic | undefined {
  return TOPICS.find((t) => t.id === id);
}
