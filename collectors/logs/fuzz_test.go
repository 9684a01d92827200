package logs

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// Fuzz tests of each line parser: none may panic, hang or return text
// that is not valid UTF-8 from valid input. Seeds are the corpus's own
// line shapes. Run one with: go test -run x -fuzz FuzzParseText -fuzztime 10s

var textSeeds = []string{
	"2025-08-19 02:41:42,209 INFO Starting model deployment...",
	"2022-04-28T09:23:20,157 [INFO ] main org.pytorch.serve.wlm.ModelManager - Model my_tc loaded.",
	"2022-04-28T09:24:50,384 [INFO ] W-9000-my_tc_1.0 ACCESS_LOG - /127.0.0.1:35226 \"POST /predictions/my_tc HTTP/1.1\" 200 957",
	"[2025-08-18T21:06:36.562+0000] {taskinstance.py:2193} INFO - Starting attempt 1 of 1",
	"\ufeff2025-12-31T17:58:21.6735965Z ##[group]Runner Image Provisioner",
	"<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed",
	"Oct 11 22:14:15 host app[12]: msg",
	"2025-08-19 02:41:42,209 - churn - WARNING - x",
	"[2025-08-18T21:06:36.552+0000] {subprocess.py:93} INFO - 2025-08-18 21:06:38,846 WARNING Malformed",
	`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326`,
	"2025-02-30T24:61:61.9999999999+99:99 x",
	"[", "<", "<1>", "2025-", "",
}

func checkEntry(t *testing.T, in string, e entry) {
	if utf8.ValidString(in) && (!utf8.ValidString(e.Message) || !utf8.ValidString(e.Logger) || !utf8.ValidString(e.Request)) {
		t.Errorf("invalid UTF-8 from %q: %+v", in, e)
	}
	if len(e.Message) > len(in) {
		t.Errorf("message longer than its line: %q → %q", in, e.Message)
	}
	if e.Level != "" && upperLevel(e.Level) != e.Level {
		t.Errorf("level %q is not canonical", e.Level)
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, _ := parseText(s, 2025)
		checkEntry(t, s, e)
		checkEntry(t, s, inner(e, 2025))
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"ts":1724058102.5,"level":"error","msg":"x"}`, `{"time":"2019-01-01T00:00:00Z","message":7}`, `{"timestamp":1e300}`, `{`, `[]`, `{"level":{}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, ok := parseJSON(s, 2025); ok && utf8.ValidString(s) && !utf8.ValidString(e.Message) {
			t.Errorf("invalid UTF-8 from %q", s)
		}
	})
}

func FuzzParseDocker(f *testing.F) {
	for _, s := range []string{`{"log":"x\n","stream":"stdout","time":"2019-01-01T00:00:00.1Z"}`, `{"log":"part","stream":"stderr","time":""}`, `{"log":null}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, ok := parseDocker(s, 2025); ok && strings.HasSuffix(e.Message, "\n") {
			t.Errorf("message keeps its line break: %q", e.Message)
		}
	})
}

func FuzzParseCRI(f *testing.F) {
	for _, s := range []string{"2016-10-06T00:17:09.669794202Z stdout F msg", "2016-10-06T00:17:09Z stderr P part", "x stdout F", "2016-10-06T00:17:09Z stdout"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, ok := parseCRI(s, 2025); ok {
			checkEntry(t, s, e)
			if e.Stream != "stdout" && e.Stream != "stderr" {
				t.Errorf("stream %q", e.Stream)
			}
		}
	})
}

func FuzzParseAccess(f *testing.F) {
	for _, s := range []string{`203.0.113.7 - - [10/Oct/2025:13:55:36 -0700] "POST /v1/models/churn:predict HTTP/1.1" 503 12 "-" "curl/8"`, `x - - [] "" 999 -`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, ok := parseAccess(s); ok && (e.Status < 100 || e.Status > 999) {
			t.Errorf("status %d from %q", e.Status, s)
		}
		if e, ok := parseRequest(s); ok && e.Request == "" {
			t.Errorf("no request from %q", s)
		}
	})
}

func FuzzParseTSMetric(f *testing.F) {
	for _, s := range []string{"CPUUtilization.Percent:100.0|#Level:Host|#hostname:h,timestamp:1651137801", "W-9000-my_tc_1.0.ms:13817|#Level:Host", "QueueTime.ms:0|#Level:Host|#hostname:Unknown,timestamp:null", "a:b", ":1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, ok := parseTSMetric(s); ok && (m.Name == "" || len(m.Dims) > 16) {
			t.Errorf("metric %+v from %q", m, s)
		}
	})
}

// FuzzLineReader: whatever the bytes, lines are at most max long, cover
// the input without gaps, and are counted once.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\n"+strings.Repeat("x", 300)+"\nlast"), 256)
	f.Add([]byte{0, 0xff, '\n', 0xc3}, 300)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		max = 256 + (max&0xffff)%4096
		lr := newLineReader(iotest.HalfReader(strings.NewReader(string(b))), 0, max)
		var pos int64
		var got []string
		for {
			l, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Start != pos || l.End <= l.Start || len(l.Text) > max {
				t.Fatalf("line %+v at %d (max %d)", l, pos, max)
			}
			pos = l.End
			got = append(got, string(l.Text))
		}
		if pos != int64(len(b)) {
			t.Fatalf("read %d of %d bytes", pos, len(b))
		}
		if want := refLines(string(b), max); strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
			t.Fatalf("lines %q, want %q", got, want)
		}
	})
}

// FuzzMaskPII: masking never breaks UTF-8 and is stable.
func FuzzMaskPII(f *testing.F) {
	for _, s := range []string{"client 203.0.113.7 and +44 20 7946 0958", "2001:db8::17", "1.2.3.4.5", "(202) 555-0147"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := maskPII(s)
		if utf8.ValidString(s) && !utf8.ValidString(m) {
			t.Errorf("maskPII(%q) = %q, not UTF-8", s, m)
		}
		if again := maskPII(m); again != m {
			t.Errorf("maskPII not stable: %q → %q → %q", s, m, again)
		}
	})
}

// FuzzAssembler feeds random text through the record assembler and the
// extractor: bounded records, no panic.
func FuzzAssembler(f *testing.F) {
	f.Add("2025-08-19 02:41:42,209 INFO Starting model deployment...\nTraceback (most recent call last):\n  x\nValueError: y\n2025-08-19 02:41:44,803 INFO MODEL DEPLOYMENT SUCCESSFUL!\n", "text")
	f.Add(`{"log":"a","time":"2019-01-01T00:00:00Z"}`+"\n", "docker")
	f.Add("2016-10-06T00:17:09Z stdout P a\n", "cri")
	f.Fuzz(func(t *testing.T, text, format string) {
		if _, ok := formatNames[format]; !ok || format == "" || format == formatAuto {
			format = formatText
		}
		x := &extractor{patterns: builtinPatterns(), stems: newStemIndex(), gap: defaultIncidentGap, out: func(*event) error { return nil }}
		a := &assembler{format: formatNames[format], year: 2025, stamped: true, emit: func(r *record) error {
			if len(r.Lines) > maxRecordLines {
				t.Fatalf("record of %d lines", len(r.Lines))
			}
			return x.record(r)
		}}
		feedLines(t, a, text)
		if _, err := x.finish(); err != nil {
			t.Fatal(err)
		}
	})
}
