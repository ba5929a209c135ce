import { useState } from "react";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import DatePicker from "@cloudscape-design/components/date-picker";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Multiselect from "@cloudscape-design/components/multiselect";
import SegmentedControl from "@cloudscape-design/components/segmented-control";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";
import TimeInput from "@cloudscape-design/components/time-input";
import Toggle from "@cloudscape-design/components/toggle";

// A Go duration in hours and minutes: "30m", "1h30m", "8h".
const DURATION = /^(\d+h)?(\d+m)?$/;
const EMPTY = { permissionSet: "", accounts: [], start: "now", date: "", time: "", duration: "1h", reason: "", beneficiaries: "", breakGlass: false };
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const option = (value) => (value ? { label: value, value } : null);

// accountOption labels an account with its registry name beside its id.
function accountOption(id, names) {
  const a = names[id];
  return { label: a && a.name ? `${a.name} (${id})` : id, value: id };
}

function today() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

// laterStart turns the local date and time into RFC 3339 UTC without
// fractions ("2026-12-03T10:00:00Z"), or null while they are incomplete.
function laterStart({ date, time }) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}$/.test(time)) return null;
  const d = new Date(`${date}T${time}:00`); // no offset: local time
  return isNaN(d) ? null : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// check returns the message of each field that is not valid.
function check(f) {
  const errors = {};
  if (!f.permissionSet) errors.permissionSet = "Choose a permission set.";
  if (f.accounts.length === 0) errors.account = f.breakGlass ? "Choose an account." : "Choose one account or more.";
  if (!f.breakGlass && f.start === "later" && !laterStart(f)) errors.start = "Choose a date and a time.";
  const d = f.duration.trim();
  if (d === "" || !DURATION.test(d)) errors.duration = "Use hours and minutes, like 1h30m.";
  if (!f.reason.trim()) errors.reason = "Say why you need access.";
  return errors;
}

function body(f) {
  if (f.breakGlass) {
    // Break-glass: for me, from now (the server refuses anything else).
    return { account_id: f.accounts[0], permission_set: f.permissionSet, start: "now", duration: f.duration.trim(), reason: f.reason.trim(), break_glass: true };
  }
  // Several accounts: one ticket each, all created or none (docs/multi-account.md).
  const where = f.accounts.length > 1 ? { accounts: f.accounts } : { account_id: f.accounts[0] };
  return {
    ...where,
    permission_set: f.permissionSet,
    beneficiaries: f.beneficiaries
      .split(/[\n,]/)
      .map((b) => b.trim())
      .filter(Boolean),
    start: f.start === "later" ? laterStart(f) : "now",
    duration: f.duration.trim(),
    reason: f.reason.trim(),
  };
}

// RequestForm files a ticket for what GET /me says the caller may request;
// a person a break-glass rule names may switch to Break-glass, which
// offers what GET /me says they may break glass into, and grants it at
// once, without approval. Several accounts make one request, a ticket per
// account. onCreated gets the new ticket (the first of several). accounts
// are the registry's accounts by id, for their names.
export default function RequestForm({ me, accounts = {}, client, onCreated, onExpired }) {
  const glass = me.may_break_glass || [];
  const [f, setF] = useState(EMPTY);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const choices = f.breakGlass ? glass : me.may_request || [];

  if (choices.length === 0 && glass.length === 0) {
    return (
      <Container header={<Header variant="h1">Request access</Header>}>
        <Box data-testid="request-none">You may not request any access. Ask an administrator.</Box>
      </Container>
    );
  }

  const set = (patch) => setF((old) => ({ ...old, ...patch }));
  const errors = tried ? check(f) : {};
  const chosen = choices.find((c) => c.permission_set === f.permissionSet);

  async function submit(e) {
    e.preventDefault();
    setTried(true);
    if (busy || Object.keys(check(f)).length > 0) return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await client.create(body(f)));
    } catch (err) {
      setBusy(false);
      if (err.status === 401) onExpired();
      else setError(err.message);
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      <Form
        header={<Header variant="h1">Request access</Header>}
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" href="#/mine">
              Cancel
            </Button>
            <Button variant="primary" data-testid="request-submit" loading={busy}>
              {f.breakGlass ? "Break glass: grant access now" : "Request access"}
            </Button>
          </SpaceBetween>
        }
      >
        <Container header={<Header variant="h2">Access</Header>}>
          <SpaceBetween size="l">
            {glass.length > 0 && (
              <FormField label="Break-glass" description="For emergencies only.">
                <Toggle
                  data-testid="request-break-glass"
                  checked={f.breakGlass}
                  onChange={({ detail }) => set({ breakGlass: detail.checked, permissionSet: "", accounts: [], start: "now", beneficiaries: "" })}
                >
                  Grant myself access now, without approval
                </Toggle>
              </FormField>
            )}
            {f.breakGlass && (
              <Alert type="warning" header="Break-glass: emergency access" data-testid="request-break-glass-warning">
                You will get this access at once, without anyone approving it. Everyone on the break-glass list is told now,
                the access lasts only a short time, and a second person must review what you did with it; if nobody does in
                time, it is escalated. Use it only when you cannot wait for an approval, and say why in the reason.
              </Alert>
            )}
            <FormField
              label="Permission set"
              errorText={errors.permissionSet}
              description={me.truncated ? "The list may be incomplete." : undefined}
            >
              <Select
                data-testid="request-permission-set"
                selectedOption={option(f.permissionSet)}
                onChange={({ detail }) => set({ permissionSet: detail.selectedOption.value, accounts: [] })}
                options={choices.map((c) => option(c.permission_set))}
                placeholder="Choose a permission set"
                filteringType="auto"
              />
            </FormField>
            {f.breakGlass ? (
              <FormField label="Account" errorText={errors.account}>
                <Select
                  data-testid="request-account"
                  selectedOption={f.accounts.length ? accountOption(f.accounts[0], accounts) : null}
                  onChange={({ detail }) => set({ accounts: [detail.selectedOption.value] })}
                  options={(chosen ? chosen.accounts : []).map((id) => accountOption(id, accounts))}
                  placeholder="Choose an account"
                  filteringType="auto"
                  disabled={!chosen}
                />
              </FormField>
            ) : (
              <FormField
                label="Accounts"
                description="Choose several to ask for the same access in each: one ticket per account, each approved by that account's approvers."
                errorText={errors.account}
              >
                <Multiselect
                  data-testid="request-account"
                  selectedOptions={f.accounts.map((id) => accountOption(id, accounts))}
                  onChange={({ detail }) => set({ accounts: detail.selectedOptions.map((o) => o.value) })}
                  options={(chosen ? chosen.accounts : []).map((id) => accountOption(id, accounts))}
                  placeholder="Choose one account or more"
                  filteringType="auto"
                  disabled={!chosen}
                  keepOpen
                  tokenLimit={5}
                  deselectAriaLabel={(o) => `Remove ${o.label}`}
                  i18nStrings={{ tokenLimitShowMore: "Show more", tokenLimitShowFewer: "Show fewer" }}
                />
              </FormField>
            )}
            {!f.breakGlass && <FormField label="Start">
              <SegmentedControl
                data-testid="request-start"
                label="Start"
                selectedId={f.start}
                onChange={({ detail }) => set({ start: detail.selectedId })}
                options={[
                  { id: "now", text: "Now" },
                  { id: "later", text: "Later" },
                ]}
              />
            </FormField>}
            {!f.breakGlass && f.start === "later" && (
              <FormField label="Start date and time" description={`Your local time (${zone}).`} errorText={errors.start}>
                <SpaceBetween direction="horizontal" size="xs">
                  <DatePicker
                    data-testid="request-start-date"
                    value={f.date}
                    onChange={({ detail }) => set({ date: detail.value })}
                    isDateEnabled={(d) => d >= today()}
                    placeholder="YYYY/MM/DD"
                    i18nStrings={{
                      openCalendarAriaLabel: (d) => (d ? `Choose date, selected date is ${d}` : "Choose date"),
                      previousMonthAriaLabel: "Previous month",
                      nextMonthAriaLabel: "Next month",
                      todayAriaLabel: "Today",
                    }}
                  />
                  <TimeInput
                    data-testid="request-start-time"
                    value={f.time}
                    onChange={({ detail }) => set({ time: detail.value })}
                    format="hh:mm"
                    placeholder="hh:mm"
                    ariaLabel="Start time"
                  />
                </SpaceBetween>
              </FormField>
            )}
            <FormField
              label="Duration"
              description='Hours and minutes, like "30m", "1h30m" or "8h".'
              errorText={errors.duration}
            >
              <Input
                data-testid="request-duration"
                value={f.duration}
                onChange={({ detail }) => set({ duration: detail.value })}
              />
            </FormField>
            <FormField label="Reason" errorText={errors.reason}>
              <Textarea
                data-testid="request-reason"
                value={f.reason}
                onChange={({ detail }) => set({ reason: detail.value })}
                placeholder="What do you need to do, and why?"
                ariaRequired
                rows={3}
              />
            </FormField>
            {me.request_for_others && !f.breakGlass && (
              <FormField
                label={
                  <span>
                    Beneficiaries <i>- optional</i>
                  </span>
                }
                description="Email addresses, one per line. Leave empty to request access for yourself."
              >
                <Textarea
                  data-testid="request-beneficiaries"
                  value={f.beneficiaries}
                  onChange={({ detail }) => set({ beneficiaries: detail.value })}
                  placeholder="name@example.com"
                  rows={3}
                />
              </FormField>
            )}
            {error && (
              <Alert type="error" header={f.breakGlass ? "Could not break glass" : "Could not request access"}>
                <span data-testid="request-error">{error}</span>
              </Alert>
            )}
          </SpaceBetween>
        </Container>
      </Form>
    </form>
  );
}
