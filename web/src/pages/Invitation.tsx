import { useEffect } from "react";
import { api } from "../api/client";
import { markMeaningful } from "../lib/perf";
import { navigate } from "../lib/router";
import { EmailSignIn } from "./EmailSignIn";

/**
 * The e-mailed invitation link (/invitations/<token>): sign in or create the account with the invited
 * e-mail address, and the API makes it a member of the agency or the brand and signs it in. The link
 * works once. Then the overview: a merchant with one brand goes on to its dashboard (App's rule).
 */
export function Invitation({ token, onSignedIn }: { token: string; onSignedIn: () => void }) {
  useEffect(() => {
    markMeaningful("invitation");
  }, []);

  return (
    <main id="main" className="signin" tabIndex={-1}>
      <div className="signin-panel card">
        <h1>Join your team on Control Tower</h1>
        <p>
          You were invited to a brand or an agency. Sign in with the e-mail address this invitation was sent to, or create
          your account with it. The link works once.
        </p>
        <EmailSignIn
          title="Your account"
          submitLabel="Accept the invitation"
          allowCreate
          use={async (idToken) => {
            await api.acceptInvitation(token, idToken);
            onSignedIn();
            // the token leaves the address bar and the history: it has been used
            navigate("/", { replace: true });
          }}
        />
      </div>
    </main>
  );
}
