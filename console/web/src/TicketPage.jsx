import { useEffect, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Spinner from "@cloudscape-design/components/spinner";
import Table from "@cloudscape-design/components/table";
import { AUDIT_COLUMNS } from "./Audit.jsx";
import { Details } from "./TicketDetails.jsx";
import { AccountCell, Actions, State } from "./TicketList.jsx";
import { STATUS, approvalWords, groupOrder, windowWords, zoned } from "./format.js";
import StatusIndicator from "@cloudscape-design/components/status-indicator";

// TicketPage is a ticket's own page (#/tickets/ID), opened from the lists
// and from notifications: what the details show, the ticket's actions, and
// the previous and next tickets waiting for the reader.
export default function TicketPage({ id, client, email, admin, accounts, reload, pending, onDecide, onConsole, consoleBusy, onExpired }) {
  const [t, setT] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let stale = false;
    client.ticket(id).then(
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
  }, [client, id, reload, onExpired]);

  const at = pending.indexOf(id);
  const waiting = at >= 0;
  const prev = waiting ? pending[at - 1] : pending[0];
  const next = waiting ? pending[at + 1] : undefined;
  const nav = (
    <SpaceBetween direction="horizontal" size="xs">
      <Button data-testid="prev-pending" iconName="angle-left" disabled={!prev} href={prev ? `#/tickets/${prev}` : undefined} ariaLabel="Previous ticket waiting for you">
        Previous
      </Button>
      <Button data-testid="next-pending" iconName="angle-right" iconAlign="right" disabled={!next} href={next ? `#/tickets/${next}` : undefined} ariaLabel="Next ticket waiting for you">
        Next
      </Button>
    </SpaceBetween>
  );

  if (error) {
    return (
      <SpaceBetween size="m">
        <Alert type="error" header={`Could not load ticket ${id}`}>
          <span data-testid="ticket-error">{error}</span>
        </Alert>
        <Button href="#/approvals">Back to approvals</Button>
      </SpaceBetween>
    );
  }
  if (!t) {
    return (
      <Box>
        <Spinner /> Loading ticket {id}…
      </Box>
    );
  }
  const words = approvalWords(t, email);
  return (
    <SpaceBetween size="l">
      <Header
        variant="h1"
        description={
          <span>
            <AccountCell id={t.account_id} accounts={accounts} /> · {t.permission_set} · requested by {t.requester} ·{" "}
            <span title={`${zoned(t.start)} → ${zoned(t.end)}`}>{windowWords(t)}</span>
          </span>
        }
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <div data-testid="ticket-actions">
              <Actions t={t} kind={waiting ? "approvals" : "ticket"} email={email} admin={admin} onDecide={onDecide} onConsole={onConsole} consoleBusy={consoleBusy} />
            </div>
            {waiting && (
              <Actions t={t} kind="ticket" email={email} admin={admin} onDecide={onDecide} onConsole={onConsole} consoleBusy={consoleBusy} />
            )}
            {nav}
          </SpaceBetween>
        }
      >
        <span data-testid="ticket-title">Ticket {t.id}</span>
      </Header>
      <Container header={<Header variant="h2">Status</Header>}>
        <SpaceBetween direction="horizontal" size="l">
          <State t={t} />
          {words && (
            <Box>
              <b>Approval:</b> <span data-testid="ticket-approval">{words}</span>
            </Box>
          )}
          {waiting && (
            <Box color="text-body-secondary">
              {`${at + 1} of ${pending.length} waiting for you`}
            </Box>
          )}
        </SpaceBetween>
        {t.group && (t.group_tickets || []).length > 1 && (
          <GroupMembers t={t} client={client} accounts={accounts} reload={reload} onExpired={onExpired} />
        )}
      </Container>
      <Container header={<Header variant="h2">Details</Header>}>
        <Details key={`${t.id}-${t.version}`} initial={t} reload={reload} client={client} onExpired={onExpired} />
      </Container>
      <Timeline id={t.id} version={t.version} client={client} onExpired={onExpired} />
    </SpaceBetween>
  );
}

// GroupMembers says that t is one of a request for several accounts and
// links to the other members the reader may see (GET /tickets?group=),
// with their account and state, read again whenever the list would be.
function GroupMembers({ t, client, accounts, reload, onExpired }) {
  const [members, setMembers] = useState(null);
  useEffect(() => {
    let stale = false;
    client.list({ group: t.group, limit: 100 }).then(
      (res) => !stale && setMembers(groupOrder(t.group_tickets, res.tickets)),
      (e) => {
        if (stale) return;
        if (e.status === 401) onExpired();
        setMembers([]);
      }
    );
    return () => {
      stale = true;
    };
  }, [client, t.group, t.group_tickets, t.version, reload, onExpired]);
  const others = (members || []).filter((m) => m.id !== t.id);
  return (
    <Box margin={{ top: "s" }} data-testid="group-members">
      <b>{`Part of a request for ${t.group_tickets.length} accounts`}</b>
      {members !== null && others.length === 0 && <Box color="text-body-secondary">You see only this account's ticket.</Box>}
      {others.length > 0 && (
        <ul aria-label="The request's other accounts" style={{ margin: 0, paddingLeft: 20 }}>
          {others.map((m) => (
            <li key={m.id} data-testid={"group-link-" + m.id}>
              <Link href={`#/tickets/${m.id}`} ariaLabel={`Ticket ${m.id} in ${m.account_id}`}>
                {m.id}
              </Link>{" "}
              <AccountCell id={m.account_id} accounts={accounts} />{" "}
              <StatusIndicator type={STATUS[m.state] || "info"}>{m.state}</StatusIndicator>
            </li>
          ))}
        </ul>
      )}
    </Box>
  );
}

// Timeline shows the ticket's audit events, oldest first, read again
// whenever the ticket changes.
function Timeline({ id, version, client, onExpired }) {
  const [events, setEvents] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stale = false;
    client.timeline(id).then(
      (evs) => !stale && (setEvents(evs), setError(null)),
      (e) => {
        if (stale) return;
        if (e.status === 401) onExpired();
        else setError(e.message);
        setEvents([]);
      }
    );
    return () => {
      stale = true;
    };
  }, [client, id, version, onExpired]);
  return (
    <Table
      data-testid="ticket-timeline"
      header={
        <Header variant="h2" counter={events ? `(${events.length})` : undefined} description="From the audit log: every change, decision and AWS call of this ticket.">
          Timeline
        </Header>
      }
      ariaLabels={{ tableLabel: "Timeline" }}
      items={events || []}
      trackBy="seq"
      loading={events === null}
      loadingText="Loading the timeline"
      empty={<Box textAlign="center">{error || "No events yet."}</Box>}
      columnDefinitions={AUDIT_COLUMNS.filter((c) => c.id !== "ticket" && c.id !== "access")}
      wrapLines
      variant="container"
    />
  );
}
