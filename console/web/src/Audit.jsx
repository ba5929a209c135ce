import { useCallback, useEffect, useState } from "react";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { zoned } from "./format.js";

// FILTERS are the audit list's filters, named as GET /api/v1/audit's
// query parameters.
const FILTERS = [
  { key: "ticket", label: "Ticket", placeholder: "ticket ID" },
  { key: "user", label: "User", placeholder: "bob@example.com" },
  { key: "account", label: "Account", placeholder: "111111111111" },
  { key: "type", label: "Type", placeholder: "ticket. or aws.call" },
  { key: "since", label: "Since", placeholder: "2026-12-01T00:00:00Z" },
  { key: "until", label: "Until", placeholder: "2026-12-31T00:00:00Z" },
];

// who shows the actor, and the approver a delegate acted for.
const who = (e) => (e.on_behalf_of ? `${e.actor} for ${e.on_behalf_of}` : e.actor || "—");

// what sums up an event in one line: a transition, an AWS call or a detail.
function what(e) {
  const parts = [];
  if (e.from || e.to) parts.push(`${e.from || "—"} → ${e.to || "—"}`);
  if (e.operation) parts.push(`${e.operation}: ${e.result || "?"}${e.request_id ? ` (${e.request_id})` : ""}`);
  if (e.detail) parts.push(e.detail);
  return parts.join(" · ") || "—";
}

// AUDIT_COLUMNS are the columns the audit list and a ticket's timeline share.
export const AUDIT_COLUMNS = [
  { id: "seq", header: "#", cell: (e) => e.seq, isRowHeader: true, width: 80 },
  { id: "at", header: "When", cell: (e) => zoned(e.at), minWidth: 190 },
  { id: "type", header: "Type", cell: (e) => e.type, minWidth: 150 },
  { id: "actor", header: "Who", cell: who, minWidth: 160 },
  {
    id: "ticket",
    header: "Ticket",
    cell: (e) => (e.ticket_id ? <Link href={`#/tickets/${e.ticket_id}`}>{e.ticket_id}</Link> : "—"),
  },
  { id: "access", header: "Access", cell: (e) => (e.account_id ? `${e.account_id}${e.permission_set ? ` / ${e.permission_set}` : ""}` : "—") },
  { id: "what", header: "What", cell: what, minWidth: 220 },
];

const empty = (text) => (
  <Box textAlign="center" padding="s">
    {text}
  </Box>
);

// Audit lists the audit log, newest first as the server pages it, with
// its filters: administrators see every event, others the events of the
// tickets they may see. "Load more" follows the server's cursor.
export default function Audit({ client, onFailed }) {
  const [draft, setDraft] = useState({});
  const [filters, setFilters] = useState({});
  const [events, setEvents] = useState([]);
  const [next, setNext] = useState("");
  const [loading, setLoading] = useState(true);

  const load = useCallback(
    (cursor) => {
      setLoading(true);
      client.audit({ ...filters, cursor }).then(
        (page) => {
          setEvents((old) => (cursor ? [...old, ...page.events] : page.events));
          setNext(page.next);
          setLoading(false);
        },
        (e) => {
          setLoading(false);
          onFailed(e);
        }
      );
    },
    [client, filters, onFailed]
  );

  useEffect(() => load(""), [load]);

  const apply = (e) => {
    e.preventDefault();
    setFilters(Object.fromEntries(Object.entries(draft).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v)));
  };

  return (
    <SpaceBetween size="l">
      <Header variant="h1" description="Every transition, decision, AWS call and refusal, chained with HMAC-SHA-256 (jit audit verify checks the chain).">
        Audit log
      </Header>
      <form onSubmit={apply} data-testid="audit-filters">
        <SpaceBetween size="s">
          <ColumnLayout columns={3}>
            {FILTERS.map((f) => (
              <FormField key={f.key} label={f.label}>
                <Input
                  data-testid={`audit-${f.key}`}
                  value={draft[f.key] || ""}
                  placeholder={f.placeholder}
                  onChange={({ detail }) => setDraft((d) => ({ ...d, [f.key]: detail.value }))}
                />
              </FormField>
            ))}
          </ColumnLayout>
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="primary" formAction="submit" data-testid="audit-apply">
              Apply filters
            </Button>
            <Button
              formAction="none"
              onClick={() => {
                setDraft({});
                setFilters({});
              }}
            >
              Clear
            </Button>
          </SpaceBetween>
        </SpaceBetween>
      </form>
      <Table
        data-testid="audit-table"
        header={<Header variant="h2" counter={`(${events.length}${next ? "+" : ""})`}>Events</Header>}
        ariaLabels={{ tableLabel: "Audit events" }}
        items={events}
        trackBy="seq"
        loading={loading && events.length === 0}
        loadingText="Loading the audit log"
        empty={empty("No events match.")}
        columnDefinitions={AUDIT_COLUMNS}
        wrapLines
        footer={
          next && (
            <Box textAlign="center">
              <Button data-testid="audit-more" loading={loading} onClick={() => load(next)}>
                Load more
              </Button>
            </Box>
          )
        }
      />
    </SpaceBetween>
  );
}
