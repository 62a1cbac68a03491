package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/provider"
)

// deployDir holds the deployment examples (docs/deploy): they cannot run
// here, so these tests keep them parsable and true to the code.
const deployDir = "../../docs/deploy"

// deployDocs parses every YAML file under docs/deploy, each file into its
// documents.
func deployDocs(t *testing.T) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	err := filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yaml" && filepath.Ext(path) != ".yml") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := yaml.NewDecoder(f)
		rel, _ := filepath.Rel(deployDir, path)
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("%s: %w", rel, err)
			}
			if doc != nil {
				out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], doc)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no YAML under %s", deployDir)
	}
	return out
}

// dig walks keys down nested maps; nil when a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// words is a compose or container command as a list of strings.
func words(v any) []string {
	switch c := v.(type) {
	case string:
		return strings.Fields(c)
	case []any:
		out := make([]string, len(c))
		for i, w := range c {
			out[i] = str(w)
		}
		return out
	}
	return nil
}

// TestDeployCompose: three replicas of iocane serve --no-migrate on
// PostgreSQL 15 and Redis 7, after a one-shot migration, behind a balancer
// on :8080 that checks /readyz.
func TestDeployCompose(t *testing.T) {
	docs := deployDocs(t)["compose.yaml"]
	if len(docs) != 1 {
		t.Fatalf("compose.yaml: %d documents, want 1", len(docs))
	}
	services, _ := dig(docs[0], "services").(map[string]any)
	if services == nil {
		t.Fatal("compose.yaml has no services")
	}
	var replicas int
	var serving []string
	var balancer, migrate string
	for name, s := range services {
		cmd := words(dig(s, "command"))
		image := str(dig(s, "image"))
		switch {
		case slices.Contains(cmd, "serve"):
			serving = append(serving, name)
			n := 1
			if r := dig(s, "deploy", "replicas"); r != nil {
				n, _ = r.(int)
			}
			replicas += n
			if !slices.Contains(cmd, "--no-migrate") || !strings.Contains(strings.Join(cmd, " "), "--listen 0.0.0.0:8080") {
				t.Errorf("%s: command %q, want serve --listen 0.0.0.0:8080 --no-migrate", name, cmd)
			}
			if c := str(dig(s, "depends_on", "migrate", "condition")); c != "service_completed_successfully" {
				t.Errorf("%s: depends on migrate with %q, want service_completed_successfully", name, c)
			}
			for k, want := range map[string]string{
				"IOCANE_DATABASE_URL": "postgres://iocane@postgres:5432/iocane",
				"IOCANE_REDIS_URL":    "redis://redis:6379/0",
			} {
				if got := str(dig(s, "environment", k)); got != want {
					t.Errorf("%s: %s=%q, want %q", name, k, got, want)
				}
			}
			if dig(s, "env_file") == nil {
				t.Errorf("%s: no env_file for IOCANE_ADMIN_TOKEN", name)
			}
		case strings.Join(cmd, " ") == "db migrate":
			migrate = name
		case strings.HasPrefix(image, "caddy") || strings.HasPrefix(image, "nginx"):
			balancer = name
		}
	}
	if replicas != 3 {
		t.Errorf("%d iocane serve replicas (%v), want 3", replicas, serving)
	}
	if img := str(dig(services, "postgres", "image")); !strings.HasPrefix(img, "postgres:15") {
		t.Errorf("postgres image %q, want postgres:15", img)
	}
	if img := str(dig(services, "redis", "image")); !strings.HasPrefix(img, "redis:7") {
		t.Errorf("redis image %q, want redis:7", img)
	}
	if migrate == "" {
		t.Error("no one-shot service running iocane db migrate")
	}
	if balancer == "" {
		t.Fatal("no balancer (caddy or nginx)")
	}
	if ports := fmt.Sprint(dig(services, balancer, "ports")); !strings.Contains(ports, "8080:8080") {
		t.Errorf("balancer %s publishes %s, want 8080", balancer, ports)
	}
	caddy, err := os.ReadFile(filepath.Join(deployDir, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(caddy), "health_uri /readyz") {
		t.Error("Caddyfile does not health-check /readyz")
	}
	for _, name := range serving {
		if !strings.Contains(string(caddy), name+":8080") {
			t.Errorf("Caddyfile does not send traffic to %s:8080", name)
		}
	}
	if _, err := os.Stat(filepath.Join(deployDir, "iocane.env.example")); err != nil {
		t.Errorf("compose.yaml's env_file has no example: %v", err)
	}
}

// TestDeployKubernetes: every manifest names itself; the Deployment runs
// three probed, non-root replicas from the ConfigMap and Secret; a PDB keeps
// two; a Job migrates.
func TestDeployKubernetes(t *testing.T) {
	objs := map[string]map[string]any{} // kind → object
	for file, docs := range deployDocs(t) {
		if !strings.HasPrefix(file, "kubernetes/") {
			continue
		}
		for _, d := range docs {
			kind := str(d["kind"])
			if str(d["apiVersion"]) == "" || kind == "" || str(dig(d, "metadata", "name")) == "" {
				t.Errorf("%s: a document without apiVersion, kind or metadata.name", file)
				continue
			}
			if objs[kind] != nil {
				t.Errorf("%s: a second %s", file, kind)
			}
			objs[kind] = d
		}
	}
	for _, kind := range []string{"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget", "Job"} {
		if objs[kind] == nil {
			t.Errorf("no %s under docs/deploy/kubernetes", kind)
		}
	}
	dep := objs["Deployment"]
	if dep == nil {
		t.FailNow()
	}
	if r := dig(dep, "spec", "replicas"); r != 3 {
		t.Errorf("Deployment replicas %v, want 3", r)
	}
	if m := dig(objs["PodDisruptionBudget"], "spec", "minAvailable"); m != 2 {
		t.Errorf("PodDisruptionBudget minAvailable %v, want 2", m)
	}
	labels := fmt.Sprint(dig(dep, "spec", "template", "metadata", "labels"))
	for _, sel := range []any{dig(objs["Service"], "spec", "selector"), dig(objs["PodDisruptionBudget"], "spec", "selector", "matchLabels")} {
		if fmt.Sprint(sel) != labels {
			t.Errorf("selector %v does not match the pods' labels %s", sel, labels)
		}
	}
	pod := dig(dep, "spec", "template", "spec")
	if dig(pod, "securityContext", "runAsNonRoot") != true {
		t.Error("Deployment pods may run as root")
	}
	containers, _ := dig(pod, "containers").([]any)
	if len(containers) == 0 {
		t.Fatal("Deployment has no containers")
	}
	for _, c := range containers {
		name := str(dig(c, "name"))
		if p := str(dig(c, "readinessProbe", "httpGet", "path")); p != "/readyz" {
			t.Errorf("%s: readiness probe %q, want /readyz", name, p)
		}
		if p := str(dig(c, "livenessProbe", "httpGet", "path")); p != "/healthz" {
			t.Errorf("%s: liveness probe %q, want /healthz", name, p)
		}
		if dig(c, "resources", "requests") == nil || dig(c, "resources", "limits") == nil {
			t.Errorf("%s: no resource requests and limits", name)
		}
		if dig(c, "securityContext", "readOnlyRootFilesystem") != true || dig(c, "securityContext", "allowPrivilegeEscalation") != false {
			t.Errorf("%s: root filesystem writable or privilege escalation allowed", name)
		}
		if args := words(dig(c, "args")); !slices.Contains(args, "serve") || !slices.Contains(args, "--no-migrate") {
			t.Errorf("%s: args %q, want serve ... --no-migrate", name, args)
		}
		if s := fmt.Sprint(dig(c, "envFrom")); !strings.Contains(s, str(dig(objs["Secret"], "metadata", "name"))) {
			t.Errorf("%s: env not from the Secret: %s", name, s)
		}
	}
	if s := fmt.Sprint(dig(pod, "volumes")); !strings.Contains(s, str(dig(objs["ConfigMap"], "metadata", "name"))) {
		t.Errorf("Deployment does not mount the ConfigMap: %s", s)
	}
	jc, _ := dig(objs["Job"], "spec", "template", "spec", "containers").([]any)
	if len(jc) != 1 || strings.Join(words(dig(jc[0], "args")), " ") != "db migrate" {
		t.Errorf("the Job does not run iocane db migrate: %v", jc)
	}
}

// TestDeployConfigLoads: the ConfigMap's iocane.yaml, with the Secret's
// placeholders and the Deployment's variables as the environment, is a
// configuration iocane accepts (unknown keys and variables are refused).
func TestDeployConfigLoads(t *testing.T) {
	var cfg string
	env := []string{}
	for file, docs := range deployDocs(t) {
		if !strings.HasPrefix(file, "kubernetes/") {
			continue
		}
		for _, d := range docs {
			switch str(d["kind"]) {
			case "ConfigMap":
				cfg = str(dig(d, "data", "iocane.yaml"))
			case "Secret":
				for k, v := range dig(d, "stringData").(map[string]any) {
					env = append(env, k+"="+str(v))
				}
			}
		}
	}
	if cfg == "" {
		t.Fatal("no iocane.yaml in the ConfigMap")
	}
	path := filepath.Join(t.TempDir(), "iocane.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "IOCANE_DB="+filepath.Join(t.TempDir(), "iocane.db"))
	if _, err := pipeline.LoadSettings(pipeline.Options{ConfigPath: path, Environ: env}); err != nil {
		t.Errorf("the ConfigMap's iocane.yaml does not load: %v", err)
	}
}

// TestDeployNamesDocumentedVariables: every IOCANE_ variable the deploy
// files name is one docs/design.md names, or a registered provider's
// setting (IOCANE_<PROVIDER>_<SETTING>), so that a rename breaks this test
// rather than a deployment.
func TestDeployNamesDocumentedVariables(t *testing.T) {
	design, err := os.ReadFile("../../docs/design.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	name := regexp.MustCompile(`IOCANE_[A-Z0-9_]+`)
	for _, m := range name.FindAllString(string(design), -1) {
		documented[m] = true
	}
	for _, s := range provider.All() {
		for _, set := range s.AllSettings() {
			documented[set.Env(s.Name)] = true
		}
	}
	if !documented["IOCANE_VIRUSTOTAL_API_KEY"] {
		t.Fatal("no provider settings registered")
	}
	seen := 0
	err = filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range name.FindAllString(string(b), -1) {
			if strings.HasSuffix(m, "_") {
				continue // a template: IOCANE_<P>_RATE
			}
			seen++
			if !documented[m] {
				t.Errorf("%s names %s, which docs/design.md does not document", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatal("no IOCANE_ variable found under docs/deploy")
	}
}
