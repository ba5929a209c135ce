import { Suspense, lazy, useCallback, useEffect, useMemo, useRef, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import AppLayout from "@cloudscape-design/components/app-layout";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import SideNavigation from "@cloudscape-design/components/side-navigation";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Spinner from "@cloudscape-design/components/spinner";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Link from "@cloudscape-design/components/link";
import TopNavigation from "@cloudscape-design/components/top-navigation";
import { api } from "./api.js";
import { CALLBACK_PATH, clearToken, decodePayload, finishLogin, signOut, startLogin, storedToken } from "./auth.js";
import { pastTense } from "./decided.js";
import TicketList, { usePhone } from "./TicketList.jsx";

// The lists load first; the other screens, the dialogs and the messages
// when first used.
const Flashbar = lazy(() => import("@cloudscape-design/components/flashbar"));
const DecisionModal = lazy(() => import("./DecisionModal.jsx"));
const RequestForm = lazy(() => import("./RequestForm.jsx"));
const BulkModal = lazy(() => import("./BulkModal.jsx"));
const ChangeModal = lazy(() => import("./ChangeModal.jsx"));
const Delegations = lazy(() => import("./Delegations.jsx"));
const PreApprovals = lazy(() => import("./PreApprovals.jsx"));
const Registry = lazy(() => import("./Registry.jsx"));
const Audit = lazy(() => import("./Audit.jsx"));
const Usage = lazy(() => import("./Usage.jsx"));
const TicketPage = lazy(() => import("./TicketPage.jsx"));

// Views, selected by the URL hash; "/" with no hash shows Approvals.
// #/tickets/ID is a ticket's own page.
const VIEWS = {
  approvals: { href: "#/approvals", text: "Approvals" },
  all: { href: "#/tickets", text: "All tickets" },
  mine: { href: "#/mine", text: "My tickets" },
  unreviewed: { href: "#/unreviewed", text: "Activity to review" },
  request: { href: "#/request", text: "Request access" },
  delegations: { href: "#/delegations", text: "My delegations" },
  preapprovals: { href: "#/preapprovals", text: "Pre-approvals" },
  audit: { href: "#/audit", text: "Audit log" },
  registry: { href: "#/registry", text: "Registry", admin: true },
  usage: { href: "#/usage", text: "Permission set usage", admin: true },
};

function routeFromHash() {
  const h = window.location.hash;
  const m = h.match(/^#\/tickets\/([A-Za-z0-9_-]+)$/);
  if (m) return { view: "ticket", id: m[1] };
  const found = Object.entries(VIEWS).find(([, v]) => v.href === h);
  return { view: found ? found[0] : "approvals" };
}

// App signs the user in, then shows the console.
export default function App() {
  // A stored token shows the console in the very first render.
  const [phase, setPhase] = useState(() => {
    const token = window.location.pathname !== CALLBACK_PATH && storedToken();
    return token ? { name: "ready", token } : { name: "loading" };
  });

  const login = useCallback(() => {
    setPhase({ name: "redirecting" });
    startLogin().catch((e) => setPhase({ name: "error", message: e.message }));
  }, []);

  useEffect(() => {
    if (phase.name === "ready") return;
    if (window.location.pathname === CALLBACK_PATH) {
      finishLogin()
        .then((token) => setPhase({ name: "ready", token }))
        .catch((e) => setPhase({ name: "error", message: e.message }));
      return;
    }
    const token = storedToken();
    if (token) setPhase({ name: "ready", token });
    else login();
    // Only on the first render: later phases are the user's doing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [login]);

  const expired = useCallback(() => {
    clearToken();
    setPhase({ name: "expired" });
  }, []);

  const signedOut = useCallback(() => {
    signOut();
    setPhase({ name: "signed-out" });
  }, []);

  if (phase.name === "ready") {
    return <Console token={phase.token} onExpired={expired} onSignOut={signedOut} />;
  }
  return <Gate phase={phase} onLogin={login} />;
}

// Gate is the screen shown while not signed in: a notice and a button
// that starts the sign-in, or a spinner while it runs.
function Gate({ phase, onLogin }) {
  const notice = {
    error: (
      <Alert type="error" header="Sign-in failed">
        <span data-testid="login-error">{phase.message}</span>
      </Alert>
    ),
    expired: (
      <Alert type="warning" header="Session expired">
        Your session has expired. Sign in again to continue.
      </Alert>
    ),
    "signed-out": (
      <Box variant="p" data-testid="signed-out">
        You are signed out.
      </Box>
    ),
  }[phase.name];
  const label = { error: "Try again", expired: "Sign in again", "signed-out": "Sign in" }[phase.name];
  const body = notice ? (
    <SpaceBetween size="m">
      {notice}
      <Button variant="primary" data-testid="sign-in" onClick={onLogin}>
        {label}
      </Button>
    </SpaceBetween>
  ) : (
    <Box>
      <Spinner /> Signing in…
    </Box>
  );
  return (
    <Box padding="xxl">
      <div style={{ maxWidth: 560, margin: "0 auto" }}>
        <Container header={<Box variant="h1">JIT access</Box>}>{body}</Container>
      </div>
    </Box>
  );
}

// Console is the signed-in application.
function Console({ token, onExpired, onSignOut }) {
  const client = useMemo(() => api(token), [token]);
  const claims = useMemo(() => decodePayload(token) || {}, [token]);
  const [me, setMe] = useState(null);
  const [route, setRoute] = useState(routeFromHash);
  const [accounts, setAccounts] = useState({});
  const [pending, setPending] = useState([]); // ids waiting for me, newest first
  const [reload, setReload] = useState(0);
  const [live, setLive] = useState(false);
  const [flashes, setFlashes] = useState([]);
  const [decision, setDecision] = useState(null);
  const [bulk, setBulk] = useState(null);
  const [change, setChange] = useState(null);
  const [consoleBusy, setConsoleBusy] = useState(null);
  const flashId = useRef(0);
  const email = (me && me.email) || claims.email || "";
  const view = route.view;

  const flash = useCallback((type, content) => {
    const id = `flash-${++flashId.current}`;
    const dismiss = () => setFlashes((all) => all.filter((f) => f.id !== id));
    const item = { id, type, content, dismissible: true, dismissLabel: "Dismiss", onDismiss: dismiss };
    // Keep one success message at a time; errors stay until dismissed.
    setFlashes((all) => [...all.filter((f) => type !== "success" || f.type !== "success"), item]);
  }, []);

  const failed = useCallback(
    (e) => {
      if (e.status === 401) onExpired();
      else flash("error", <span data-testid="flash-error">{e.message}</span>);
    },
    [flash, onExpired]
  );

  useEffect(() => {
    const onHash = () => setRoute(routeFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  // The server's settings for the page (/config.json): whether Terminate
  // needs a reason.
  const [terminateReason, setTerminateReason] = useState("required");
  useEffect(() => {
    fetch("/config.json")
      .then((r) => (r.ok ? r.json() : {}))
      .then((c) => c.terminate_reason && setTerminateReason(c.terminate_reason))
      .catch(() => {});
  }, []);

  useEffect(() => {
    client.me().then(setMe, failed);
    client.accounts().then(
      (as) => setAccounts(Object.fromEntries(as.map((a) => [a.id, a]))),
      () => setAccounts({}) // names are a help, not a need
    );
  }, [client, failed]);

  // The live feed: any change announced reads the lists again (once per
  // burst), and so does each reconnection, for what was missed meanwhile.
  useEffect(() => {
    let timer = null;
    const bump = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        setReload((n) => n + 1);
      }, 250);
    };
    const stop = client.events(bump, () => {
      setLive(true);
      bump();
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, [client]);

  // The ids waiting for me, for a ticket page's previous and next.
  useEffect(() => {
    if (view !== "ticket") return;
    let stale = false;
    client.list({ pending_for_me: true, limit: 1000 }).then(
      (res) => !stale && setPending(res.tickets.map((t) => t.id)),
      () => !stale && setPending([])
    );
    return () => {
      stale = true;
    };
  }, [client, view, reload]);

  const refresh = () => setReload((n) => n + 1);
  const decide = useCallback(
    (kind, ticket) => (kind === "extend" || kind === "edit" ? setChange({ kind, ticket }) : setDecision({ kind, ticket })),
    []
  );
  const decided = (kind, ticket) => {
    setDecision(null);
    flash("success", <span data-testid="flash-success">{`Ticket ${ticket.id} ${pastTense(kind)}.`}</span>);
    refresh();
  };

  // A request for several accounts opens its first ticket, whose page
  // links to the others.
  const requested = (ticket) => {
    const n = (ticket.group_tickets || []).length;
    const words = ticket.break_glass
      ? `Break-glass ticket ${ticket.id} granted: it is active now, and everyone on the break-glass list was told.`
      : n > 1
        ? `Requested for ${n} accounts: tickets ${ticket.group_tickets.join(", ")}.`
        : `Ticket ${ticket.id} requested.`;
    flash("success", <span data-testid="flash-success">{words}</span>);
    window.location.hash = n > 1 ? `#/tickets/${ticket.id}` : VIEWS.mine.href;
  };

  const openConsole = useCallback(
    async (ticket) => {
      setConsoleBusy(ticket.id);
      try {
        const url = await client.consoleURL(ticket.id);
        window.open(url, "_blank", "noopener");
      } catch (e) {
        failed(e);
      } finally {
        setConsoleBusy(null);
      }
    },
    [client, failed]
  );

  const admin = !!(me && me.admin);
  // On a phone the side navigation gives way to a row of links (and
  // AppLayout's mobile toolbar, with it, to nothing).
  const phone = usePhone();
  let content;
  if (view === "request") {
    // contentType stays "table": "form" would close the navigation.
    content = (
      <div style={{ maxWidth: 800 }}>
        {me ? (
          <RequestForm me={me} accounts={accounts} client={client} onCreated={requested} onExpired={onExpired} />
        ) : (
          <Box>
            <Spinner /> Loading what you may request…
          </Box>
        )}
      </div>
    );
  } else if (view === "delegations") {
    content = <Delegations client={client} email={email} onFailed={failed} flash={flash} />;
  } else if (view === "preapprovals") {
    content = <PreApprovals client={client} email={email} onFailed={failed} flash={flash} />;
  } else if (view === "audit") {
    content = <Audit client={client} onFailed={failed} />;
  } else if (view === "registry") {
    content = <Registry client={client} onFailed={failed} />;
  } else if (view === "usage") {
    content = <Usage client={client} onFailed={failed} />;
  } else if (view === "ticket") {
    content = (
      <TicketPage
        id={route.id}
        client={client}
        email={email}
        admin={admin}
        accounts={accounts}
        reload={reload}
        pending={pending}
        onDecide={decide}
        onConsole={openConsole}
        consoleBusy={consoleBusy}
        onExpired={onExpired}
      />
    );
  } else {
    content = (
      <TicketList
        key={view}
        kind={view}
        client={client}
        email={email}
        admin={admin}
        accounts={accounts}
        reload={reload}
        onDecide={decide}
        onBulk={(kind, tickets) => setBulk({ kind, tickets })}
        onConsole={openConsole}
        consoleBusy={consoleBusy}
        onFailed={failed}
      />
    );
  }

  return (
    <>
      <div id="top-nav" style={{ position: "sticky", top: 0, zIndex: 1002 }}>
        <TopNavigation
          identity={{ href: "#/approvals", title: "JIT" }}
          utilities={[
            {
              type: "menu-dropdown",
              text: email || "Signed in",
              description: admin ? "Administrator" : undefined,
              iconName: "user-profile",
              items: [{ id: "signout", text: "Sign out" }],
              onItemClick: ({ detail }) => detail.id === "signout" && onSignOut(),
            },
          ]}
          i18nStrings={{
            overflowMenuTriggerText: "More",
            overflowMenuTitleText: "All",
            overflowMenuBackIconAriaLabel: "Back",
            overflowMenuDismissIconAriaLabel: "Close menu",
          }}
        />
      </div>
      <AppLayout
        headerSelector="#top-nav"
        contentType="table"
        toolsHide
        navigationHide={phone}
        ariaLabels={{
          navigation: "Navigation",
          navigationClose: "Close navigation",
          navigationToggle: "Open navigation",
          notifications: "Notifications",
        }}
        navigation={
          <SideNavigation
            header={{ href: "#/approvals", text: "JIT access" }}
            activeHref={view === "ticket" ? undefined : VIEWS[view].href}
            items={[
              ...[VIEWS.approvals, VIEWS.all, VIEWS.mine, VIEWS.unreviewed].map((v) => ({ type: "link", text: v.text, href: v.href })),
              { type: "divider" },
              ...[VIEWS.request, VIEWS.delegations, VIEWS.preapprovals, VIEWS.audit, ...(admin ? [VIEWS.registry, VIEWS.usage] : [])].map((v) => ({ type: "link", text: v.text, href: v.href })),
            ]}
          />
        }
        notifications={
          flashes.length > 0 && (
            <Suspense fallback={null}>
              <Flashbar items={flashes} />
            </Suspense>
          )
        }
        content={
          <SpaceBetween size="m">
            {phone && (
              <nav aria-label="Views" data-testid="phone-nav">
                <SpaceBetween direction="horizontal" size="s">
                  {Object.values(VIEWS).filter((v) => admin || !v.admin).map((v) => (
                    <Link key={v.href} href={v.href} variant={VIEWS[view] === v ? "primary" : "secondary"}>
                      {v.text}
                    </Link>
                  ))}
                </SpaceBetween>
              </nav>
            )}
            <Box color="text-body-secondary">
              Signed in as <span data-testid="user-email">{email}</span>
              {admin ? " (administrator)" : ""}
              {live && (
                <span data-testid="live">
                  {" · "}
                  <StatusIndicator type="success">Live updates</StatusIndicator>
                </span>
              )}
            </Box>
            <Suspense
              fallback={
                <Box>
                  <Spinner /> Loading…
                </Box>
              }
            >
              {content}
            </Suspense>
          </SpaceBetween>
        }
      />
      <Suspense fallback={null}>
      {decision && <DecisionModal
        decision={decision}
        terminateReasonRequired={terminateReason !== "optional"}
        client={client}
        onDismiss={() => setDecision(null)}
        onDone={decided}
        onExpired={onExpired}
      />}
      {change && <ChangeModal
        change={change}
        client={client}
        onDismiss={() => setChange(null)}
        onExpired={onExpired}
        onDone={(kind, ticket) => {
          setChange(null);
          flash("success", <span data-testid="flash-success">{kind === "extend" ? `More time asked for ticket ${ticket.id}.` : `Ticket ${ticket.id} resent.`}</span>);
          refresh();
        }}
      />}
      {bulk && <BulkModal
        bulk={bulk}
        client={client}
        onExpired={onExpired}
        onClose={(changed) => {
          setBulk(null);
          if (changed) refresh();
        }}
      />}
      </Suspense>
    </>
  );
}


