import { useEffect, useState } from "react";
import Box from "@cloudscape-design/components/box";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { environment } from "./format.js";
import Badge from "@cloudscape-design/components/badge";

const empty = (text) => (
  <Box textAlign="center" padding="s">
    {text}
  </Box>
);

// hours shows a duration string ("12h0m0s") without its zero parts.
function hours(d) {
  if (!d) return "—";
  return String(d).replace(/(\D)0s$/, "$1").replace(/(\D)0m$/, "$1") || String(d);
}

const list = (xs) => (xs && xs.length ? xs.join(", ") : "—");

// Registry shows the registry read-only, for administrators: accounts,
// permission sets, approval rules and admins (jit admin export for the
// YAML, jit admin apply to change it).
export default function Registry({ client, onFailed }) {
  const [r, setR] = useState(null);
  useEffect(() => {
    client.registry().then(setR, (e) => {
      setR({});
      onFailed(e);
    });
  }, [client, onFailed]);
  const loading = r === null;
  const reg = r || {};
  const rules = (reg.approval_rules || []).map((x, i) => ({ ...x, key: `${x.account}/${x.permission_set || "*"}/${x.requester_group || ""}/${i}` }));
  return (
    <SpaceBetween size="l">
      <Header variant="h1" description="Read-only. Change it with jit admin apply (see docs/registry.md).">
        Registry
      </Header>
      <Table
        data-testid="registry-accounts"
        header={<Header variant="h2" counter={loading ? undefined : `(${(reg.accounts || []).length})`}>Accounts</Header>}
        ariaLabels={{ tableLabel: "Accounts" }}
        loading={loading}
        loadingText="Loading the registry"
        items={reg.accounts || []}
        trackBy="id"
        empty={empty("No accounts.")}
        columnDefinitions={[
          { id: "id", header: "ID", cell: (a) => a.id, isRowHeader: true },
          { id: "name", header: "Name", cell: (a) => a.name },
          {
            id: "env",
            header: "Environment",
            cell: (a) => {
              const env = environment(a);
              return env ? <Badge color={env.color}>{env.label}</Badge> : "—";
            },
          },
        ]}
      />
      <Table
        data-testid="registry-permission-sets"
        header={<Header variant="h2" counter={loading ? undefined : `(${(reg.permission_sets || []).length})`}>Permission sets</Header>}
        ariaLabels={{ tableLabel: "Permission sets" }}
        loading={loading}
        loadingText="Loading the registry"
        items={reg.permission_sets || []}
        trackBy="name"
        wrapLines
        empty={empty("No permission sets.")}
        columnDefinitions={[
          { id: "name", header: "Name", cell: (p) => p.name, isRowHeader: true },
          { id: "path", header: "Granted through", cell: (p) => (p.grant_path || "role") + (p.role_name ? ` (${p.role_name})` : "") },
          { id: "max", header: "Longest", cell: (p) => hours(p.max_duration) },
          { id: "approval", header: "Approval", cell: (p) => (p.approval_required ? "required" : "none") },
          { id: "accounts", header: "Accounts", cell: (p) => list(p.scope && p.scope.accounts) },
          { id: "groups", header: "Who may request", cell: (p) => list(p.scope && p.scope.requester_groups) },
        ]}
      />
      <Table
        data-testid="registry-rules"
        header={<Header variant="h2" counter={loading ? undefined : `(${rules.length})`}>Approval rules</Header>}
        ariaLabels={{ tableLabel: "Approval rules" }}
        loading={loading}
        loadingText="Loading the registry"
        items={rules}
        trackBy="key"
        wrapLines
        empty={empty("No approval rules.")}
        columnDefinitions={[
          { id: "account", header: "Account", cell: (x) => x.account, isRowHeader: true },
          { id: "ps", header: "Permission set", cell: (x) => x.permission_set || "any" },
          { id: "requester-group", header: "Requester group", cell: (x) => x.requester_group || "anyone" },
          {
            id: "stages",
            header: "Stages",
            cell: (x) => (x.stages || []).map((st, i) => `${i + 1}: ${st.required} of ${list(st.approvers)}`).join("; ") || "none",
          },
          {
            id: "step-up",
            header: "Step-up",
            cell: (x) => (x.step_up_max_age ? `sign-in within ${x.step_up_max_age}` : "") +
              (x.step_up_amr ? ` (${x.step_up_amr.join(", ")})` : "") || "none",
          },
        ]}
      />
      <Box>
        <b>Administrators:</b> <span data-testid="registry-admins">{list(reg.admins)}</span>
      </Box>
    </SpaceBetween>
  );
}
