{{/* Names and labels. */}}
{{- define "k8s-debug-mcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "k8s-debug-mcp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "k8s-debug-mcp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "k8s-debug-mcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "k8s-debug-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "k8s-debug-mcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "k8s-debug-mcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "k8s-debug-mcp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "k8s-debug-mcp.tokenSecretName" -}}
{{- default (printf "%s-token" (include "k8s-debug-mcp.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{- define "k8s-debug-mcp.ownerKeySecretName" -}}
{{- default (printf "%s-owner-key" (include "k8s-debug-mcp.fullname" .)) .Values.ownerKey.existingSecret }}
{{- end }}

{{/* Cluster-scoped objects carry the release namespace: two releases of one name never clash. */}}
{{- define "k8s-debug-mcp.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "k8s-debug-mcp.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The namespaces a namespace-scoped install covers: rbac.namespaces or the release namespace. */}}
{{- define "k8s-debug-mcp.namespaces" -}}
{{- $list := .Values.rbac.namespaces | default (list .Release.Namespace) }}
{{- join "," (uniq $list) }}
{{- end }}

{{/*
The RBAC rules of a preset. read-only: what the read tools call (pods, logs, events, the
workloads that own pods, a namespace's Pod Security labels). debugger: plus what the write
tools call (ephemeral debug containers, exec, pod copies and their cleanup).
*/}}
{{- define "k8s-debug-mcp.rules" -}}
{{- if not (has .Values.rbac.preset (list "read-only" "debugger" "team")) }}
{{- fail (printf "rbac.preset must be read-only, debugger or team, not %q" .Values.rbac.preset) }}
{{- end }}
- apiGroups: [""]
  resources: ["pods", "pods/log", "events"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get"]
- apiGroups: ["apps"]
  resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["batch"]
  resources: ["jobs", "cronjobs"]
  verbs: ["get", "list", "watch"]
{{- if eq .Values.rbac.preset "debugger" }}
- apiGroups: [""]
  resources: ["pods/ephemeralcontainers"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["create", "get"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create", "delete"]
{{- end }}
{{- with .Values.rbac.extraRules }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Team mode: callers' own tokens, impersonated (rbac.preset=team). */}}
{{- define "k8s-debug-mcp.team" -}}
{{- if eq .Values.rbac.preset "team" }}true{{ end }}
{{- end }}

{{/* Several servers (replicas, or team mode): used plan ids in ConfigMaps, stateless HTTP. */}}
{{- define "k8s-debug-mcp.shared" -}}
{{- if or (include "k8s-debug-mcp.team" .) (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{- define "k8s-debug-mcp.publicUrl" -}}
{{- .Values.team.publicUrl | default (printf "http://%s.%s.svc:%v/mcp" (include "k8s-debug-mcp.fullname" .) .Release.Namespace .Values.service.port) }}
{{- end }}
