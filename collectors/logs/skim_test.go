package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/internal/corpustest"
)

// skimLines are the shapes of TestSkimIsFullPath's log: quiet lines,
// serving lines and metrics, and every kind of event, error and
// multi-line record, with invalid UTF-8 and ANSI colours.
var skimLines = []string{
	"%s INFO feature pipeline processed batch %d with 512 rows",
	"%s DEBUG cache hit ratio %d%% for \x1b[32mcustomer\x1b[0m segment caf\xe9",
	"%s WARN slow query took %dms on replica lag check",
	"%s [INFO ] W-9000-churn_1.0 ACCESS_LOG - /10.2.0.%d:35226 \"POST /predictions/churn HTTP/1.1\" 200 957",
	"%s [INFO ] W-9000-churn_1.0 ACCESS_LOG - /10.2.0.%d:35226 \"GET /predictions/fraud/2.0?x=1 HTTP/1.1\" 503 12",
	"%s [INFO ] pool-3-thread-1 TS_METRICS - CPUUtilization.Percent:%d.0|#Level:Host|#hostname:ip-10-0-0-1,timestamp:1651137801",
	"%s [INFO ] W-9000-churn_1.0 MODEL_METRICS - PredictionTime.Milliseconds:%d.5|#ModelName:churn,Level:Model|#hostname:h",
	"%s INFO Starting model deployment... run ID: 5183fedfa78c48cbb36e6fee2581613a (%d)",
	"%s INFO deploying commit 4be1c2f%d to production, model version 7",
	"%s INFO MODEL DEPLOYMENT SUCCESSFUL! (%d)",
	"%s ERROR deployment failed: timeout %d",
	"%s ERROR upstream timeout calling feature store token=ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXYZ123%02d",
	"%s INFO Created version '%d' of model 'churn_model'.",
	"%s INFO rolled back to revision %d",
	"%s INFO scaled up to %d replicas",
	"%s INFO Transitioned model 'churn' version %d to stage 'Production'",
	"%s INFO Uvicorn running on http://0.0.0.0:80%02d",
	"%s ERROR Traceback (most recent call last):\n  File \"app.py\", line %d, in <module>\n    main()\nValueError: bad input",
	"%s INFO multi-line banner %d\n  continued here\n  and here with model 'x'",
	"%s INFO client +44 20 7946 09%02d called from 203.0.113.7",
}

func skimLog(n int) string {
	rng := rand.New(rand.NewPCG(11, 12))
	at := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	for range n {
		at = at.Add(time.Duration(rng.IntN(30000)) * time.Millisecond)
		shape := skimLines[rng.IntN(3)]
		if rng.IntN(4) == 0 {
			shape = skimLines[rng.IntN(len(skimLines))]
		}
		fmt.Fprintf(&b, shape+"\n", at.Format("2006-01-02T15:04:05.000Z"), rng.IntN(100))
	}
	return b.String()
}

// collectAll runs c over paths and returns what it emitted, as text.
func collectAll(t *testing.T, c *Collector) string {
	t.Helper()
	s := &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), nil, s); err != nil {
		var pe *collectors.PartialError
		if !errors.As(err, &pe) {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	for _, it := range s.Items() {
		it.CollectedAt = time.Time{}
		j, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		ex, _ := s.File(it.ID, "excerpt.txt")
		fmt.Fprintf(&out, "%s\n%s\n", j, ex)
	}
	for _, sk := range s.Skips() {
		fmt.Fprintf(&out, "skip %s: %s\n", sk.What, sk.Reason)
	}
	return out.String()
}

// TestSkimIsFullPath: records skimmed (their strings views of the
// assembler's arena, copied only where kept) give exactly what the full
// path gives, on a generated log with every kind of event and on the
// corpus's logs.
func TestSkimIsFullPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mixed.log"), []byte(skimLog(30000)), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{filepath.Join(dir, "mixed.log")}
	filepath.WalkDir(corpustest.Dir(t, ""), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".log") && !strings.Contains(p, "attempt=") {
			paths = append(paths, p)
		}
		return nil
	})
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			run := func(noSkim bool) string {
				c, err := New(Config{SourceConfig: SourceConfig{Paths: []string{p}}, Name: "logs", Apprentice: "jdoe"},
					collectors.Settings{Now: func() time.Time { return time.Unix(0, 0) }})
				if err != nil {
					t.Fatal(err)
				}
				c.noSkim = noSkim
				return collectAll(t, c)
			}
			full, skim := run(true), run(false)
			if full != skim {
				t.Errorf("skimmed records change the output (%d bytes, full path %d):\n%s", len(skim), len(full), firstDiff(full, skim))
			}
			if p == paths[0] && strings.Count(full, "\n") < 200 {
				t.Errorf("the generated log gave only:\n%s", full)
			}
		})
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			j := 0
			for j < min(len(al[i]), len(bl[i])) && al[i][j] == bl[i][j] {
				j++
			}
			j = max(0, j-100)
			return fmt.Sprintf("line %d, from byte %d:\nfull: %.300q\nskim: %.300q", i+1, j, al[i][j:], bl[i][j:])
		}
	}
	return fmt.Sprintf("one is a prefix of the other (%d, %d lines)", len(al), len(bl))
}

// FuzzSkim: on any text, records skimmed give the events the full path
// gives.
func FuzzSkim(f *testing.F) {
	f.Add(skimLog(400), "text")
	f.Add("2022-04-28T09:23:21,378 [INFO ] W-9000-my_tc_1.0 ACCESS_LOG - /127.0.0.1:53188 \"POST /predictions/my_tc HTTP/1.1\" 200 2\n2022-04-28T09:23:22,378 [INFO ] pool-3-thread-1 TS_METRICS - CPUUtilization.Percent:0.0|#Level:Host|#hostname:h,timestamp:1651137801\n", "text")
	f.Add("2025-08-19 02:41:42,209 INFO Starting model deployment...\nTraceback (most recent call last):\n  x\nValueError: y\n2025-08-19 02:41:44,803 INFO MODEL DEPLOYMENT SUCCESSFUL!\n", "text")
	f.Add(`{"log":"a","time":"2019-01-01T00:00:00Z"}`+"\n", "docker")
	f.Add("2016-10-06T00:17:09Z stdout P a\n2016-10-06T00:17:09Z stdout F b model loaded\n", "cri")
	f.Fuzz(func(t *testing.T, text, format string) {
		if _, ok := formatNames[format]; !ok || format == "" || format == formatAuto {
			format = formatText
		}
		run := func(skim bool) string {
			var out strings.Builder
			x := &extractor{patterns: builtinPatterns(), stems: newStemIndex(), gap: defaultIncidentGap, out: func(ev *event) error {
				facts, err := json.Marshal(ev.Facts)
				fmt.Fprintf(&out, "%s %s %s %v %q %q %d %s %v\n", ev.Name, ev.Outcome, ev.Native, ev.Time, ev.Message, ev.Excerpt, ev.More, facts, err)
				return nil
			}}
			a := &assembler{format: formatNames[format], year: 2025, stamped: true, emit: x.record}
			if skim {
				a.skim = x.skim
			}
			feedLines(t, a, text)
			if _, err := x.finish(); err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
		if full, skim := run(false), run(true); full != skim {
			t.Errorf("skimmed records change the events:\n%s", firstDiff(full, skim))
		}
	})
}
