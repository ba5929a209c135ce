import { useEffect, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Header from "@cloudscape-design/components/header";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import SpaceBetween from "@cloudscape-design/components/space-between";
import SplitPanel from "@cloudscape-design/components/split-panel";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import { STATUS, decider, formatDateTime, formatWindow } from "./format.js";
import LeastPrivilege from "./LeastPrivilege.jsx";

const dash = (v) => (v === undefined || v === null || v === "" ? "—" : v);

function When({ at }) {
  return <span title={at}>{formatDateTime(at)}</span>;
}

function Empty({ children, testid }) {
  return (
    <Box color="text-body-secondary" data-testid={testid}>
      {children}
    </Box>
  );
}

// Decision shows "bob for alice · Dec 3, 10:00 · comment".
function Decision({ d }) {
  return (
    <>
      {decider(d)} · <When at={d.at} />
      {d.comment ? ` · “${d.comment}”` : ""}
    </>
  );
}

// Approvals lists a round's stages and who approved each; current is the
// stage still waiting for decisions, or -1.
function Approvals({ stages = [], approvals = [], current }) {
  if (stages.length === 0) return <Empty>No approval needed.</Empty>;
  return (
    <SpaceBetween size="s">
      {stages.map((s, i) => {
        const got = approvals.filter((a) => a.stage === i);
        return (
          <div key={i}>
            <Box variant="awsui-key-label">
              Stage {i + 1}
              {i === current ? " (waiting)" : ""}: {s.required} of {(s.approvers || []).join(", ")}
            </Box>
            {got.length === 0 ? (
              <Empty>No approvals yet.</Empty>
            ) : (
              got.map((a, j) => (
                <div key={j}>
                  <Decision d={a} />
                </div>
              ))
            )}
          </div>
        );
      })}
    </SpaceBetween>
  );
}

function Section({ title, testid, children }) {
  return (
    <div data-testid={testid}>
      <SpaceBetween size="xs">
        <Header variant="h3">{title}</Header>
        {children}
      </SpaceBetween>
    </div>
  );
}

function Closed({ d }) {
  return (
    <KeyValuePairs
      columns={3}
      items={[
        { label: "By", value: decider(d) },
        { label: "At", value: <When at={d.at} /> },
        { label: "Comment", value: dash(d.comment) },
      ]}
    />
  );
}

function Extension({ e }) {
  return (
    <Section title="Extension" testid="details-extension">
      <KeyValuePairs
        columns={3}
        items={[
          { label: "State", value: e.state },
          { label: "New end", value: <When at={e.end} /> },
          { label: "Previous end", value: <When at={e.previous_end} /> },
          { label: "Reason", value: dash(e.reason) },
          { label: "Requested by", value: e.requested_by },
          { label: "Requested at", value: <When at={e.requested_at} /> },
        ]}
      />
      <Approvals stages={e.stages} approvals={e.approvals} current={e.state === "pending" ? e.stage : -1} />
      {e.closed && <Closed d={e.closed} />}
    </Section>
  );
}

const sessionColumns = [
  { id: "key", header: "Access key", cell: (s) => s.access_key_id },
  { id: "user", header: "User", cell: (s) => s.user },
  { id: "issued", header: "Issued", cell: (s) => <When at={s.issued_at} /> },
  { id: "expiration", header: "Expires", cell: (s) => <When at={s.expiration} /> },
];

const historyColumns = [
  { id: "at", header: "Time", cell: (e) => <When at={e.at} /> },
  { id: "actor", header: "Actor", cell: (e) => e.actor },
  { id: "action", header: "Action", cell: (e) => e.action },
  { id: "change", header: "State", cell: (e) => (e.from || e.to ? `${e.from || "—"} → ${e.to || "—"}` : "—") },
  { id: "comment", header: "Comment", cell: (e) => dash(e.comment) },
];

const activityColumns = [
  { id: "time", header: "Time", cell: (e) => <When at={e.event_time} /> },
  { id: "event", header: "Event", cell: (e) => `${e.event_source} ${e.event_name}` },
  { id: "key", header: "Access key", cell: (e) => dash(e.access_key_id) },
  {
    id: "result",
    header: "Result",
    cell: (e) =>
      e.error_code ? (
        <StatusIndicator type="error">{e.error_code}</StatusIndicator>
      ) : (
        <StatusIndicator type="success">OK</StatusIndicator>
      ),
  },
  { id: "resources", header: "Resources", cell: (e) => dash((e.resources || []).join(", ")) },
];

// Activity loads the ticket's CloudTrail events on demand only: lookups are
// rate limited.
function Activity({ id, client, onExpired }) {
  const [state, setState] = useState({ busy: false, events: null, error: null });

  async function load() {
    setState((s) => ({ ...s, busy: true, error: null }));
    try {
      setState({ busy: false, events: await client.activity(id), error: null });
    } catch (e) {
      if (e.status === 401) return onExpired();
      setState((s) => ({ ...s, busy: false, error: e.message }));
    }
  }

  return (
    <SpaceBetween size="xs">
      <Header
        variant="h3"
        description="What the ticket's sessions did in AWS, from CloudTrail."
        actions={
          <Button data-testid="load-activity" loading={state.busy} onClick={load}>
            Load activity
          </Button>
        }
      >
        Activity
      </Header>
      {state.error && (
        <Alert type="error" header="Could not load the activity">
          <span data-testid="activity-error">{state.error}</span>
        </Alert>
      )}
      {state.events && (
        <Table
          variant="embedded"
          data-testid="activity-events"
          ariaLabels={{ tableLabel: "Activity" }}
          columnDefinitions={activityColumns}
          items={state.events}
          trackBy="event_id"
          wrapLines
          empty={<Empty testid="activity-empty">No activity recorded in the window.</Empty>}
        />
      )}
    </SpaceBetween>
  );
}

// Details shows one ticket: the table's copy at once, then the server's fresh one.
export function Details({ initial, reload, client, onExpired }) {
  const [t, setT] = useState(initial);
  const [error, setError] = useState(null);

  useEffect(() => {
    let stale = false;
    client.ticket(initial.id).then(
      (fresh) => {
        if (stale) return;
        setT(fresh);
        setError(null);
      },
      (e) => {
        if (stale) return;
        if (e.status === 401) onExpired();
        else setError(e.message);
      }
    );
    return () => {
      stale = true;
    };
  }, [client, initial.id, reload, onExpired]);

  const sessions = t.sessions || [];
  const history = [...(t.history || [])].reverse();
  return (
    <div data-testid="details">
      <SpaceBetween size="l">
        {error && (
          <Alert type="error" header="Could not load the ticket">
            <span data-testid="details-error">{error}</span>
          </Alert>
        )}
        <KeyValuePairs
          columns={3}
          items={[
            { label: "ID", value: <span data-testid="details-id">{t.id}</span> },
            {
              label: "State",
              value: (
                <StatusIndicator type={STATUS[t.state] || "info"}>
                  <span data-testid="details-state">{t.state}</span>
                </StatusIndicator>
              ),
            },
            { label: "Revision", value: t.revision },
            { label: "Requester", value: t.requester },
            { label: "Beneficiaries", value: (t.beneficiaries || []).join(", ") },
            { label: "Account", value: t.account_id },
            { label: "Permission set", value: t.permission_set },
            { label: "Window", value: <span title={`${t.start} → ${t.end} (UTC)`}>{formatWindow(t.start, t.end)}</span> },
            { label: "Reason", value: dash(t.reason) },
          ]}
        />
        {t.break_glass && (
          <Alert type="warning" header="Break-glass: granted without approval" data-testid="details-break-glass">
            <KeyValuePairs
              columns={3}
              items={[
                { label: "Review due by", value: <When at={t.break_glass.review_by} /> },
                {
                  label: "Review",
                  value: (t.reviews || []).length
                    ? "reviewed"
                    : t.break_glass.escalated_at
                      ? "overdue: escalated to " + (t.break_glass.escalate_to || []).join(", ")
                      : "waiting for a second person",
                },
                { label: "Told", value: dash((t.break_glass.notified || []).join(", ")) },
              ]}
            />
          </Alert>
        )}
        <Section title="Approvals" testid="details-approvals">
          {t.break_glass ? (
            <Empty>Break-glass: no approval.</Empty>
          ) : (
            <Approvals stages={t.stages} approvals={t.approvals} current={t.state === "pending" ? t.stage : -1} />
          )}
        </Section>
        {t.closed && (
          <Section title="Closed" testid="details-closed">
            <Closed d={t.closed} />
          </Section>
        )}
        {t.extension && <Extension e={t.extension} />}
        {(t.reviews || []).length > 0 && (
          <Section title="Reviewed" testid="details-reviews">
            {t.reviews.map((r, i) => (
              <Closed key={i} d={r} />
            ))}
          </Section>
        )}
        <Table
          variant="embedded"
          data-testid="details-sessions"
          ariaLabels={{ tableLabel: "Sessions" }}
          header={<Header variant="h3" counter={`(${sessions.length})`}>Sessions</Header>}
          columnDefinitions={sessionColumns}
          items={sessions}
          trackBy="access_key_id"
          empty={<Empty>No sessions issued.</Empty>}
        />
        <Table
          variant="embedded"
          data-testid="details-history"
          ariaLabels={{ tableLabel: "History" }}
          header={<Header variant="h3">History</Header>}
          columnDefinitions={historyColumns}
          items={history}
          wrapLines
          empty={<Empty>No history.</Empty>}
        />
        <Activity id={t.id} client={client} onExpired={onExpired} />
        {(t.history || []).some((e) => e.to === "active") && <LeastPrivilege id={t.id} client={client} onExpired={onExpired} />}
      </SpaceBetween>
    </div>
  );
}

// TicketDetails is the split panel with one ticket's details. Closing it is
// AppLayout's onSplitPanelToggle; reload refetches the ticket.
export default function TicketDetails({ ticket, reload, client, onExpired }) {
  return (
    <SplitPanel
      header={`Ticket ${ticket.id}`}
      closeBehavior="hide"
      hidePreferencesButton
      i18nStrings={{
        closeButtonAriaLabel: "Close details",
        openButtonAriaLabel: "Open details",
        resizeHandleAriaLabel: "Resize details",
      }}
    >
      <Details key={ticket.id} initial={ticket} reload={reload} client={client} onExpired={onExpired} />
    </SplitPanel>
  );
}
