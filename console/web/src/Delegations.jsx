import { useCallback, useEffect, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { relative, zoned } from "./format.js";

const DURATION = /^(\d+d)?(\d+h)?(\d+m)?$/;

function durationMs(s) {
  const m = s.match(/^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/);
  if (!m) return 0;
  return ((+m[1] || 0) * 1440 + (+m[2] || 0) * 60 + (+m[3] || 0)) * 60000;
}

// Delegations lists the delegations the reader made or received, ends
// one, and delegates the reader's approvals to someone for a while (jit
// delegate).
export default function Delegations({ client, email, onFailed, flash }) {
  const [items, setItems] = useState(null);
  const [to, setTo] = useState("");
  const [duration, setDuration] = useState("7d");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let stale = false;
    client.delegations().then(
      (ds) => !stale && setItems(ds),
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

  const d = duration.trim();
  const bad = d === "" || !DURATION.test(d) || durationMs(d) <= 0;
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const made = await client.delegate({ to: to.trim(), start: "now", end: new Date(Date.now() + durationMs(d)).toISOString() });
      flash("success", <span data-testid="flash-success">{`Your approvals go to ${made.to} until ${zoned(made.end)}.`}</span>);
      setTo("");
      setReload((n) => n + 1);
    } catch (e) {
      if (e.status === 401) onFailed(e);
      else setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const end = useCallback(
    async (del) => {
      try {
        await client.endDelegation(del.id);
        flash("success", <span data-testid="flash-success">{`Delegation to ${del.to} ended.`}</span>);
        setReload((n) => n + 1);
      } catch (e) {
        onFailed(e);
      }
    },
    [client, flash, onFailed]
  );

  const mine = (del) => del.from.toLowerCase() === (email || "").toLowerCase();
  return (
    <SpaceBetween size="l">
      <Table
        variant="full-page"
        header={<Header variant="awsui-h1-sticky" counter={items ? `(${items.length})` : undefined}>My delegations</Header>}
        ariaLabels={{ tableLabel: "My delegations" }}
        loading={items === null}
        loadingText="Loading delegations"
        items={items || []}
        trackBy="id"
        empty={<Box textAlign="center" padding="l"><b>No delegations.</b></Box>}
        columnDefinitions={[
          { id: "from", header: "From", cell: (x) => x.from, isRowHeader: true },
          { id: "to", header: "To", cell: (x) => <span data-testid={`delegation-${x.id}`}>{x.to}</span> },
          { id: "start", header: "From when", cell: (x) => <span title={zoned(x.start)}>{relative(x.start)}</span> },
          { id: "end", header: "Until", cell: (x) => <span title={zoned(x.end)}>{relative(x.end)}</span> },
          {
            id: "actions",
            header: "Actions",
            cell: (x) => (
              <Button data-testid={`end-delegation-${x.id}`} ariaLabel={mine(x) ? `End the delegation to ${x.to}` : `Decline the delegation from ${x.from}`} onClick={() => end(x)}>
                {mine(x) ? "End" : "Decline"}
              </Button>
            ),
          },
        ]}
      />
      <Container header={<Header variant="h2" description="While you are away, someone else decides the tickets the rules name you for.">Delegate my approvals</Header>}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!bad && to.trim() && !busy) create();
          }}
        >
          <SpaceBetween size="m">
            <FormField label="To" description="Their email.">
              <div data-testid="delegate-to">
                <Input type="email" value={to} onChange={({ detail }) => setTo(detail.value)} ariaLabel="Delegate to" />
              </div>
            </FormField>
            <FormField label="For how long" description="From now, like 7d, 8h or 1d12h." errorText={bad ? "Use days, hours and minutes, like 7d or 1d12h." : undefined}>
              <div data-testid="delegate-duration">
                <Input value={duration} onChange={({ detail }) => setDuration(detail.value)} ariaLabel="For how long" />
              </div>
            </FormField>
            {error && (
              <Alert type="error" header="Could not delegate">
                <span data-testid="delegate-error">{error}</span>
              </Alert>
            )}
            <Button variant="primary" data-testid="delegate-submit" loading={busy} disabled={bad || !to.trim()}>
              Delegate
            </Button>
          </SpaceBetween>
        </form>
      </Container>
    </SpaceBetween>
  );
}
