package redact

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// adversarialTails follow a keyword to make a detector work hard: pass its
// prefilters, open a value that never closes, run past the window.
var adversarialTails = []string{"", "=", "= ", ">", ">x", "=\"", "='", "=`", "=\\\"", ":", ": ", " ", "x", "=x",
	"\"", "-", "_", ".", "/", "@a.bc", " login ", " --x ", "-----", " PRIVATE KEY-----", "0123456789abcdef",
	"=" + strings.Repeat("a", 600), ">" + strings.Repeat("b", 600), "=\"" + strings.Repeat("c", 600), ":" + strings.Repeat("Ab1", 200)}

// adversarialUnits returns texts which, repeated, stress rule ru.
func adversarialUnits(ru rule) []string {
	var units []string
	for _, d := range ru.dets {
		prefix := ""
		if d.context != "" {
			prefix = d.context + " "
		}
		for i, k := range d.keywords {
			if i >= 3 {
				break
			}
			for _, tl := range adversarialTails {
				units = append(units, k+tl)
				if prefix != "" {
					units = append(units, prefix+k+tl)
				}
			}
		}
		if d.scan != nil || len(d.keywords) == 0 {
			units = append(units, "a@", "a@b.", "@a.bc", "a.a@a.a", "x.y@z.example ", "a@"+strings.Repeat("b.", 200),
				strings.Repeat("a", 63)+"@", awsSecret+"\n", strings.Repeat("Ab1/", 10)+"\n", "a\n", " \t", "z", "]a", "a")
		}
	}
	return units
}

// single returns a Redactor with only rule ru.
func single(ru rule) *Redactor {
	r := &Redactor{rules: []rule{ru}}
	r.index()
	return r
}

func fill(unit string, n int) string {
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// linearRules are every built-in rule, the e-mail rule and configured
// patterns of issue 7.
func linearRules(t *testing.T) []rule {
	rules := builtins()
	rules = append(rules, emailRule([]string{"jane@corp.example"}))
	for i, expr := range []string{`(?:\]|^)a`, `a+b`, `(?i)x[a-z]*y`} {
		r, err := New(Options{Emails: EmailsKeep, Patterns: []Pattern{{Name: "configured-" + string(rune('a'+i)), Regex: expr}}})
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r.rules[len(r.rules)-1])
	}
	return rules
}

// timeRun times one run of r over s, after a collection so that garbage
// from one run does not slow the next. It gives up (false) when the run
// takes longer than limit, leaving it to finish in the background.
func timeRun(r *Redactor, s string, limit time.Duration) (time.Duration, bool) {
	runtime.GC()
	done := make(chan time.Duration, 1)
	go func() {
		t0 := time.Now()
		r.String(s)
		done <- time.Since(t0)
	}()
	select {
	case d := <-done:
		return d, true
	case <-time.After(limit):
		return 0, false
	}
}

// Linearity is timed on n and 8n bytes: a linear rule takes about 8 times
// as long on 8n, a quadratic one 64 times; maxRatio, between the two,
// fails a rule.
const (
	linearFactor = 8
	maxRatio     = 32
)

// timeRatio is how many times longer r takes on unit repeated to 8n bytes
// than to n: the best of reps runs of each, interleaved, so that load on
// the machine slows both alike. It fails when a run takes much longer
// than linear time allows (a quadratic rule on a large n would take
// minutes).
func timeRatio(r *Redactor, unit string, n, reps int) (float64, error) {
	small, big := fill(unit, n), fill(unit, linearFactor*n)
	bs, bb := time.Duration(1<<62), time.Duration(1<<62)
	for range reps {
		ds, ok := timeRun(r, small, 4*time.Second)
		if !ok {
			return 0, fmt.Errorf("%d bytes take more than 4 s", n)
		}
		bs = min(bs, ds)
		limit := 2*maxRatio*bs + 4*time.Second
		db, ok := timeRun(r, big, limit)
		if !ok {
			return 0, fmt.Errorf("%d bytes take %v, %d bytes more than %v", n, bs, linearFactor*n, limit)
		}
		bb = min(bb, db)
	}
	return float64(bb) / float64(max(bs, time.Microsecond)), nil
}

// Every built-in detector, and the configured patterns of issue 7, is
// linear. Each rule's most costly adversarial text is found on 16 KiB,
// then timed on 128 KiB and 1 MiB (timeRatio, best of 5); a ratio of 32
// or more (linear: 8, quadratic: 64) fails after two more tries. Skipped
// under -short and the race detector.
func TestLinearTime(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: not with -short or -race")
	}
	for _, ru := range linearRules(t) {
		t.Run(ru.name, func(t *testing.T) {
			r := single(ru)
			worst, wt := "", time.Duration(-1)
			for _, u := range adversarialUnits(ru) {
				t0 := time.Now()
				r.String(fill(u, 16<<10))
				if d := time.Since(t0); d > wt {
					worst, wt = u, d
				}
			}
			var ratio float64
			for try := 0; try < 3; try++ {
				var err error
				ratio, err = timeRatio(r, worst, 128<<10, 5)
				if err != nil {
					t.Fatalf("rule %s is not linear on %.40q repeated: %v", ru.name, worst, err)
				}
				t.Logf("%.40q: ratio %.1f", worst, ratio)
				if ratio < maxRatio {
					return
				}
			}
			t.Errorf("rule %s is not linear on %.40q repeated: 8 times the text takes %.0f times as long", ru.name, worst, ratio)
		})
	}
}

// TestLinearTimeCatchesQuadratic plants a quadratic detector, one that
// reads the whole rest of the text at each keyword hit, and checks that
// timeRatio fails it.
func TestLinearTimeCatchesQuadratic(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: not with -short or -race")
	}
	quad := rule{name: "planted-quadratic", dets: []detector{{keywords: []string{"kq"}, retryMiss: true, fn: func(rest string) []int {
		if strings.IndexByte(rest, '!') < 0 && strings.Count(rest, "kq") < 0 { // reads all of rest, finds nothing
			return []int{0, 1}
		}
		return nil
	}}}}
	ratio, err := timeRatio(single(quad), "kq ", 4<<10, 3)
	t.Logf("planted quadratic detector: ratio %.1f, %v", ratio, err)
	if err == nil && ratio < maxRatio {
		t.Errorf("a quadratic detector passed: 8 times the text took %.1f times as long", ratio)
	}
}
