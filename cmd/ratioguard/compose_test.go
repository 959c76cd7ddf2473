package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the subset of docker-compose.yml the test checks.
type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       map[string]any `yaml:"build"`
		Command     []string       `yaml:"command"`
		Ports       []string       `yaml:"ports"`
		Volumes     []string       `yaml:"volumes"`
		Environment map[string]any `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck map[string]any `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// There is no Docker engine on the build machines: this test is what keeps
// the production compose file consistent with the binary and with itself.
func TestDockerComposeIsConsistent(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "Dockerfile")); err != nil {
		t.Fatalf("Dockerfile missing: %v", err)
	}
	engines := map[string]string{"postgres": "postgres:17", "clickhouse": "clickhouse/clickhouse-server:", "kafka": "apache/kafka:4."}
	for name, prefix := range engines {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("service %s missing", name)
		}
		if !strings.HasPrefix(s.Image, prefix) {
			t.Errorf("service %s image %q, want %s*", name, s.Image, prefix)
		}
		if s.Healthcheck == nil {
			t.Errorf("engine %s has no healthcheck", name)
		}
		if len(s.Ports) != 0 {
			t.Errorf("engine %s publishes ports %v; only the tracker and the staff UI should", name, s.Ports)
		}
	}
	cmds := commands()
	covered := map[string]bool{}
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on unknown service %s", name, dep)
			}
			switch d.Condition {
			case "service_healthy":
				if c.Services[dep].Healthcheck == nil {
					t.Errorf("service %s waits for %s to be healthy, but it has no healthcheck", name, dep)
				}
			case "service_completed_successfully", "service_started":
			default:
				t.Errorf("service %s: unknown depends_on condition %q", name, d.Condition)
			}
		}
		for _, v := range s.Volumes {
			vol, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(vol, ".") && !strings.HasPrefix(vol, "/") {
				if _, ok := c.Volumes[vol]; !ok {
					t.Errorf("service %s uses undeclared volume %s", name, vol)
				}
			}
		}
		if _, engine := engines[name]; engine {
			continue
		}
		if s.Build == nil || s.Image != "ratioguard:latest" {
			t.Errorf("service %s is not built from the Dockerfile as ratioguard:latest", name)
		}
		if len(s.Command) == 0 {
			t.Errorf("service %s has no command", name)
			continue
		}
		if _, ok := cmds[s.Command[0]]; !ok {
			t.Errorf("service %s runs unknown subcommand %q", name, s.Command[0])
		}
		covered[s.Command[0]] = true
		for _, env := range []string{"RG_POSTGRES_URL", "RG_CLICKHOUSE_URL", "RG_KAFKA_BROKERS"} {
			if _, ok := s.Environment[env]; !ok {
				t.Errorf("service %s lacks %s", name, env)
			}
		}
		if len(s.Ports) != 0 && name != "tracker" && name != "reports" {
			t.Errorf("service %s publishes ports %v", name, s.Ports)
		}
	}
	// The tracker's spool must outlive the container: on a declared volume.
	tr := c.Services["tracker"]
	spool := ""
	for i, a := range tr.Command {
		if a == "--spool-dir" && i+1 < len(tr.Command) {
			spool = tr.Command[i+1]
		}
	}
	onVolume := false
	for _, v := range tr.Volumes {
		if _, dst, ok := strings.Cut(v, ":"); ok && spool != "" && strings.HasPrefix(spool, dst) {
			onVolume = true
		}
	}
	if !onVolume {
		t.Errorf("tracker --spool-dir %q is not on one of its volumes %v", spool, tr.Volumes)
	}
	for _, long := range []string{"migrate", "tracker", "ingest", "detect", "enforce", "reports"} {
		if !covered[long] {
			t.Errorf("no compose service runs `ratioguard %s`", long)
		}
	}
}
