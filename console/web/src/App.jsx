import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import AppLayout from "@cloudscape-design/components/app-layout";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Flashbar from "@cloudscape-design/components/flashbar";
import SideNavigation from "@cloudscape-design/components/side-navigation";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Spinner from "@cloudscape-design/components/spinner";
import TopNavigation from "@cloudscape-design/components/top-navigation";
import { api } from "./api.js";
import { CALLBACK_PATH, clearToken, decodePayload, finishLogin, signOut, startLogin, storedToken } from "./auth.js";
import DecisionModal, { pastTense } from "./DecisionModal.jsx";
import RequestForm from "./RequestForm.jsx";
import TicketDetails from "./TicketDetails.jsx";
import { PendingTable, TicketsTable } from "./TicketsTable.jsx";

// Views, selected by the URL hash; "/" with no hash shows Approvals. The
// views with a filter list tickets.
const VIEWS = {
  approvals: { href: "#/approvals", text: "Approvals", filter: "pending_for_me" },
  all: { href: "#/tickets", text: "All tickets", filter: "", empty: "No tickets." },
  mine: { href: "#/mine", text: "My tickets", filter: "mine", empty: "You have no tickets." },
  request: { href: "#/request", text: "Request access" },
};
const lists = (view) => VIEWS[view].filter !== undefined;

function viewFromHash() {
  const found = Object.entries(VIEWS).find(([, v]) => v.href === window.location.hash);
  return found ? found[0] : "approvals";
}

// App signs the user in, then shows the console.
export default function App() {
  const [phase, setPhase] = useState({ name: "loading" });

  const login = useCallback(() => {
    setPhase({ name: "redirecting" });
    startLogin().catch((e) => setPhase({ name: "error", message: e.message }));
  }, []);

  useEffect(() => {
    if (window.location.pathname === CALLBACK_PATH) {
      finishLogin()
        .then((token) => setPhase({ name: "ready", token }))
        .catch((e) => setPhase({ name: "error", message: e.message }));
      return;
    }
    const token = storedToken();
    if (token) setPhase({ name: "ready", token });
    else login();
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
  const [view, setView] = useState(viewFromHash);
  const [list, setList] = useState({ view: null, items: [] });
  const [reload, setReload] = useState(0);
  const [flashes, setFlashes] = useState([]);
  const [decision, setDecision] = useState(null);
  const [consoleBusy, setConsoleBusy] = useState(null);
  const [details, setDetails] = useState(null); // the ticket shown in the split panel
  const flashId = useRef(0);
  const email = (me && me.email) || claims.email || "";

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
    const onHash = () => setView(viewFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    client.me().then(setMe, failed);
  }, [client, failed]);

  useEffect(() => setDetails(null), [view]);

  useEffect(() => {
    if (!lists(view)) return;
    let stale = false;
    client.tickets(VIEWS[view].filter).then(
      (items) => !stale && setList({ view, items }),
      (e) => {
        if (stale) return;
        setList({ view, items: [] });
        failed(e);
      }
    );
    return () => {
      stale = true;
    };
  }, [client, view, reload, failed]);

  const refresh = () => setReload((n) => n + 1);
  const decide = (kind, ticket) => setDecision({ kind, ticket });
  const decided = (kind, ticket) => {
    setDecision(null);
    flash("success", <span data-testid="flash-success">{`Ticket ${ticket.id} ${pastTense(kind)}.`}</span>);
    refresh();
  };

  const requested = (ticket) => {
    flash("success", <span data-testid="flash-success">{`Ticket ${ticket.id} requested.`}</span>);
    window.location.hash = VIEWS.mine.href;
  };

  const openConsole = async (ticket) => {
    setConsoleBusy(ticket.id);
    try {
      const url = await client.consoleURL(ticket.id);
      window.open(url, "_blank", "noopener");
    } catch (e) {
      failed(e);
    } finally {
      setConsoleBusy(null);
    }
  };

  const items = list.view === view ? list.items : [];
  const loading = list.view !== view;

  return (
    <>
      <div id="top-nav" style={{ position: "sticky", top: 0, zIndex: 1002 }}>
        <TopNavigation
          identity={{ href: "#/approvals", title: "JIT" }}
          utilities={[
            {
              type: "menu-dropdown",
              text: email || "Signed in",
              description: me && me.admin ? "Administrator" : undefined,
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
        ariaLabels={{
          navigation: "Navigation",
          navigationClose: "Close navigation",
          navigationToggle: "Open navigation",
          notifications: "Notifications",
        }}
        navigation={
          <SideNavigation
            header={{ href: "#/approvals", text: "JIT access" }}
            activeHref={VIEWS[view].href}
            items={[
              ...[VIEWS.approvals, VIEWS.all, VIEWS.mine].map((v) => ({ type: "link", text: v.text, href: v.href })),
              { type: "divider" },
              { type: "link", text: VIEWS.request.text, href: VIEWS.request.href },
            ]}
          />
        }
        splitPanel={
          details && <TicketDetails ticket={details} reload={reload} client={client} onExpired={onExpired} />
        }
        splitPanelOpen={!!details}
        onSplitPanelToggle={({ detail }) => !detail.open && setDetails(null)}
        notifications={<Flashbar items={flashes} />}
        content={
          <SpaceBetween size="m">
            <Box color="text-body-secondary">
              Signed in as <span data-testid="user-email">{email}</span>
              {me && me.admin ? " (administrator)" : ""}
            </Box>
            {view === "request" ? (
              // contentType stays "table": "form" would close the navigation.
              <div style={{ maxWidth: 800 }}>
                {me ? (
                  <RequestForm me={me} client={client} onCreated={requested} onExpired={onExpired} />
                ) : (
                  <Box>
                    <Spinner /> Loading what you may request…
                  </Box>
                )}
              </div>
            ) : view === "approvals" ? (
              <PendingTable items={items} loading={loading} onRefresh={refresh} onDecide={decide} onOpen={setDetails} />
            ) : (
              <TicketsTable
                title={VIEWS[view].text}
                emptyText={VIEWS[view].empty}
                items={items}
                loading={loading}
                onRefresh={refresh}
                onDecide={decide}
                onOpen={setDetails}
                onConsole={openConsole}
                consoleBusy={consoleBusy}
                email={email}
                admin={!!(me && me.admin)}
              />
            )}
          </SpaceBetween>
        }
      />
      <DecisionModal
        decision={decision}
        client={client}
        onDismiss={() => setDecision(null)}
        onDone={decided}
        onExpired={onExpired}
      />
    </>
  );
}
