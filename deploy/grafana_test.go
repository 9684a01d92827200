package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// grafanaVars are the values the test puts in for the dashboard's
// variables before parsing a query, as Grafana would (All apprentices).
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__interval", "1m",
	"$__range", "1d",
	"$apprentice", ".*",
)

type grafanaDS struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaDashboard struct {
	Inputs []struct {
		Name     string `json:"name"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	Panels []struct {
		Title      string     `json:"title"`
		Datasource *grafanaDS `json:"datasource"`
		Targets    []struct {
			Expr       string     `json:"expr"`
			Datasource *grafanaDS `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Datasource *grafanaDS `json:"datasource"`
			Definition string     `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// dashboardExprs returns the dashboard's PromQL queries (with Grafana's
// variables put in) keyed by where they are, and an error for a panel or
// query whose datasource is not the templated ${DS_PROMETHEUS}.
func dashboardExprs(raw []byte) (map[string]string, error) {
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("decode dashboard: %w", err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		return nil, fmt.Errorf("__inputs should declare one prometheus datasource DS_PROMETHEUS: %+v", d.Inputs)
	}
	templated := func(where string, ds *grafanaDS) error {
		if ds == nil || ds.Type != "prometheus" || ds.UID != "${DS_PROMETHEUS}" {
			return fmt.Errorf("%s: datasource %+v, want prometheus ${DS_PROMETHEUS}", where, ds)
		}
		return nil
	}
	exprs := map[string]string{}
	labelValues := regexp.MustCompile(`^label_values\((.+), *[a-z_]+\)$`)
	for _, v := range d.Templating.List {
		where := "variable " + v.Name
		if err := templated(where, v.Datasource); err != nil {
			return nil, err
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			return nil, fmt.Errorf("%s: %q is not label_values(SELECTOR, LABEL)", where, v.Definition)
		}
		exprs[where] = m[1]
	}
	for _, p := range d.Panels {
		if err := templated("panel "+p.Title, p.Datasource); err != nil {
			return nil, err
		}
		if len(p.Targets) == 0 {
			return nil, fmt.Errorf("panel %s has no query", p.Title)
		}
		for i, q := range p.Targets {
			where := fmt.Sprintf("panel %s query %d", p.Title, i)
			if err := templated(where, q.Datasource); err != nil {
				return nil, err
			}
			exprs[where] = grafanaVars.Replace(q.Expr)
		}
	}
	return exprs, nil
}

// TestDashboard: the dashboard's datasource is templated, every query
// parses with Prometheus's PromQL parser and uses only metrics of
// docs/metrics.md, and it shows coverage per KSB, gaps, readiness, days
// to the gateway, source freshness and run outcomes.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("grafana", "ksbfolio.json"))
	if err != nil {
		t.Fatal(err)
	}
	exprs, err := dashboardExprs(raw)
	if err != nil {
		t.Fatal(err)
	}
	checkDocumented(t, exprs)
	used := map[string]bool{}
	for _, e := range exprs {
		names, _ := metricNames(e)
		for _, n := range names {
			used[n] = true
		}
	}
	for _, n := range []string{
		"ksbfolio_ksb_status", "ksbfolio_coverage_ksbs", "ksbfolio_coverage_ratio", "ksbfolio_gateway_ready",
		"ksbfolio_gateway_timestamp_seconds", "ksbfolio_source_last_success_timestamp_seconds", "ksbfolio_runs_total",
	} {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}

func TestDashboardExprsRejects(t *testing.T) {
	good := `{"__inputs":[{"name":"DS_PROMETHEUS","pluginId":"prometheus"}],"panels":[{"title":"p","datasource":{"type":"prometheus","uid":"${DS_PROMETHEUS}"},"targets":[{"expr":"up","datasource":{"type":"prometheus","uid":"${DS_PROMETHEUS}"}}]}]}`
	if _, err := dashboardExprs([]byte(good)); err != nil {
		t.Fatalf("good dashboard: %v", err)
	}
	for name, bad := range map[string]string{
		"fixed uid":   strings.Replace(good, `"${DS_PROMETHEUS}"}}]`, `"abc123"}}]`, 1),
		"no inputs":   strings.Replace(good, `"DS_PROMETHEUS","pluginId"`, `"DS_X","pluginId"`, 1),
		"no query":    strings.Replace(good, `[{"expr":"up","datasource":{"type":"prometheus","uid":"${DS_PROMETHEUS}"}}]`, `[]`, 1),
		"not json":    good[:20],
		"panel no ds": strings.Replace(good, `"title":"p","datasource"`, `"title":"p","x"`, 1),
	} {
		if _, err := dashboardExprs([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
