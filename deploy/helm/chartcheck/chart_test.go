package chartcheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

var chart = filepath.Join("..", "jit")

// helmBin is the helm v4 binary: $HELM, or helm on the PATH.
func helmBin(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	h, err := exec.LookPath("helm")
	if err != nil {
		t.Fatal("no helm binary: run `make helm-check`, which installs helm v4 and runs this test")
	}
	return h
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	err := cmd.Run()
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

func TestHelmVersion(t *testing.T) {
	out, err := helm(t, "version", "--short")
	if err != nil || !strings.HasPrefix(out, "v4.") {
		t.Fatalf("helm version = %q, %v; want helm v4", out, err)
	}
}

func TestLint(t *testing.T) {
	if out, err := helm(t, "lint", "--strict", chart, "--set", "secrets.redisUrl=redis://redis:6379/0"); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
}

// objects renders the chart with the --set values and decodes every
// object strictly into its API type.
func objects(t *testing.T, set ...string) map[string]any {
	t.Helper()
	args := []string{"template", "jit", chart}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	objs := map[string]any{}
	for _, doc := range strings.Split(out, "\n---") {
		doc = strings.TrimSpace(doc)
		if doc == "" || strings.Trim(doc, "-") == "" {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct{ Name string }
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("rendered document does not parse: %v\n%s", err, doc)
		}
		var obj any
		switch meta.APIVersion + "/" + meta.Kind {
		case "apps/v1/Deployment":
			obj = &appsv1.Deployment{}
		case "v1/Service":
			obj = &corev1.Service{}
		case "v1/ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1/Secret":
			obj = &corev1.Secret{}
		case "v1/ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "policy/v1/PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		case "monitoring.coreos.com/v1/ServiceMonitor":
			obj = &serviceMonitor{}
		default:
			t.Fatalf("unexpected object %s %s", meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("%s %s does not match its API type: %v", meta.Kind, meta.Metadata.Name, err)
		}
		objs[meta.Kind+"/"+meta.Metadata.Name] = obj
	}
	return objs
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// the chart writes; no other field is accepted.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func TestRenderedObjects(t *testing.T) {
	objs := objects(t, "secrets.redisUrl=redis://redis:6379/0", "secrets.auditKey=k")
	for _, name := range []string{"ConfigMap/jit", "Secret/jit", "ServiceAccount/jit", "Service/jit", "Service/jit-worker-metrics",
		"Deployment/jit-server", "Deployment/jit-worker", "PodDisruptionBudget/jit-server", "PodDisruptionBudget/jit-worker"} {
		if objs[name] == nil {
			t.Errorf("no %s among %d objects", name, len(objs))
		}
	}
	if _, ok := objs["ServiceMonitor/jit"]; ok {
		t.Error("ServiceMonitor rendered though metrics.serviceMonitor.enabled is false")
	}
	cm, _ := objs["ConfigMap/jit"].(*corev1.ConfigMap)
	if cm == nil || !strings.Contains(cm.Data["jit.yaml"], "management_role: jit-management") {
		t.Errorf("ConfigMap jit.yaml = %v", cm)
	}
	for _, name := range []string{"Deployment/jit-server", "Deployment/jit-worker"} {
		d, _ := objs[name].(*appsv1.Deployment)
		if d == nil {
			continue
		}
		pod := d.Spec.Template.Spec
		if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: pod may run as root", name)
		}
		c := pod.Containers[0]
		if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: container root filesystem writable or privilege escalation allowed", name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s: no resource requests", name)
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			t.Errorf("%s: no liveness or readiness probe", name)
		}
		env := map[string]bool{}
		for _, e := range c.Env {
			env[e.Name] = true
			if e.Name == "JIT_REDIS_URL" && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				t.Errorf("%s: JIT_REDIS_URL not from the Secret", name)
			}
		}
		if !env["JIT_CONFIG"] || !env["JIT_REDIS_URL"] || !env["JIT_AUDIT_KEY"] {
			t.Errorf("%s: env %v lacks JIT_CONFIG, JIT_REDIS_URL or JIT_AUDIT_KEY", name, env)
		}
	}
	if d, _ := objs["Deployment/jit-server"].(*appsv1.Deployment); d != nil {
		c := d.Spec.Template.Spec.Containers[0]
		if got := c.LivenessProbe.HTTPGet; got == nil || got.Path != "/healthz" {
			t.Errorf("server liveness probe = %+v, want GET /healthz", got)
		}
		if got := c.ReadinessProbe.HTTPGet; got == nil || got.Path != "/readyz" {
			t.Errorf("server readiness probe = %+v, want GET /readyz", got)
		}
	}
}

func TestServiceMonitorAndExistingSecret(t *testing.T) {
	objs := objects(t, "existingSecret=mine", "metrics.serviceMonitor.enabled=true")
	if _, ok := objs["Secret/jit"]; ok {
		t.Error("Secret rendered though existingSecret is set")
	}
	sm, _ := objs["ServiceMonitor/jit"].(*serviceMonitor)
	if sm == nil || len(sm.Spec.Endpoints) != 2 {
		t.Fatalf("ServiceMonitor = %+v, want endpoints for server and worker", sm)
	}
	d := objs["Deployment/jit-server"].(*appsv1.Deployment)
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name != "mine" {
			t.Errorf("%s from secret %s, want mine", e.Name, e.ValueFrom.SecretKeyRef.Name)
		}
	}
}

func TestRedisURLRequired(t *testing.T) {
	out, err := helm(t, "template", "jit", chart)
	if err == nil || !strings.Contains(out, "secrets.redisUrl is required") {
		t.Fatalf("helm template without redisUrl: %v\n%s", err, out)
	}
}
