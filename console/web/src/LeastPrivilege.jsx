import { useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import CopyToClipboard from "@cloudscape-design/components/copy-to-clipboard";
import Header from "@cloudscape-design/components/header";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import SpaceBetween from "@cloudscape-design/components/space-between";

const list = (xs) => (xs && xs.length ? xs.join(", ") : "—");

// PolicyBlock shows a policy document with a copy button.
export function PolicyBlock({ policy, testid }) {
  if (!policy) return null;
  return (
    <SpaceBetween size="xxs">
      <span data-testid={`${testid}-copy`}>
        <CopyToClipboard
          variant="button"
          textToCopy={policy}
          copyButtonText="Copy policy"
          copySuccessText="Policy copied"
          copyErrorText="Could not copy the policy"
        />
      </span>
      <Box variant="code">
        <pre data-testid={testid} style={{ margin: 0, whiteSpace: "pre-wrap" }}>
          {policy}
        </pre>
      </Box>
    </SpaceBetween>
  );
}

// LeastPrivilege loads the ticket's least-privilege hint on demand (it
// reads CloudTrail and IAM): the actions its sessions used against what
// its permission set grants, and a policy with just those actions.
export default function LeastPrivilege({ id, client, onExpired }) {
  const [state, setState] = useState({ busy: false, hint: null, error: null });

  async function load() {
    setState((s) => ({ ...s, busy: true, error: null }));
    try {
      setState({ busy: false, hint: await client.hint(id), error: null });
    } catch (e) {
      if (e.status === 401) return onExpired();
      setState((s) => ({ ...s, busy: false, error: e.message }));
    }
  }

  const h = state.hint;
  const g = h && h.granted;
  return (
    <div data-testid="least-privilege">
      <SpaceBetween size="xs">
        <Header
          variant="h3"
          description="The actions the ticket's sessions used (CloudTrail) against what its permission set grants (counted over AWS API operations: an approximation)."
          actions={
            <Button data-testid="load-hint" loading={state.busy} onClick={load}>
              Compare
            </Button>
          }
        >
          Least privilege
        </Header>
        {state.error && (
          <Alert type="error" header="Could not compute the hint">
            <span data-testid="hint-error">{state.error}</span>
          </Alert>
        )}
        {h && (
          <SpaceBetween size="s">
            <Box data-testid="hint-summary">{h.summary}</Box>
            <KeyValuePairs
              columns={2}
              items={[
                { label: "Actions used", value: <span data-testid="hint-actions">{list(h.actions)}</span> },
                { label: "Refused", value: <span data-testid="hint-denied">{list(h.denied)}</span> },
                { label: "Granted", value: g ? `${g.actions} actions of ${g.services} services${g.all ? " (all)" : ""}` : h.grant_error || "—" },
                { label: "Policies", value: g ? list(g.policies) : "—" },
              ]}
            />
            <PolicyBlock policy={h.policy} testid="hint-policy" />
          </SpaceBetween>
        )}
      </SpaceBetween>
    </div>
  );
}
