import { useCallback, useEffect, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import Textarea from "@cloudscape-design/components/textarea";
import { relative, zoned } from "./format.js";

const MAX_MINUTES = 30 * 1440;

function minutes(s) {
  const m = s.match(/^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/);
  if (!m) return 0;
  return (+m[1] || 0) * 1440 + (+m[2] || 0) * 60 + (+m[3] || 0);
}

function state(p) {
  if (p.revoked_at) return <StatusIndicator type="stopped">{`Revoked by ${p.revoked_by}`}</StatusIndicator>;
  if (new Date(p.end) <= new Date()) return <StatusIndicator type="stopped">Ended</StatusIndicator>;
  if (new Date(p.start) > new Date()) return <StatusIndicator type="pending">Not yet</StatusIndicator>;
  return <StatusIndicator type="success">In force</StatusIndicator>;
}

// PreApprovals lists the pre-approvals the reader made or that are for
// them, revokes the reader's own, and pre-approves a person's tickets for
// an account and permission set for a while (jit preapprove).
export default function PreApprovals({ client, email, onFailed, flash }) {
  const [items, setItems] = useState(null);
  const [who, setWho] = useState("");
  const [account, setAccount] = useState("");
  const [ps, setPs] = useState("");
  const [duration, setDuration] = useState("7d");
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let stale = false;
    client.preApprovals().then(
      (ps) => !stale && setItems(ps),
      (e) => {
        if (stale) return;
        setItems([]);
        onFailed(e);
      }
    );
    return () => {
      stale = true;
    };
  }, [client, reload, onFailed]);

  const mins = minutes(duration.trim());
  const badDuration = mins <= 0 || mins > MAX_MINUTES;
  const incomplete = !who.trim() || !account.trim() || !ps.trim() || !reason.trim();
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const made = await client.preApprove({
        for: who.trim(),
        account_id: account.trim(),
        permission_set: ps.trim(),
        duration: `${mins}m`,
        reason: reason.trim(),
      });
      flash("success", <span data-testid="flash-success">{`${made.for} is pre-approved for ${made.permission_set} in ${made.account_id} until ${zoned(made.end)}.`}</span>);
      setWho("");
      setReason("");
      setReload((n) => n + 1);
    } catch (e) {
      if (e.status === 401) onFailed(e);
      else setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const revoke = useCallback(
    async (p) => {
      try {
        await client.revokePreApproval(p.id);
        flash("success", <span data-testid="flash-success">{`Pre-approval of ${p.for} revoked. Tickets it approved keep their approval.`}</span>);
        setReload((n) => n + 1);
      } catch (e) {
        onFailed(e);
      }
    },
    [client, flash, onFailed]
  );

  const mine = (p) => p.by.toLowerCase() === (email || "").toLowerCase();
  const live = (p) => !p.revoked_at && new Date(p.end) > new Date();
  return (
    <SpaceBetween size="l">
      <Table
        variant="full-page"
        header={
          <Header variant="awsui-h1-sticky" counter={items ? `(${items.length})` : undefined} description="Tickets a person files for themself inside a pre-approval's window are approved at once, with the approval of whoever made it.">
            Pre-approvals
          </Header>
        }
        ariaLabels={{ tableLabel: "Pre-approvals" }}
        loading={items === null}
        loadingText="Loading pre-approvals"
        items={items || []}
        trackBy="id"
        empty={<Box textAlign="center" padding="l"><b>No pre-approvals.</b></Box>}
        columnDefinitions={[
          { id: "for", header: "For", cell: (x) => <span data-testid={`preapproval-${x.id}`}>{x.for}</span>, isRowHeader: true },
          { id: "by", header: "By", cell: (x) => x.by },
          { id: "account", header: "Account", cell: (x) => x.account_id },
          { id: "ps", header: "Permission set", cell: (x) => x.permission_set },
          { id: "start", header: "From", cell: (x) => <span title={zoned(x.start)}>{relative(x.start)}</span> },
          { id: "end", header: "Until", cell: (x) => <span title={zoned(x.end)}>{relative(x.end)}</span> },
          { id: "reason", header: "Reason", cell: (x) => x.reason },
          { id: "state", header: "State", cell: (x) => state(x) },
          {
            id: "actions",
            header: "Actions",
            cell: (x) =>
              mine(x) && live(x) ? (
                <Button data-testid={`revoke-preapproval-${x.id}`} ariaLabel={`Revoke the pre-approval of ${x.for}`} onClick={() => revoke(x)}>
                  Revoke
                </Button>
              ) : null,
          },
        ]}
      />
      <Container header={<Header variant="h2" description="You must approve that account and permission set under the rules in force. At most 30 days.">Pre-approve someone</Header>}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!badDuration && !incomplete && !busy) create();
          }}
        >
          <SpaceBetween size="m">
            <FormField label="Person" description="Their email.">
              <div data-testid="preapprove-for">
                <Input type="email" value={who} onChange={({ detail }) => setWho(detail.value)} ariaLabel="Person" />
              </div>
            </FormField>
            <FormField label="Account" description="Its 12-digit id.">
              <div data-testid="preapprove-account">
                <Input value={account} onChange={({ detail }) => setAccount(detail.value)} ariaLabel="Account" />
              </div>
            </FormField>
            <FormField label="Permission set">
              <div data-testid="preapprove-permission-set">
                <Input value={ps} onChange={({ detail }) => setPs(detail.value)} ariaLabel="Permission set" />
              </div>
            </FormField>
            <FormField label="For how long" description="From now, like 7d, 8h or 1d12h; at most 30d." errorText={badDuration ? "Use days, hours and minutes, up to 30d." : undefined}>
              <div data-testid="preapprove-duration">
                <Input value={duration} onChange={({ detail }) => setDuration(detail.value)} ariaLabel="For how long" />
              </div>
            </FormField>
            <FormField label="Reason">
              <div data-testid="preapprove-reason">
                <Textarea value={reason} onChange={({ detail }) => setReason(detail.value)} ariaLabel="Reason" rows={2} />
              </div>
            </FormField>
            {error && (
              <Alert type="error" header="Could not pre-approve">
                <span data-testid="preapprove-error">{error}</span>
              </Alert>
            )}
            <Button variant="primary" data-testid="preapprove-submit" loading={busy} disabled={badDuration || incomplete}>
              Pre-approve
            </Button>
          </SpaceBetween>
        </form>
      </Container>
    </SpaceBetween>
  );
}
