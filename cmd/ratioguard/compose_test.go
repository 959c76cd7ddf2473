package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ratioguard/ratioguard/internal/config"
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
		Profiles    []string       `yaml:"profiles"`
		Networks    map[string]struct {
			IPv4 string `yaml:"ipv4_address"`
		} `yaml:"networks"`
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
		if _, engine := engines[name]; engine || name == "balancer" {
			continue // not ratioguard: the balancer is checked below
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
		if len(s.Ports) != 0 && name != "reports" {
			t.Errorf("service %s publishes ports %v; only the balancer and the staff UI should", name, s.Ports)
		}
		if s.Command[0] == "migrate" {
			continue
		}
		// A long-running stage is healthy while the /readyz of its own admin
		// address answers.
		admin := flagValue(s.Command, "--admin-addr")
		_, port, _ := strings.Cut(admin, ":")
		probe := fmt.Sprint(s.Healthcheck["test"])
		if admin == "" || !strings.Contains(probe, "http://127.0.0.1:"+port+"/readyz") {
			t.Errorf("service %s: healthcheck %s does not probe /readyz on its --admin-addr %q", name, probe, admin)
		}
	}
	// Two trackers at least, each with its spool and state on a volume of its own.
	var trackers []string
	seenVolume := map[string]string{}
	for name, s := range c.Services {
		if len(s.Command) == 0 || s.Command[0] != "tracker" {
			continue
		}
		trackers = append(trackers, name)
		for _, dirFlag := range []string{"--spool-dir", "--state-dir"} {
			dir, onVolume := flagValue(s.Command, dirFlag), false
			for _, v := range s.Volumes {
				vol, dst, ok := strings.Cut(v, ":")
				if ok && dir != "" && strings.HasPrefix(dir, dst) {
					onVolume = true
					if other, taken := seenVolume[vol]; taken && other != name {
						t.Errorf("trackers %s and %s share volume %s", name, other, vol)
					}
					seenVolume[vol] = name
				}
			}
			if !onVolume {
				t.Errorf("%s %s %q is not on one of its volumes %v", name, dirFlag, dir, s.Volumes)
			}
		}
	}
	sort.Strings(trackers)
	if len(trackers) < 2 {
		t.Errorf("tracker services %v, want at least two behind the balancer", trackers)
	}
	checkBalancer(t, root, c, trackers)
	checkPrometheus(t, root, c)
	// ClickHouse has credentials (a fresh image refuses the network default
	// user without them) and the stages use them.
	chEnv := c.Services["clickhouse"].Environment
	user, pass := fmt.Sprint(chEnv["CLICKHOUSE_USER"]), fmt.Sprint(chEnv["CLICKHOUSE_PASSWORD"])
	if chEnv["CLICKHOUSE_USER"] == nil || chEnv["CLICKHOUSE_PASSWORD"] == nil || pass == "" {
		t.Errorf("clickhouse has no CLICKHOUSE_USER/CLICKHOUSE_PASSWORD: %v", chEnv)
	}
	for name, s := range c.Services {
		if u, ok := s.Environment["RG_CLICKHOUSE_URL"]; ok && !strings.Contains(fmt.Sprint(u), "://"+user+":"+pass+"@clickhouse:") {
			t.Errorf("service %s: RG_CLICKHOUSE_URL %v lacks clickhouse's credentials", name, u)
		}
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	for _, want := range []string{".git", ".stack"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
	for _, long := range []string{"migrate", "tracker", "ingest", "detect", "enforce", "reports", "writeback"} {
		if !covered[long] {
			t.Errorf("no compose service runs `ratioguard %s`", long)
		}
	}
	checkWriteback(t, c)
}

// checkWriteback: the write-back runs only under a profile (it needs a
// site's database, which the file does not have) and takes the site's
// settings from the environment variables the binary reads.
func checkWriteback(t *testing.T, c composeFile) {
	t.Helper()
	for name, s := range c.Services {
		if len(s.Command) == 0 || s.Command[0] != "writeback" {
			continue
		}
		if len(s.Profiles) == 0 {
			t.Errorf("service %s runs without a profile: it fails without a site's database", name)
		}
		for _, env := range []string{config.EnvSite, config.EnvSiteDSN, envSiteURL, envSiteKey} {
			if _, ok := s.Environment[env]; !ok {
				t.Errorf("service %s does not pass %s", name, env)
			}
		}
	}
}

// flagValue is the value after flag in a command, "" when absent.
func flagValue(cmd []string, flag string) string {
	for i, a := range cmd {
		if a == flag && i+1 < len(cmd) {
			return cmd[i+1]
		}
	}
	return ""
}

// checkBalancer: nginx publishes the announce port with the configuration
// of deploy/, whose upstream is exactly the tracker services, hashing
// info_hash; the trackers believe X-Real-IP from the balancer's address only.
func checkBalancer(t *testing.T, root string, c composeFile, trackers []string) {
	t.Helper()
	b, ok := c.Services["balancer"]
	if !ok {
		t.Fatal("no balancer service in front of the trackers")
	}
	if !strings.HasPrefix(b.Image, "nginx:") || !slices.Contains(b.Ports, "6969:6969") {
		t.Errorf("balancer: image %q ports %v, want nginx publishing 6969", b.Image, b.Ports)
	}
	conf := ""
	for _, v := range b.Volumes {
		if src, _, _ := strings.Cut(v, ":"); strings.HasPrefix(src, "./deploy/") {
			conf = src
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, conf))
	if conf == "" || err != nil {
		t.Fatalf("balancer mounts no configuration from deploy/ (%v): %v", b.Volumes, err)
	}
	var upstream []string
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "server" && strings.Contains(f[1], ":") {
			host, _, _ := strings.Cut(f[1], ":")
			upstream = append(upstream, host)
		}
	}
	sort.Strings(upstream)
	if !slices.Equal(upstream, trackers) || !strings.Contains(string(raw), "hash $arg_info_hash") {
		t.Errorf("%s: upstream %v hashing info_hash, want the tracker services %v", conf, upstream, trackers)
	}
	ip := b.Networks["default"].IPv4
	for _, name := range trackers {
		if got := flagValue(c.Services[name].Command, "--trusted-proxies"); ip == "" || got != ip {
			t.Errorf("%s --trusted-proxies %q, want the balancer's address %q", name, got, ip)
		}
	}
}

// checkPrometheus: deploy/prometheus.yml scrapes exactly the long-running
// ratioguard services, each on the port of its --admin-addr, one job per
// subcommand.
func checkPrometheus(t *testing.T, root string, c composeFile) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &p); err != nil {
		t.Fatalf("deploy/prometheus.yml: %v", err)
	}
	scraped := map[string]string{} // target → job
	for _, sc := range p.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				scraped[target] = sc.JobName
			}
		}
	}
	want := map[string]string{}
	for name, s := range c.Services {
		if len(s.Command) == 0 || s.Command[0] == "migrate" || s.Build == nil {
			continue
		}
		_, port, _ := strings.Cut(flagValue(s.Command, "--admin-addr"), ":")
		want[name+":"+port] = s.Command[0]
	}
	if fmt.Sprint(scraped) != fmt.Sprint(want) {
		t.Errorf("deploy/prometheus.yml scrapes %v, want %v (target → job)", scraped, want)
	}
}
