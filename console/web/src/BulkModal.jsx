import { useEffect, useState } from "react";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import FormField from "@cloudscape-design/components/form-field";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import Textarea from "@cloudscape-design/components/textarea";
import { alreadyDecided } from "./decided.js";

const VERB = { approve: "Approve", reject: "Reject" };
const PAST = { approve: "approved", reject: "rejected" };

// BulkModal approves or rejects the selected tickets with one comment:
// the server decides each on its own (the revision each row showed), and
// each ticket's outcome is shown: decided, already decided by someone
// else, or the server's refusal.
export default function BulkModal({ bulk, client, onClose, onExpired }) {
  const [comment, setComment] = useState("");
  const [results, setResults] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setComment("");
    setResults(null);
    setBusy(false);
  }, [bulk]);
  if (!bulk) return null;
  const { kind, tickets } = bulk;
  const missing = kind === "reject" && comment.trim() === "";

  async function run() {
    setBusy(true);
    const out = [];
    for (const t of tickets) {
      try {
        await client[kind](t.id, comment.trim(), t.revision);
        out.push({ id: t.id, type: "success", text: PAST[kind] });
      } catch (e) {
        if (e.status === 401) return onExpired();
        const already = await alreadyDecided(client, t, e);
        out.push(already ? { id: t.id, type: "info", text: already } : { id: t.id, type: "error", text: e.message });
      }
      setResults([...out]);
    }
    setBusy(false);
  }

  const done = results && results.length === tickets.length && !busy;
  return (
    <Modal
      visible
      onDismiss={() => !busy && onClose(!!results)}
      header={`${VERB[kind]} ${tickets.length} ticket${tickets.length === 1 ? "" : "s"}`}
      closeAriaLabel="Close"
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            {done ? (
              <Button variant="primary" data-testid="bulk-close" onClick={() => onClose(true)}>
                Close
              </Button>
            ) : (
              <>
                <Button variant="link" disabled={busy} onClick={() => onClose(false)}>
                  Cancel
                </Button>
                <Button variant="primary" data-testid="bulk-confirm" loading={busy} disabled={missing} onClick={run}>
                  {`${VERB[kind]} ${tickets.length}`}
                </Button>
              </>
            )}
          </SpaceBetween>
        </Box>
      }
    >
      <SpaceBetween size="m">
        <Box variant="p">
          {kind === "approve"
            ? "Each ticket is approved on its own, as the revision shown; the server may refuse some."
            : "Each ticket is rejected on its own with this comment, which its requester sees."}
        </Box>
        <FormField label={kind === "reject" ? "Comment" : <span>Comment <i>- optional</i></span>} errorText={missing ? "A comment is required to reject." : undefined}>
          <div data-testid="bulk-comment">
            <Textarea value={comment} disabled={!!results} onChange={({ detail }) => setComment(detail.value)} ariaRequired={kind === "reject"} rows={2} />
          </div>
        </FormField>
        <Table
          variant="embedded"
          ariaLabels={{ tableLabel: "Outcome per ticket" }}
          items={tickets.map((t) => ({ id: t.id, result: results && results.find((r) => r.id === t.id) }))}
          trackBy="id"
          columnDefinitions={[
            { id: "id", header: "Ticket", cell: (r) => r.id, isRowHeader: true },
            {
              id: "outcome",
              header: "Outcome",
              cell: (r) =>
                r.result ? (
                  <StatusIndicator type={r.result.type}>
                    <span data-testid={`bulk-result-${r.id}`}>{r.result.text}</span>
                  </StatusIndicator>
                ) : (
                  <span>{busy ? "waiting" : "—"}</span>
                ),
            },
          ]}
        />
      </SpaceBetween>
    </Modal>
  );
}
