import { lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";
import { api, appBridge, managedTeams, soleBrand } from "./api/client";
import { Loading } from "./components/States";
import { Dashboard } from "./pages/Dashboard";
import { Onboarding } from "./pages/Onboarding";
import { Overview } from "./pages/Overview";
import { SignIn } from "./pages/SignIn";
import { Unsubscribe } from "./pages/Unsubscribe";
import { Link, matchRoute, navigate, useFocusOnNavigate, useLocation } from "./lib/router";

// Help is read now and then: its text loads when asked for. The dashboard is in the first bundle, since
// a lazily loaded screen would make each click on a brand wait out React's Suspense reveal delay.
const Help = lazy(() => import("./pages/Help").then((m) => ({ default: m.Help })));
// Settings are rarer still.
const ApiKeys = lazy(() => import("./pages/ApiKeys").then((m) => ({ default: m.ApiKeys })));
const Invitation = lazy(() => import("./pages/Invitation").then((m) => ({ default: m.Invitation })));
const Team = lazy(() => import("./pages/Team").then((m) => ({ default: m.Team })));

function Header({ signedIn, onSignOut }: { signedIn: boolean; onSignOut: () => void }) {
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Link to="/" className="logo">
        <svg viewBox="0 0 32 32" width="24" height="24" aria-hidden="true" focusable="false">
          <rect width="32" height="32" rx="6" fill="currentColor" />
          <path d="M16 5v22M9 12h14M12 27h8" stroke="#fff" strokeWidth="3" strokeLinecap="round" />
        </svg>
        <span>Control Tower</span>
      </Link>
      <nav aria-label="Main" className="site-nav">
        <Link to="/help">Help</Link>
        {signedIn ? <Link to="/settings/api-keys">API keys</Link> : null}
        {signedIn && managedTeams(api.principal).length > 0 ? <Link to="/settings/team">Team</Link> : null}
        {signedIn && !appBridge() ? ( // embedded, the Shopify admin is who signs the merchant in and out
          <button type="button" className="button button-small button-quiet" onClick={onSignOut}>
            Sign out
          </button>
        ) : null}
      </nav>
    </header>
  );
}

export function App() {
  const { path } = useLocation();
  const route = matchRoute(path);
  const [signedIn, setSignedIn] = useState(api.signedIn);
  const [resuming, setResuming] = useState(true);
  const main = useRef<HTMLElement | null>(null);

  useEffect(() => {
    api.onUnauthorized = () => setSignedIn(false);
    // A reload keeps a cookie session (when the API offers one); a key held in memory is gone.
    void api.resume().then((ok) => {
      if (ok) setSignedIn(true);
      setResuming(false);
    });
  }, []);

  useEffect(() => {
    main.current = document.getElementById("main");
  });
  useFocusOnNavigate(main, path);

  // a merchant with one brand lands on its dashboard (several: the overview lists them to choose from)
  const sole = signedIn && route.name === "overview" ? soleBrand(api.principal) : null;
  useEffect(() => {
    if (sole) navigate(`/brands/${encodeURIComponent(sole)}`, { replace: true });
  }, [sole]);

  const signOut = useCallback(() => {
    void api.signOut().then(() => {
      setSignedIn(false);
      navigate("/");
    });
  }, []);

  let screen;
  if (route.name === "help") {
    screen = <Help topicId={route.topic} />;
  } else if (route.name === "unsubscribe") {
    // the e-mail's link: its signed token is the authorisation, so no key is asked for
    screen = <Unsubscribe />;
  } else if (route.name === "onboarding") {
    // the Shopify install lands here with a session of its own (the wizard takes it up, or says how to sign in)
    screen = <Onboarding key={route.brandId} brandId={route.brandId} />;
  } else if (route.name === "invitation") {
    // the e-mailed link: the invitee signs in (or creates the account) right here
    screen = <Invitation token={route.token} onSignedIn={() => setSignedIn(true)} />;
  } else if (resuming) {
    screen = <main id="main" className="page" tabIndex={-1} aria-busy="true" />;
  } else if (!signedIn || route.name === "signin") {
    screen = (
      <SignIn
        onSignedIn={() => {
          setSignedIn(true);
          if (route.name === "signin") navigate("/");
        }}
      />
    );
  } else if (route.name === "overview") {
    screen = <Overview />;
  } else if (route.name === "brand") {
    screen = <Dashboard key={route.brandId} brandId={route.brandId} />;
  } else if (route.name === "apiKeys") {
    screen = <ApiKeys />;
  } else if (route.name === "team") {
    screen = <Team />;
  } else {
    screen = (
      <main id="main" className="page" tabIndex={-1}>
        <h1>Page not found</h1>
        <p>
          <Link to="/">Go to your brands</Link>
        </p>
      </main>
    );
  }

  return (
    <>
      <Header signedIn={signedIn} onSignOut={signOut} />
      <Suspense
        fallback={
          <main id="main" className="page" tabIndex={-1}>
            <Loading lines={6} />
          </main>
        }
      >
        {screen}
      </Suspense>
      <footer className="site-footer">
        <p className="muted small">
          Control Tower · ad spend tied to inventory and margin · <Link to="/help/getting-started">Getting started</Link>
        </p>
      </footer>
    </>
  );
}
