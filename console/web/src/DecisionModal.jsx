import { useEffect, useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import FormField from "@cloudscape-design/components/form-field";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";
import { KINDS, alreadyDecided } from "./decided.js";
import { formatDateTime, formatWindow, pendingExtension, role } from "./format.js";

function explanation(kind, t) {
  const ext = pendingExtension(t);
  switch (kind) {
    case "approve":
      return ext
        ? `Approve moving the end of ${t.requester}'s access to ${role(t)} to ${formatDateTime(ext.end)}.`
        : `Approve ${t.requester}'s request for ${role(t)}. Access starts once every approval stage is complete.`;
    case "reject":
      return ext
        ? `Reject the extension of ${t.requester}'s access to ${role(t)}. The ticket keeps its current end.`
        : `Reject ${t.requester}'s request for ${role(t)}. Tell them why in the comment.`;
    case "cancel":
      return `Withdraw your request for ${role(t)}. Nobody can approve it afterwards.`;
    case "review":
      return `Record that you reviewed what ${t.requester}'s access to ${role(t)} did (its activity). Say what you checked in the comment.`;
    default:
      return "Every session already issued for this ticket is cut now, and no new one can be made.";
  }
}

// DecisionModal asks for a comment and runs approve, reject, terminate,
// done, cancel or review.
// decision is {kind, ticket} or null; client is the bound API.
export default function DecisionModal({ decision, client, onDismiss, onDone, onExpired, terminateReasonRequired = true }) {
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [already, setAlready] = useState(null);

  useEffect(() => {
    setComment("");
    setBusy(false);
    setError(null);
    setAlready(null);
  }, [decision]);

  if (!decision) return null;
  const { kind, ticket } = decision;
  const { verb } = KINDS[kind];
  // A rejection tells the requester why; a termination says why in the
  // record (required unless web.terminate_reason is optional).
  const required = kind === "reject" || (kind === "terminate" && terminateReasonRequired);
  const missing = required && comment.trim() === "";

  async function submit() {
    setBusy(true);
    setError(null);
    setAlready(null);
    try {
      // The revision shown here is the one decided (approve and reject).
      const updated = await client[kind](ticket.id, comment.trim(), ticket.revision);
      setBusy(false);
      onDone(kind, ticket, updated);
    } catch (e) {
      if (e.status === 401) return onExpired();
      // A decision that lost a race is not an error of the reader's.
      setAlready(await alreadyDecided(client, ticket, e));
      setBusy(false);
      setError(e.message);
    }
  }

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
            <Button variant="primary" data-testid="confirm" ariaLabel={`${verb} ticket ${ticket.id}`} loading={busy} disabled={missing} onClick={submit}>
              {verb}
            </Button>
          </SpaceBetween>
        </Box>
      }
    >
      <SpaceBetween size="m">
        <Box variant="p">{explanation(kind, ticket)}</Box>
        <Box variant="small">
          Revision {ticket.revision} · Beneficiaries: {(ticket.beneficiaries || []).join(", ")} · Window: {formatWindow(ticket.start, ticket.end)}
          {ticket.reason ? ` · Reason: ${ticket.reason}` : ""}
        </Box>
        <FormField
          label={
            required ? (
              "Comment"
            ) : (
              <span>
                Comment <i>- optional</i>
              </span>
            )
          }
          errorText={missing ? `A comment is required to ${kind}.` : undefined}
        >
          <div data-testid="comment">
            <Textarea
              value={comment}
              onChange={({ detail }) => setComment(detail.value)}
              placeholder={kind === "reject" ? "Why is this request rejected?" : kind === "terminate" ? "Why is this access cut now?" : "Add a comment"}
              ariaRequired={required}
              rows={3}
            />
          </div>
        </FormField>
        {error && already && (
          <Alert type="info" header="Already decided by someone else">
            <span data-testid="modal-already">{already}</span>
            <Box variant="small" display="block">
              <span data-testid="modal-error">{error}</span>
            </Box>
          </Alert>
        )}
        {error && !already && (
          <Alert type="error" header={`Could not ${verb.toLowerCase()} the ticket`}>
            <span data-testid="modal-error">{error}</span>
          </Alert>
        )}
      </SpaceBetween>
    </Modal>
  );
}
