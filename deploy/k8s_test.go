package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// built is one overlay built by kustomize, each object decoded strictly
// into its k8s.io/api type.
type built struct {
	configMaps  []*corev1.ConfigMap
	services    []*corev1.Service
	deployments []*appsv1.Deployment
	cronJobs    []*batchv1.CronJob
	jobs        []*batchv1.Job
	accounts    []*corev1.ServiceAccount
	monitors    []*monitoringv1.ServiceMonitor
}

// decodeStrict decodes one object (JSON) into a T as the API server
// would: field names case-sensitive, no unknown or duplicate field
// (sigs.k8s.io/yaml's UnmarshalStrict would accept "readonly" for
// readOnly, as encoding/json does).
func decodeStrict[T any](doc []byte) (*T, error) {
	v := new(T)
	strict, err := kjson.UnmarshalStrict(doc, v)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(strict...); err != nil {
		return nil, err
	}
	return v, nil
}

// into returns a decoder of one object (decodeStrict) that appends it to
// *list.
func into[T any](list *[]*T) func(doc []byte) error {
	return func(doc []byte) error {
		v, err := decodeStrict[T](doc)
		if err != nil {
			return err
		}
		*list = append(*list, v)
		return nil
	}
}

// counts is how many workload objects of each kind an overlay builds.
type counts struct{ Deployments, Services, CronJobs, Jobs, Monitors int }

func (b *built) counts() counts {
	return counts{len(b.deployments), len(b.services), len(b.cronJobs), len(b.jobs), len(b.monitors)}
}

// buildOverlay runs kustomize (its Go API, on disk) over dir and decodes
// every object it outputs; a kind the test does not know is an error.
func buildOverlay(dir string) (*built, error) {
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	b := &built{}
	// Each kind the overlays build, decoded into its k8s.io/api type.
	kinds := map[string]func(doc []byte) error{
		"v1 ConfigMap":       into(&b.configMaps),
		"v1 Service":         into(&b.services),
		"v1 ServiceAccount":  into(&b.accounts),
		"apps/v1 Deployment": into(&b.deployments),
		"batch/v1 CronJob":   into(&b.cronJobs),
		"batch/v1 Job":       into(&b.jobs),
		"monitoring.coreos.com/v1 ServiceMonitor": into(&b.monitors),
	}
	for _, r := range rm.Resources() {
		doc, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		decode, ok := kinds[r.GetApiVersion()+" "+r.GetKind()]
		if !ok {
			err = fmt.Errorf("no type for %s %s", r.GetApiVersion(), r.GetKind())
		} else {
			err = decode(doc)
		}
		if err != nil {
			return nil, fmt.Errorf("%s in %s: %w", r.CurId(), dir, err)
		}
	}
	return b, nil
}

// checkPod checks what every ksbfolio pod needs: non-root, a read-only
// root filesystem with /tmp writable, the built ConfigMap mounted at
// /etc/ksbfolio, credentials only from Secrets, the ServiceAccount built.
func checkPod(t *testing.T, where string, spec corev1.PodSpec, b *built) {
	t.Helper()
	if len(b.configMaps) != 1 || len(b.accounts) != 1 {
		t.Fatalf("%s: %d ConfigMaps, %d ServiceAccounts, want 1 each", where, len(b.configMaps), len(b.accounts))
	}
	if spec.ServiceAccountName != b.accounts[0].Name {
		t.Errorf("%s: service account %q, built %q", where, spec.ServiceAccountName, b.accounts[0].Name)
	}
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: pod does not run as a non-root user", where)
	}
	mounts := map[string]string{}
	for _, v := range spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			mounts[v.Name] = "configmap:" + v.ConfigMap.Name
		case v.EmptyDir != nil:
			mounts[v.Name] = "emptydir"
		}
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers", where, len(spec.Containers))
	}
	c := spec.Containers[0]
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: container root filesystem not read-only or privilege escalation allowed", where)
	}
	at := map[string]string{}
	for _, m := range c.VolumeMounts {
		at[m.MountPath] = mounts[m.Name]
	}
	if at["/etc/ksbfolio"] != "configmap:"+b.configMaps[0].Name {
		t.Errorf("%s: /etc/ksbfolio is %q, want the built ConfigMap %s", where, at["/etc/ksbfolio"], b.configMaps[0].Name)
	}
	if at["/tmp"] != "emptydir" {
		t.Errorf("%s: /tmp is not a writable emptyDir", where)
	}
	if !strings.Contains(strings.Join(c.Args, " "), "-c /etc/ksbfolio/ksbfolio.yaml") {
		t.Errorf("%s: args %q do not read the mounted config", where, c.Args)
	}
	secrets := 0
	for _, e := range c.Env {
		if e.Value != "" && regexp.MustCompile(`(?i)secret|key|token|password`).MatchString(e.Name) {
			t.Errorf("%s: env %s is a literal", where, e.Name)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			secrets++
		}
	}
	if secrets != 2 {
		t.Errorf("%s: %d credentials from Secrets, want 2", where, secrets)
	}
}

// loadConfigMap loads the built ConfigMap's ksbfolio.yaml as ksbfolio would.
func loadConfigMap(t *testing.T, cm *corev1.ConfigMap) *config.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ksbfolio.yaml")
	if err := os.WriteFile(p, []byte(cm.Data["ksbfolio.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p, registry.Default())
	if err != nil {
		t.Fatalf("config of ConfigMap %s: %v", cm.Name, err)
	}
	return cfg
}

// TestKustomizeOverlays builds every overlay and checks what each builds:
// the workloads of its kind and nothing else, a pod that passes checkPod,
// a ConfigMap whose ksbfolio.yaml loads, and what is particular to it.
func TestKustomizeOverlays(t *testing.T) {
	deployment := func(b *built) (string, corev1.PodSpec) { return "Deployment", b.deployments[0].Spec.Template.Spec }
	for _, tc := range []struct {
		overlay string
		want    counts
		pod     func(b *built) (where string, spec corev1.PodSpec)
		check   func(t *testing.T, b *built, cfg *config.Config)
	}{
		{"cronjob", counts{CronJobs: 1},
			func(b *built) (string, corev1.PodSpec) {
				return "CronJob", b.cronJobs[0].Spec.JobTemplate.Spec.Template.Spec
			},
			checkCronJob},
		{"serve", counts{Deployments: 1, Services: 1}, deployment,
			func(t *testing.T, b *built, _ *config.Config) { checkServe(t, b) }},
		// The same with a ServiceMonitor for the Prometheus Operator.
		{"serve-operator", counts{Deployments: 1, Services: 1, Monitors: 1}, deployment,
			func(t *testing.T, b *built, _ *config.Config) { checkServe(t, b); checkServiceMonitor(t, b) }},
		{"indexed-job", counts{Jobs: 1},
			func(b *built) (string, corev1.PodSpec) { return "Job", b.jobs[0].Spec.Template.Spec },
			checkIndexedJob},
	} {
		t.Run(tc.overlay, func(t *testing.T) {
			b, err := buildOverlay(filepath.Join("k8s", "overlays", tc.overlay))
			if err != nil {
				t.Fatal(err)
			}
			if got := b.counts(); got != tc.want {
				t.Fatalf("built %+v, want %+v", got, tc.want)
			}
			where, spec := tc.pod(b)
			checkPod(t, where, spec, b)
			tc.check(t, b, loadConfigMap(t, b.configMaps[0]))
		})
	}
}

// checkCronJob: one apprentice's runs on a schedule, never two at once,
// into S3.
func checkCronJob(t *testing.T, b *built, cfg *config.Config) {
	t.Helper()
	if cj := b.cronJobs[0]; cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrencyPolicy %q", cj.Spec.ConcurrencyPolicy)
	}
	if cfg.Apprentice == nil || !cfg.StoreIsS3() {
		t.Errorf("config: %+v", cfg)
	}
}

// checkServiceMonitor: the ServiceMonitor selects the Service and scrapes
// its metrics port.
func checkServiceMonitor(t *testing.T, b *built) {
	t.Helper()
	m, svc := b.monitors[0], b.services[0]
	if len(m.Spec.Selector.MatchLabels) == 0 {
		t.Fatal("the ServiceMonitor selects every Service")
	}
	for k, v := range m.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, the Service has %v", k, v, svc.Labels)
		}
	}
	if len(m.Spec.Endpoints) != 1 || m.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || m.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("endpoints %+v", m.Spec.Endpoints)
	}
}

// checkServe checks the serve Deployment and its Service: metrics port,
// probes, scrape annotations, a selector that matches the pods, one
// replica.
func checkServe(t *testing.T, b *built) {
	t.Helper()
	d, svc := b.deployments[0], b.services[0]
	pod := d.Spec.Template
	c := pod.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "serve --listen :9464") || !strings.Contains(args, "--schedule") {
		t.Errorf("args %q", args)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9464 || c.Ports[0].Name != "metrics" {
		t.Errorf("ports %+v", c.Ports)
	}
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "metrics" {
			t.Errorf("probe on %s: %+v", path, probe)
		}
	}
	for what, ann := range map[string]map[string]string{"pod": pod.Annotations, "service": svc.Annotations} {
		if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != "9464" || ann["prometheus.io/path"] != "/metrics" {
			t.Errorf("%s scrape annotations: %v", what, ann)
		}
	}
	if len(svc.Spec.Selector) == 0 {
		t.Fatal("service has no selector")
	}
	for k, v := range svc.Spec.Selector {
		if pod.Labels[k] != v || d.Spec.Selector.MatchLabels[k] != v {
			t.Errorf("service selects %s=%s, the pods have %v", k, v, pod.Labels)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "metrics" {
		t.Errorf("service ports %+v", svc.Spec.Ports)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("want one replica, Recreate: %+v", d.Spec)
	}
}

// checkIndexedJob: an Indexed Job whose pods each run one shard of every
// apprentice, the shard count being the completions.
func checkIndexedJob(t *testing.T, b *built, cfg *config.Config) {
	t.Helper()
	j := b.jobs[0]
	if j.Spec.CompletionMode == nil || *j.Spec.CompletionMode != batchv1.IndexedCompletion || j.Spec.Completions == nil {
		t.Fatalf("not an Indexed Job with completions: %+v", j.Spec)
	}
	c := j.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	want := "run --all --parallel 4 --shard $(JOB_COMPLETION_INDEX)/" + strconv.Itoa(int(*j.Spec.Completions))
	if !strings.Contains(args, want) {
		t.Errorf("args %q, want %q (the shard count must be the completions)", args, want)
	}
	index := false
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			index = true
		}
	}
	if !index {
		t.Error("JOB_COMPLETION_INDEX is not declared from the completion-index annotation")
	}
	if len(cfg.Apprentices) < 2 {
		t.Errorf("the overlay's config should list several apprentices: %+v", cfg)
	}
}

func TestBuildOverlayStrict(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("kustomization.yaml", "resources: [svc.yaml]\n")
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n")
	if _, err := buildOverlay(dir); err == nil || !strings.Contains(err.Error(), "selectr") {
		t.Errorf("unknown field: %v", err)
	}
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {sessionaffinity: None}\n")
	if _, err := buildOverlay(dir); err == nil || !strings.Contains(err.Error(), "sessionaffinity") {
		t.Errorf("a field in the wrong case: %v", err)
	}
	write("svc.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {k: v}\n")
	if _, err := buildOverlay(dir); err == nil || !strings.Contains(err.Error(), "no type for v1 Secret") {
		t.Errorf("a Secret: %v", err)
	}
}
