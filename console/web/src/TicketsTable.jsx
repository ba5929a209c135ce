import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import { STATUS, formatDateTime, formatWindow, pendingExtension, stageText } from "./format.js";

function Empty({ text }) {
  return (
    <Box textAlign="center" color="inherit" padding="l">
      <b>{text}</b>
    </Box>
  );
}

function RefreshButton({ onClick }) {
  return (
    <Button data-testid="refresh" iconName="refresh" onClick={onClick}>
      Refresh
    </Button>
  );
}

function WindowCell({ t }) {
  const ext = pendingExtension(t);
  return (
    <span title={`${t.start} → ${t.end} (UTC)`}>
      {formatWindow(t.start, t.end)}
      {ext && (
        <Box variant="small" display="block">
          Extension to {formatDateTime(ext.end)} requested
        </Box>
      )}
    </span>
  );
}

function ReasonCell({ t }) {
  const ext = pendingExtension(t);
  return (
    <>
      {t.reason}
      {ext && ext.reason && (
        <Box variant="small" display="block">
          Extension: {ext.reason}
        </Box>
      )}
    </>
  );
}

// IdLink opens the ticket's details; the span keeps the id as its text for tests.
function IdLink({ t, testid, onOpen }) {
  return (
    <Link variant="primary" onFollow={() => onOpen(t)}>
      <span data-testid={testid}>{t.id}</span>
    </Link>
  );
}

const common = {
  requester: { id: "requester", header: "Requester", cell: (t) => t.requester, minWidth: 130 },
  beneficiaries: {
    id: "beneficiaries",
    header: "Beneficiaries",
    cell: (t) => (t.beneficiaries || []).join(", "),
    minWidth: 140,
  },
  account: { id: "account", header: "Account", cell: (t) => t.account_id, minWidth: 120 },
  permissionSet: { id: "permission_set", header: "Permission set", cell: (t) => t.permission_set, minWidth: 140 },
  window: { id: "window", header: "Window", cell: (t) => <WindowCell t={t} />, minWidth: 190 },
  reason: { id: "reason", header: "Reason", cell: (t) => <ReasonCell t={t} />, minWidth: 140 },
};

// described are the columns that say what a ticket asks for.
const described = [common.requester, common.beneficiaries, common.account, common.permissionSet, common.window, common.reason];

// PendingTable lists the tickets waiting for the caller's approval.
export function PendingTable({ items, loading, onRefresh, onDecide, onOpen }) {
  const columns = [
    { id: "id", header: "ID", cell: (t) => <IdLink t={t} testid={"pending-" + t.id} onOpen={onOpen} /> },
    ...described,
    { id: "stage", header: "Stage", cell: (t) => stageText(t), minWidth: 150 },
    {
      id: "actions",
      header: "Actions",
      minWidth: 190,
      cell: (t) => (
        <SpaceBetween direction="horizontal" size="xs">
          <Button variant="primary" data-testid={`approve-${t.id}`} onClick={() => onDecide("approve", t)}>
            Approve
          </Button>
          <Button data-testid={`reject-${t.id}`} onClick={() => onDecide("reject", t)}>
            Reject
          </Button>
        </SpaceBetween>
      ),
    },
  ];
  return (
    <TicketFrame
      title="Waiting for your approval"
      label="Tickets waiting for your approval"
      emptyText="Nothing is waiting for you."
      columns={columns}
      items={items}
      loading={loading}
      onRefresh={onRefresh}
    />
  );
}

// TicketFrame is the full-page table both lists share.
function TicketFrame({ title, label, emptyText, columns, items, loading, onRefresh }) {
  return (
    <Table
      variant="full-page"
      ariaLabels={{ tableLabel: label }}
      columnDefinitions={columns}
      items={items}
      trackBy="id"
      stickyColumns={{ first: 1, last: 1 }}
      loading={loading}
      loadingText="Loading tickets"
      wrapLines
      empty={<Empty text={emptyText} />}
      header={
        <Header
          variant="awsui-h1-sticky"
          counter={loading ? undefined : `(${items.length})`}
          actions={<RefreshButton onClick={onRefresh} />}
        >
          {title}
        </Header>
      }
    />
  );
}

// TicketsTable lists tickets with their state, for "All tickets" and "My tickets".
// Who may do what is the server's decision; the buttons only follow the
// usual roles: the ticket's own people end or withdraw it, others (its
// approvers, administrators) terminate it.
export function TicketsTable({
  title,
  emptyText,
  items,
  loading,
  onRefresh,
  onDecide,
  onOpen,
  onConsole,
  consoleBusy,
  email,
  admin,
}) {
  const me = (email || "").toLowerCase();
  const isBeneficiary = (t) => (t.beneficiaries || []).some((b) => b.toLowerCase() === me);
  const isRequester = (t) => (t.requester || "").toLowerCase() === me;
  const own = (t) => isBeneficiary(t) || isRequester(t);
  const columns = [
    { id: "id", header: "ID", cell: (t) => <IdLink t={t} testid={"ticket-" + t.id} onOpen={onOpen} /> },
    {
      id: "state",
      header: "State",
      minWidth: 160,
      cell: (t) => (
        <>
          <StatusIndicator type={STATUS[t.state] || "info"}>
            <span data-testid={"state-" + t.id}>{t.state}</span>
          </StatusIndicator>
          {pendingExtension(t) && (
            <Box variant="small" display="block">
              extension pending
            </Box>
          )}
        </>
      ),
    },
    ...described,
    {
      id: "actions",
      header: "Actions",
      minWidth: 250,
      cell: (t) => (
        <SpaceBetween direction="horizontal" size="xs">
          {(t.state === "active" || t.state === "approved") && (admin || !own(t)) && (
            <Button data-testid={`terminate-${t.id}`} onClick={() => onDecide("terminate", t)}>
              Terminate
            </Button>
          )}
          {t.state === "active" && own(t) && (
            <Button data-testid={`done-${t.id}`} onClick={() => onDecide("done", t)}>
              I'm done
            </Button>
          )}
          {(t.state === "pending" || t.state === "approved") && isRequester(t) && (
            <Button data-testid={`cancel-${t.id}`} onClick={() => onDecide("cancel", t)}>
              Cancel request
            </Button>
          )}
          {t.state === "active" && isBeneficiary(t) && (
            <Button
              data-testid={`console-${t.id}`}
              iconName="external"
              iconAlign="right"
              loading={consoleBusy === t.id}
              onClick={() => onConsole(t)}
            >
              Open console
            </Button>
          )}
        </SpaceBetween>
      ),
    },
  ];
  return (
    <TicketFrame
      title={title}
      label={title}
      emptyText={emptyText}
      columns={columns}
      items={items}
      loading={loading}
      onRefresh={onRefresh}
    />
  );
}
