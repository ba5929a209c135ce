import { Suspense, lazy, useEffect, useMemo, useRef, useState } from "react";
import { useCollection } from "@cloudscape-design/collection-hooks";
import Badge from "@cloudscape-design/components/badge";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import Pagination from "@cloudscape-design/components/pagination";
import Popover from "@cloudscape-design/components/popover";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Spinner from "@cloudscape-design/components/spinner";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import {
  STATUS,
  approvalWords,
  environment,
  formatDateTime,
  groupOrder,
  groupSummary,
  outcomeWords,
  pendingExtension,
  person,
  relative,
  windowWords,
  zoneName,
  zoned,
} from "./format.js";

// The first screen is the table and its rows: the filter, the
// preferences and the phone's cards come a moment later, in chunks of
// their own; until then a placeholder of the same size holds their place.
const PropertyFilter = lazy(() => import("@cloudscape-design/components/property-filter"));
const CollectionPreferences = lazy(() => import("@cloudscape-design/components/collection-preferences"));
const Cards = lazy(() => import("@cloudscape-design/components/cards"));

// The lists, each one server query: the server filters, sorts and pages
// (GET /api/v1/tickets), the page shows one page at a time. All but
// Approvals ask grouped: a request for several accounts is one row. On
// Approvals each row is one decision (approve, reject, bulk), so each
// account's ticket waiting for the reader is a row of its own.
export const LISTS = {
  approvals: {
    title: "Waiting for your approval",
    params: { pending_for_me: true },
    empty: "Nothing is waiting for you.",
    idTestid: "pending-",
    columns: ["id", "approval", "account", "people", "created", "start", "window", "reason", "actions"],
  },
  all: {
    title: "All tickets",
    params: { grouped: true },
    empty: "No tickets.",
    idTestid: "ticket-",
    columns: ["id", "state", "account", "people", "created", "start", "window", "reason", "actions"],
  },
  unreviewed: {
    title: "Activity to review",
    params: { unreviewed: true, grouped: true },
    empty: "Every ended or break-glass ticket you oversee has been reviewed.",
    idTestid: "ticket-",
    columns: ["id", "state", "account", "people", "created", "start", "window", "reason", "actions"],
  },
  mine: {
    title: "My tickets",
    params: { mine: true, grouped: true },
    empty: "You have no tickets.",
    idTestid: "ticket-",
    columns: ["id", "state", "account", "people", "created", "start", "window", "reason", "actions"],
  },
};

const STATES = ["pending", "approved", "active", "expired", "rejected", "cancelled", "terminated"];
const ENDED_STATES = ["expired", "terminated"];

// wasActive reports whether the ticket was ever granted (it has activity).
const wasActive = (t) => (t.history || []).some((e) => e.to === "active");

// The server's sort orders, by the column's sortingField.
const SORTS = { created_at: "created", start: "start", end: "end", account_id: "account" };

const filteringProperties = [
  { key: "state", propertyLabel: "State", groupValuesLabel: "States", operators: ["="] },
  { key: "account", propertyLabel: "Account", groupValuesLabel: "Accounts", operators: ["="] },
  { key: "permission_set", propertyLabel: "Permission set", groupValuesLabel: "Permission sets", operators: ["="] },
  { key: "requester", propertyLabel: "Requester", groupValuesLabel: "Requesters", operators: ["="] },
  { key: "beneficiary", propertyLabel: "Beneficiary", groupValuesLabel: "Beneficiaries", operators: ["="] },
  { key: "break_glass", propertyLabel: "Break-glass", groupValuesLabel: "Break-glass", operators: ["="] },
];

// queryParams turns the property filter's tokens into the list's query
// parameters: states are or-ed, other properties must all hold, free text
// searches the id, reason, people, account and permission set.
function queryParams(query) {
  const out = {};
  const states = [];
  const text = [];
  for (const tok of query.tokens || []) {
    if (!tok.propertyKey) text.push(tok.value);
    else if (tok.propertyKey === "state") states.push(tok.value);
    else out[tok.propertyKey] = tok.value;
  }
  if (states.length) out.state = states.join(",");
  if (text.length) out.q = text.join(" ");
  return out;
}

// listParams are the list's query parameters but the offset.
function listParams(list, query, sortField, descending, pageSize) {
  return { ...list.params, ...queryParams(query), sort: SORTS[sortField] || "created", order: descending ? "desc" : "asc", limit: pageSize };
}

// phone reports whether the screen is narrow enough for cards.
export function usePhone() {
  const q = "(max-width: 688px)";
  const [phone, setPhone] = useState(() => window.matchMedia(q).matches);
  useEffect(() => {
    const m = window.matchMedia(q);
    const on = () => setPhone(m.matches);
    m.addEventListener("change", on);
    return () => m.removeEventListener("change", on);
  }, []);
  return phone;
}

function loadPrefs(kind) {
  try {
    const p = JSON.parse(localStorage.getItem(`jit.prefs.v3.${kind}`) || "null");
    if (p && p.pageSize && Array.isArray(p.contentDisplay)) return p;
  } catch {
    // defaults below
  }
  // "Starts" (sortable by start) is there to choose; the window shows it.
  return { pageSize: 25, contentDisplay: LISTS[kind].columns.map((id) => ({ id, visible: id !== "start" })) };
}

// AccountCell shows the account's name beside its id, with a badge for
// its environment (the registry's, else guessed from the name).
export function AccountCell({ id, accounts }) {
  const a = accounts[id];
  const name = a && a.name;
  const env = environment(a);
  return (
    <span>
      {name ? <b>{name}</b> : null} <Box variant="small" display="inline">{id}</Box>{" "}
      {env && (
        <span data-testid={`env-${id}`}>
          <Badge color={env.color}>{env.label}</Badge>
        </span>
      )}
    </span>
  );
}

// groupRow returns the members of t's group the reader sees in this list
// (groups: the list's answer, by group id), when they are more than one:
// the row then stands for all of them. null for any other row.
function groupRow(t, groups) {
  const members = t.group && groups && groups[t.group];
  return members && members.length > 1 ? members : null;
}

// GroupAccounts lists the accounts of a group row, each with its ticket's
// state (a link to it), in the order the request asked for them.
function GroupAccounts({ t, members, accounts }) {
  return (
    <div data-testid={"group-accounts-" + t.id}>
      {groupOrder(t.group_tickets || [], members).map((m) => (
        <Box key={m.id} display="block" data-testid={"group-member-" + m.id}>
          <AccountCell id={m.account_id} accounts={accounts} />{" "}
          <Box variant="small" display="inline">
            <Link href={`#/tickets/${m.id}`} ariaLabel={`Ticket ${m.id} in ${m.account_id}: ${m.state}`}>
              {m.state}
            </Link>
          </Box>
        </Box>
      ))}
    </div>
  );
}

// GroupNote marks a ticket of a request for several accounts shown on its
// own (one decision on Approvals, or the only member the reader sees).
function GroupNote({ t }) {
  const n = (t.group_tickets || []).length;
  if (n < 2) return null;
  return (
    <Box variant="small" display="block">
      <span data-testid={"group-note-" + t.id}>{`part of a request for ${n} accounts`}</span>
    </Box>
  );
}

// Reason shows the first words and the whole text on demand.
function Reason({ t }) {
  const ext = pendingExtension(t);
  const full = ext && ext.reason ? `${t.reason}\n\nExtension: ${ext.reason}` : t.reason || "";
  if (full.length <= 60) return <span style={{ whiteSpace: "pre-wrap" }}>{full || "—"}</span>;
  return (
    <span>
      {full.slice(0, 57).trimEnd()}…{" "}
      <Popover size="large" header={`Reason for ticket ${t.id}`} content={<span style={{ whiteSpace: "pre-wrap" }}>{full}</span>} triggerType="text">
        <span aria-label={`Whole reason of ticket ${t.id}`}>more</span>
      </Popover>
    </span>
  );
}

// People names the requester, and whom for when it is not only them.
function People({ t, email }) {
  const others = (t.beneficiaries || []).filter((b) => b.toLowerCase() !== (t.requester || "").toLowerCase());
  const all = [t.requester, ...(t.beneficiaries || [])].join(", ");
  return (
    <span title={all}>
      {person(t.requester, email)}
      {others.length > 0 && (
        <Box variant="small" display="block">
          for {(t.beneficiaries || []).map((b) => person(b, email)).join(", ")}
        </Box>
      )}
    </span>
  );
}

function When({ at, children }) {
  return <span title={zoned(at)}>{children || relative(at)}</span>;
}

// State shows the state, and for an ended ticket how it ended.
export function State({ t }) {
  const words = ["pending", "approved", "active"].includes(t.state) ? "" : outcomeWords(t);
  const outcome = words === t.state ? "" : words;
  return (
    <>
      <StatusIndicator type={STATUS[t.state] || "info"}>
        <span data-testid={"state-" + t.id}>{t.state}</span>
      </StatusIndicator>
      {t.break_glass && <BreakGlassBadge t={t} />}
      {outcome && (
        <Box variant="small" display="block">
          <span data-testid={"outcome-" + t.id}>{outcome}</span>
        </Box>
      )}
      {pendingExtension(t) && (
        <Box variant="small" display="block">
          extension pending
        </Box>
      )}
    </>
  );
}

// BreakGlassBadge marks a ticket granted without approval under a
// break-glass rule, with where its review stands.
export function BreakGlassBadge({ t }) {
  const b = t.break_glass;
  const reviewed = (t.reviews || []).length > 0;
  const words = reviewed ? "reviewed" : b.escalated_at ? "review overdue" : `review by ${formatDateTime(b.review_by)}`;
  return (
    <Box variant="small" display="block">
      <span data-testid={"break-glass-" + t.id} title={`Granted without approval; ${words}`}>
        <Badge color="red">Break-glass</Badge> {words}
      </span>
    </Box>
  );
}

// Actions are a ticket's buttons, each named with its ticket for screen
// readers. Who may do what is the server's decision; the buttons follow
// the usual roles: the ticket's own people end or withdraw it, others
// (its approvers, administrators) terminate it.
export function Actions({ t, kind, email, admin, onDecide, onConsole, consoleBusy }) {
  const me = (email || "").toLowerCase();
  const isBeneficiary = (t.beneficiaries || []).some((b) => b.toLowerCase() === me);
  const isRequester = (t.requester || "").toLowerCase() === me;
  const own = isBeneficiary || isRequester;
  const b = (action, label, props = {}) => (
    <Button key={action} data-testid={`${action}-${t.id}`} ariaLabel={`${label} ticket ${t.id}`} onClick={() => onDecide(action, t)} {...props}>
      {label}
    </Button>
  );
  return (
    <SpaceBetween direction="horizontal" size="xs">
      {kind === "approvals" && [b("approve", "Approve", { variant: "primary" }), b("reject", "Reject")]}
      {kind !== "approvals" && (t.state === "active" || t.state === "approved") && (admin || !own) && b("terminate", "Terminate")}
      {kind !== "approvals" && t.state === "active" && own && b("done", "I'm done")}
      {kind !== "approvals" && (t.state === "pending" || t.state === "approved") && isRequester && b("cancel", "Cancel request")}
      {kind !== "approvals" && t.state === "active" && own && !pendingExtension(t) && !t.break_glass && b("extend", "Extend")}
      {kind !== "approvals" && t.state === "rejected" && isRequester && b("edit", "Edit and resend")}
      {kind !== "approvals" && (ENDED_STATES.includes(t.state) || t.break_glass) && wasActive(t) && !own && !(t.reviews || []).length && b("review", "Mark reviewed")}
      {kind !== "approvals" && t.state === "active" && isBeneficiary && (
        <Button
          data-testid={`console-${t.id}`}
          ariaLabel={`Open console for ticket ${t.id}`}
          iconName="external"
          iconAlign="right"
          loading={consoleBusy === t.id}
          onClick={() => onConsole(t)}
        >
          Open console
        </Button>
      )}
    </SpaceBetween>
  );
}

// TicketList is one of the lists: property filter, sorting, pages with
// a page size and columns of the reader's choice, all answered by the
// server; cards instead of a table on a phone. reload (a number) reads
// the current page again: after a decision, or a change the live feed
// announced.
export default function TicketList({ kind, client, email, admin, accounts, reload, onDecide, onBulk, onConsole, consoleBusy, onFailed }) {
  const list = LISTS[kind];
  const phone = usePhone();
  const [prefs, setPrefs] = useState(() => loadPrefs(kind));
  const [page, setPage] = useState(1);
  // The first page as boot.js fetched it, if it is here already: the rows
  // then come in the first render (the query is the default one: no
  // filter, newest first).
  const [data, setData] = useState(() => {
    const params = listParams(list, {}, "created_at", true, prefs.pageSize);
    const res = client.listNow({ ...params, offset: 0 });
    return res ? { key: JSON.stringify(params), ...res } : { key: null, tickets: [], total: 0, groups: {} };
  });
  const early = useRef(data.key); // that page's key, until the first fetch below
  const [refreshing, setRefreshing] = useState(0);

  const columnDefs = useMemo(() => {
    const idCell = (t) => (
      <Link href={`#/tickets/${t.id}`} ariaLabel={`Ticket ${t.id}`}>
        <span data-testid={list.idTestid + t.id}>{t.id}</span>
      </Link>
    );
    const keep = () => 0; // the server sorted the page
    const groups = data.groups;
    return {
      id: { id: "id", header: "ID", cell: idCell, isRowHeader: true },
      state: {
        id: "state",
        header: "State",
        cell: (t) => {
          const members = groupRow(t, groups);
          return members ? <span data-testid={"group-summary-" + t.id}>{groupSummary(members)}</span> : <State t={t} />;
        },
        minWidth: 150,
      },
      approval: {
        id: "approval",
        header: "Approval",
        cell: (t) => <span data-testid={"approval-" + t.id}>{approvalWords(t, email)}</span>,
        minWidth: 200,
      },
      account: {
        id: "account",
        header: "Access",
        cell: (t) => {
          const members = groupRow(t, groups);
          return (
            <>
              {members ? <GroupAccounts t={t} members={members} accounts={accounts} /> : <AccountCell id={t.account_id} accounts={accounts} />}
              <Box variant="small" display="block">
                {t.permission_set}
              </Box>
              {!members && <GroupNote t={t} />}
            </>
          );
        },
        sortingField: "account_id",
        sortingComparator: keep,
        minWidth: 150,
      },
      people: { id: "people", header: "Requester", cell: (t) => <People t={t} email={email} /> },
      created: {
        id: "created",
        header: "Requested",
        cell: (t) => <When at={t.created_at} />,
        sortingField: "created_at",
        sortingComparator: keep,
      },
      start: {
        id: "start",
        header: "Starts",
        cell: (t) => <When at={t.start} />,
        sortingField: "start",
        sortingComparator: keep,
      },
      window: {
        id: "window",
        header: "Window",
        cell: (t) => (
          <span title={`${zoned(t.start)} → ${zoned(t.end)}`}>
            {windowWords(t)}
            <Box variant="small" display="block">
              {formatDateTime(t.start)} → {formatDateTime(t.end)} {zoneName(t.end)}
            </Box>
          </span>
        ),
        sortingField: "end",
        sortingComparator: keep,
        minWidth: 170,
      },
      reason: { id: "reason", header: "Reason", cell: (t) => <Reason t={t} />, minWidth: 160 },
      actions: {
        id: "actions",
        header: "Actions",
        // A group row's buttons would act on one account only: each
        // account's ticket is decided, ended or withdrawn on its own page.
        cell: (t) =>
          groupRow(t, groups) ? (
            <Box variant="small" color="text-body-secondary">
              <span data-testid={"group-actions-" + t.id}>Open an account's ticket to act on it.</span>
            </Box>
          ) : (
            <Actions t={t} kind={kind} email={email} admin={admin} onDecide={onDecide} onConsole={onConsole} consoleBusy={consoleBusy} />
          ),
        minWidth: 180,
      },
    };
  }, [kind, list.idTestid, email, admin, accounts, data.groups, onDecide, onConsole, consoleBusy]);
  const columns = list.columns.map((id) => columnDefs[id]);

  const accountOptions = Object.values(accounts).map((a) => ({ propertyKey: "account", value: a.id, label: `${a.name} (${a.id})` }));
  const { items, collectionProps, propertyFilterProps } = useCollection(data.tickets, {
    propertyFiltering: {
      filteringProperties,
      filteringOptions: [...STATES.map((s) => ({ propertyKey: "state", value: s })), ...accountOptions, { propertyKey: "break_glass", value: "true", label: "only break-glass tickets" }],
      filteringFunction: () => true, // the server filtered
      empty: <Box textAlign="center" padding="l"><b>{list.empty}</b></Box>,
      noMatch: (
        <Box textAlign="center" padding="l">
          <b>No ticket matches the filter.</b>
        </Box>
      ),
    },
    sorting: { defaultState: { sortingColumn: columnDefs.created, isDescending: true } },
  });
  // The selection is the page's own, not the hooks': a selected ticket
  // that leaves the list (decided elsewhere, announced live) stays
  // selected, and the bulk decision reports what became of it.
  const [selected, setSelected] = useState([]);

  const sortField = (collectionProps.sortingColumn && collectionProps.sortingColumn.sortingField) || "created_at";
  const params = listParams(list, propertyFilterProps.query, sortField, collectionProps.sortingDescending, prefs.pageSize);
  const key = JSON.stringify(params);
  // A new query starts on page 1, with nothing selected.
  useEffect(() => setPage(1), [key]);
  useEffect(() => setSelected((s) => (s.length ? [] : s)), [key, page]);

  useEffect(() => {
    // The page boot.js fetched is shown already: no second call for it.
    const first = early.current;
    early.current = null;
    if (first !== null && first === key && page === 1) return;
    let stale = false;
    client.list({ ...params, offset: (page - 1) * prefs.pageSize }).then(
      (res) => {
        if (stale) return;
        // A page past the end (tickets decided meanwhile): the last one.
        const pages = Math.max(1, Math.ceil(res.total / prefs.pageSize));
        if (page > pages && !res.minimum) setPage(pages);
        setData({ key, tickets: res.tickets, total: res.total, minimum: res.minimum, groups: res.groups });
      },
      (e) => {
        if (stale) return;
        setData({ key, tickets: [], total: 0, groups: {} });
        onFailed(e);
      }
    );
    return () => {
      stale = true;
    };
    // params is derived from key.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key, page, reload, refreshing, onFailed]);

  const loading = data.key === null;
  const total = data.total;
  // Past a first page the server may not have counted every match: the
  // count then reads "100+" and the pages go on (open end).
  const more = !!data.minimum;
  const count = `${total}${more ? "+" : ""}`;
  const first = total === 0 ? 0 : (page - 1) * prefs.pageSize + 1;
  const last = Math.min(total, (page - 1) * prefs.pageSize + data.tickets.length);
  const showing = loading ? "Loading…" : total === 0 ? "No tickets" : `Showing ${first}–${last} of ${count}`;

  const header = (
    <Header
      variant={phone ? "h1" : "awsui-h1-sticky"}
      counter={loading ? undefined : `(${count})`}
      description={<span data-testid="showing">{showing}</span>}
      actions={
        <SpaceBetween direction="horizontal" size="xs">
          {kind === "approvals" && (
            <>
              <Button data-testid="bulk-approve" disabled={selected.length === 0} onClick={() => {
                  onBulk("approve", selected);
                  setSelected([]);
                }}>
                {`Approve selected (${selected.length})`}
              </Button>
              <Button data-testid="bulk-reject" disabled={selected.length === 0} onClick={() => {
                  onBulk("reject", selected);
                  setSelected([]);
                }}>
                {`Reject selected (${selected.length})`}
              </Button>
            </>
          )}
          <Button data-testid="refresh" iconName="refresh" ariaLabel="Refresh" onClick={() => setRefreshing((n) => n + 1)}>
            Refresh
          </Button>
        </SpaceBetween>
      }
    >
      {list.title}
    </Header>
  );
  const filter = (
    <div data-testid="filter">
      <Suspense fallback={<div style={{ height: 32 }} />}>
        <PropertyFilter {...propertyFilterProps} filteringPlaceholder="Filter tickets by state, account, people or text" expandToViewport countText={`${count} matches`} />
      </Suspense>
    </div>
  );
  const pagination = (
    <div data-testid="pagination">
      <Pagination
        currentPageIndex={page}
        pagesCount={Math.max(1, Math.ceil(total / prefs.pageSize))}
        openEnd={more}
        onChange={({ detail }) => setPage(detail.currentPageIndex)}
        ariaLabels={{ nextPageLabel: "Next page", previousPageLabel: "Previous page", pageLabel: (n) => `Page ${n} of the tickets` }}
      />
    </div>
  );
  const preferences = (
    <div data-testid="preferences">
    <Suspense fallback={<Button variant="icon" iconName="settings" ariaLabel="Preferences" disabled />}>
    <CollectionPreferences
      title="Preferences"
      confirmLabel="Confirm"
      cancelLabel="Cancel"
      preferences={prefs}
      onConfirm={({ detail }) => {
        const p = { pageSize: detail.pageSize, contentDisplay: detail.contentDisplay };
        localStorage.setItem(`jit.prefs.v3.${kind}`, JSON.stringify(p));
        setPrefs(p);
      }}
      pageSizePreference={{
        title: "Tickets per page",
        options: [10, 25, 50, 100].map((n) => ({ value: n, label: `${n} tickets` })),
      }}
      contentDisplayPreference={{
        title: "Columns",
        options: columns.map((c) => ({ id: c.id, label: c.header, alwaysVisible: c.id === "id" || c.id === "actions" })),
      }}
    />
    </Suspense>
    </div>
  );
  const selection =
    kind === "approvals"
      ? {
          selectionType: "multi",
          trackBy: "id",
          selectedItems: selected,
          onSelectionChange: ({ detail }) => setSelected(detail.selectedItems),
          ariaLabels: {
            selectionGroupLabel: "Tickets to decide together",
            allItemsSelectionLabel: () => "Select every ticket on this page",
            itemSelectionLabel: (_, t) => `Select ticket ${t.id}`,
          },
        }
      : {};

  if (phone) {
    return (
      <div data-testid="ticket-cards">
        <Suspense fallback={<Box padding="l"><Spinner /> Loading tickets</Box>}>
        <Cards
          {...collectionProps}
          {...selection}
          trackBy="id"
          items={items}
          loading={loading}
          loadingText="Loading tickets"
          header={header}
          filter={filter}
          pagination={pagination}
          preferences={preferences}
          cardDefinition={{
            header: (t) => columnDefs.id.cell(t),
            sections: [
              { id: "actions", content: columnDefs.actions.cell },
              kind === "approvals"
                ? { id: "approval", header: "Approval", content: columnDefs.approval.cell }
                : { id: "state", header: "State", content: columnDefs.state.cell },
              { id: "account", header: "Access", content: columnDefs.account.cell },
              { id: "who", header: "Requested", content: (t) => <>{columnDefs.people.cell(t)} <When at={t.created_at} /></> },
              { id: "window", header: "Window", content: columnDefs.window.cell },
              { id: "reason", header: "Reason", content: columnDefs.reason.cell },
            ],
          }}
          cardsPerRow={[{ cards: 1 }]}
          ariaLabels={{ ...(selection.ariaLabels || {}), cardsLabel: list.title }}
        />
        </Suspense>
      </div>
    );
  }
  return (
    <Table
      {...collectionProps}
      {...selection}
      trackBy="id"
      variant="full-page"
      ariaLabels={{ ...(selection.ariaLabels || {}), tableLabel: list.title }}
      columnDefinitions={columns}
      columnDisplay={prefs.contentDisplay}
      items={items}
      loading={loading}
      loadingText="Loading tickets"
      stickyColumns={{ first: 1, last: 1 }}
      wrapLines
      header={header}
      filter={filter}
      pagination={pagination}
      preferences={preferences}
      renderAriaLive={({ firstIndex, lastIndex }) => `Showing tickets ${firstIndex} to ${lastIndex} of ${more ? `more than ${total}` : total}`}
      totalItemsCount={total}
      firstIndex={first}
    />
  );
}

