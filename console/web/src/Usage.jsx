import { useEffect, useState } from "react";
import Box from "@cloudscape-design/components/box";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import ExpandableSection from "@cloudscape-design/components/expandable-section";
import { PolicyBlock } from "./LeastPrivilege.jsx";

const count = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

const percent = (p) => (p.granted > 0 ? `${(100 * p.ratio).toFixed(2)}%` : "—");

// Usage is the administrators' least-privilege report: per permission set,
// how much of what it grants its ended tickets used, lowest share first.
export default function Usage({ client, onFailed }) {
  const [u, setU] = useState(null);
  useEffect(() => {
    client.usage().then(setU, (e) => {
      setU({});
      onFailed(e);
    });
  }, [client, onFailed]);
  const loading = u === null;
  const rows = (u && u.permission_sets) || [];
  return (
    <SpaceBetween size="l">
      <Header variant="h1" description="Permission sets used far below what they grant come first. Granted counts are over AWS API operations: an approximation.">
        Permission set usage
      </Header>
      <Table
        data-testid="usage-table"
        ariaLabels={{ tableLabel: "Permission set usage" }}
        loading={loading}
        loadingText="Reading ended tickets' activity"
        items={rows}
        trackBy="permission_set"
        wrapLines
        empty={
          <Box textAlign="center" padding="s">
            No ended tickets.
          </Box>
        }
        columnDefinitions={[
          { id: "set", header: "Permission set", cell: (p) => p.permission_set, isRowHeader: true },
          { id: "tickets", header: "Tickets", cell: (p) => p.tickets },
          { id: "pending", header: "Not computed yet", cell: (p) => p.pending },
          { id: "used", header: "Actions used", cell: (p) => `${count((p.actions || []).length, "action")} of ${count((p.services || []).length, "service")}` },
          { id: "granted", header: "Granted", cell: (p) => (p.granted > 0 ? `${p.granted}${p.all ? " (all)" : ""}` : "—") },
          { id: "ratio", header: "Used", cell: percent },
          {
            id: "policy",
            header: "Policy of the actions used",
            cell: (p) =>
              p.policy ? (
                <ExpandableSection headerText={(p.actions || []).join(", ")}>
                  <PolicyBlock policy={p.policy} testid={`usage-policy-${p.permission_set}`} />
                </ExpandableSection>
              ) : (
                "—"
              ),
          },
        ]}
      />
    </SpaceBetween>
  );
}
