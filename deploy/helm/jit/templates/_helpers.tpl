{{- define "jit.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "jit.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "jit.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "jit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "jit.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "jit.secretName" -}}
{{- default (include "jit.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{- define "jit.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/* The pod's security context: non-root, no privilege, read-only root. */}}
{{- define "jit.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "jit.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* Environment shared by server and worker: secrets and the config path. */}}
{{- define "jit.env" -}}
- name: JIT_CONFIG
  value: /etc/jit/jit.yaml
- name: JIT_REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ include "jit.secretName" . }}, key: redisUrl}
- name: JIT_AUDIT_KEY
  valueFrom:
    secretKeyRef: {name: {{ include "jit.secretName" . }}, key: auditKey, optional: true}
- name: JIT_SMTP_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "jit.secretName" . }}, key: smtpPassword, optional: true}
- name: JIT_SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ include "jit.secretName" . }}, key: slackBotToken, optional: true}
- name: JIT_SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "jit.secretName" . }}, key: slackSigningSecret, optional: true}
{{- end -}}
