import { useEffect, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";
import { formatWindow, role } from "./format.js";

const DURATION = /^(\d+h)?(\d+m)?$/;

// ChangeModal asks for an extension of an active ticket (a later end,
// decided by its approvers) or edits a rejected one and resends it (a new
// revision). change is {kind: "extend" | "edit", ticket} or null.
export default function ChangeModal({ change, client, onDismiss, onDone, onExpired }) {
  const [duration, setDuration] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    setDuration(change && change.kind === "extend" ? "30m" : "");
    setReason(change && change.kind === "edit" ? change.ticket.reason || "" : "");
    setBusy(false);
    setError(null);
  }, [change]);
  if (!change) return null;
  const { kind, ticket } = change;
  const extend = kind === "extend";
  const d = duration.trim();
  const badDuration = (extend || d !== "") && (d === "" || !DURATION.test(d));
  const missingReason = reason.trim() === "";

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const body = extend ? { duration: d, reason: reason.trim() } : { reason: reason.trim(), ...(d ? { duration: d } : {}) };
      const updated = await client[kind](ticket.id, body);
      setBusy(false);
      onDone(kind, ticket, updated);
    } catch (e) {
      setBusy(false);
      if (e.status === 401) onExpired();
      else setError(e.message);
    }
  }

  const verb = extend ? "Ask for more time" : "Edit and resend";
  return (
    <Modal
      visible
      onDismiss={onDismiss}
      header={`${verb}: ticket ${ticket.id}`}
      closeAriaLabel="Close"
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={onDismiss}>
              Cancel
            </Button>
            <Button variant="primary" data-testid="change-confirm" ariaLabel={`${verb} ticket ${ticket.id}`} loading={busy} disabled={badDuration || missingReason} onClick={submit}>
              {extend ? "Ask" : "Resend"}
            </Button>
          </SpaceBetween>
        </Box>
      }
    >
      <SpaceBetween size="m">
        <Box variant="p">
          {extend
            ? `Move the end of your access to ${role(ticket)} later; its approvers decide, and the ticket stays active meanwhile.`
            : `Change your rejected request for ${role(ticket)} and send it again as revision ${ticket.revision + 1}, with no approvals.`}
        </Box>
        <Box variant="small">Window now: {formatWindow(ticket.start, ticket.end)}</Box>
        <FormField
          label={extend ? "More time" : <span>Duration <i>- optional</i></span>}
          description={extend ? "Counted from the current end, like 30m or 1h30m." : "From the start, like 1h; empty keeps the window."}
          errorText={badDuration ? "Use hours and minutes, like 1h30m." : undefined}
        >
          <div data-testid="change-duration">
            <Input value={duration} onChange={({ detail }) => setDuration(detail.value)} ariaLabel="Duration" />
          </div>
        </FormField>
        <FormField label="Reason" errorText={missingReason ? "Say why." : undefined}>
          <div data-testid="change-reason">
            <Textarea value={reason} onChange={({ detail }) => setReason(detail.value)} ariaRequired rows={3} />
          </div>
        </FormField>
        {error && (
          <Alert type="error" header={`Could not ${extend ? "ask for more time" : "resend the ticket"}`}>
            <span data-testid="change-error">{error}</span>
          </Alert>
        )}
      </SpaceBetween>
    </Modal>
  );
}
