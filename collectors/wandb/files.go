package wandb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxFile bounds what is read of each of a run's files.
const maxFile = 16 << 20

// readCapped reads a whole file of at most maxFile bytes. A missing file
// is (nil, nil).
func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("over %d bytes", maxFile)
	}
	return b, nil
}

// parseConfig reads files/config.yaml: one top-level key per config entry,
// each a mapping whose "value" is the value ("desc" beside it in older
// clients). wandb_version and _wandb (the client's own settings) are left
// out. Nested mappings are flattened with dots; lists and other values
// are kept as JSON text.
func parseConfig(b []byte) (params map[string]string, client map[string]any, err error) {
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("config.yaml: %w", err)
	}
	params = map[string]string{}
	for k, v := range doc {
		if k == "wandb_version" {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			// Not the documented {value: …} shape: keep as written.
			flatten(params, k, v)
			continue
		}
		val, has := m["value"]
		if !has {
			flatten(params, k, v)
			continue
		}
		if k == "_wandb" {
			client, _ = val.(map[string]any)
			continue
		}
		flatten(params, k, val)
	}
	return params, client, nil
}

func flatten(out map[string]string, key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			out[key] = "{}"
		}
		for k, vv := range x {
			flatten(out, key+"."+k, vv)
		}
	case nil:
		out[key] = "null"
	case string:
		out[key] = x
	case bool:
		out[key] = strconv.FormatBool(x)
	case int:
		out[key] = strconv.Itoa(x)
	case int64:
		out[key] = strconv.FormatInt(x, 10)
	case uint64:
		out[key] = strconv.FormatUint(x, 10)
	case float64:
		out[key] = strconv.FormatFloat(x, 'g', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			out[key] = fmt.Sprint(x)
			return
		}
		out[key] = string(b)
	}
}

// summary is files/wandb-summary.json: the last value of each logged key.
type summary struct {
	// Metrics are the numeric keys not starting with "_" (nested objects
	// flattened with "/", as W&B names "train/loss"; media objects, which
	// carry "_type", left out).
	Metrics map[string]float64
	Step    int64   // _step, or -1
	Runtime float64 // _runtime or _wandb.runtime, seconds; 0 if absent
	// Timestamp is _timestamp, the time of the last log, in seconds.
	Timestamp float64
}

func parseSummary(b []byte) (summary, error) {
	s := summary{Metrics: map[string]float64{}, Step: -1}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return s, fmt.Errorf("wandb-summary.json: %w", err)
	}
	for k, v := range doc {
		switch k {
		case "_step":
			if n, ok := number(v); ok {
				s.Step = int64(n)
			}
		case "_runtime":
			if n, ok := number(v); ok {
				s.Runtime = n
			}
		case "_timestamp":
			if n, ok := number(v); ok {
				s.Timestamp = n
			}
		case "_wandb":
			if m, ok := v.(map[string]any); ok && s.Runtime == 0 {
				if n, ok := number(m["runtime"]); ok {
					s.Runtime = n
				}
			}
		default:
			if !strings.HasPrefix(k, "_") {
				metrics(s.Metrics, k, v)
			}
		}
	}
	return s, nil
}

func metrics(out map[string]float64, key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if _, media := x["_type"]; media {
			return
		}
		for k, vv := range x {
			if !strings.HasPrefix(k, "_") {
				metrics(out, key+"/"+k, vv)
			}
		}
	default:
		if n, ok := number(v); ok {
			out[key] = n
		}
	}
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// metadata is what is read of files/wandb-metadata.json. The email,
// command-line arguments and paths it also holds are not kept.
type metadata struct {
	StartedAt  string `json:"startedAt"`
	Program    string `json:"program"`
	CodePath   string `json:"codePath"`
	Host       string `json:"host"`
	Username   string `json:"username"`
	Python     string `json:"python"`
	OS         string `json:"os"`
	CPUCount   int    `json:"cpu_count"`
	CPULogical int    `json:"cpu_count_logical"`
	GPU        string `json:"gpu"`
	GPUCount   int    `json:"gpu_count"`
	CUDA       string `json:"cuda"`
	State      string `json:"state"`
	Git        *struct {
		Remote string `json:"remote"`
		Commit string `json:"commit"`
	} `json:"git"`
}

func parseMetadata(b []byte) (metadata, error) {
	var m metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("wandb-metadata.json: %w", err)
	}
	return m, nil
}

// startTime parses startedAt: ISO 8601, UTC with or without a zone
// (older clients write "2023-11-14T22:13:19.876543", newer add "Z").
func startTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
