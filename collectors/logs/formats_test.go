package logs

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

func TestLeadingTime(t *testing.T) {
	for _, tc := range []struct {
		in, want, rest string
	}{
		{"2025-08-19 02:41:42,209 INFO x", "2025-08-19T02:41:42.209Z", " INFO x"},
		{"2022-04-28T09:23:18,996 [INFO ] main", "2022-04-28T09:23:18.996Z", " [INFO ] main"},
		{"2025-12-31T17:58:21.6735965Z Current", "2025-12-31T17:58:21.6735965Z", " Current"},
		{"[2025-08-18T21:06:36.552+0000] {taskinstance.py:1979} INFO", "2025-08-18T21:06:36.552Z", " {taskinstance.py:1979} INFO"},
		{"2025-08-18T23:06:36.552+02:00 x", "2025-08-18T21:06:36.552Z", " x"},
		{"2016-10-06T00:17:09.669794202Z stdout F msg", "2016-10-06T00:17:09.669794202Z", " stdout F msg"},
		{"Oct 11 22:14:15 host app[12]: msg", "2025-10-11T22:14:15Z", " host app[12]: msg"},
		{"Oct  1 02:04:05 host app: msg", "2025-10-01T02:04:05Z", " host app: msg"},
		{"<34>Oct 11 22:14:15 host su: msg", "2025-10-11T22:14:15Z", " host su: msg"},
		{"<165>1 2003-10-11T22:14:15.003Z host app - - msg", "2003-10-11T22:14:15.003Z", " host app - - msg"},
	} {
		got, rest, ok := leadingTime(tc.in, 2025)
		if !ok || got.Format(time.RFC3339Nano) != tc.want || rest != tc.rest {
			t.Errorf("leadingTime(%q) = %v, %q, %v; want %s, %q", tc.in, got.Format(time.RFC3339Nano), rest, ok, tc.want, tc.rest)
		}
	}
	for _, in := range []string{"Torchserve version: 0.5.3", "2025-13-01 00:00:00 x", "2025-08-19T25:00:00Z", "  File \"x.py\", line 3", "[2025-08-19] x", "1651137801625 x"} {
		if _, _, ok := leadingTime(in, 2025); ok {
			t.Errorf("leadingTime(%q) took a timestamp", in)
		}
	}
}

func TestParseText(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		level, logger, msg string
		status             int
		request            string
	}{
		{"2025-08-19 02:41:42,209 INFO Starting model deployment...", "INFO", "", "Starting model deployment...", 0, ""},
		{"2025-08-19 17:47:31,020 ERROR Deployment failed: x", "ERROR", "", "Deployment failed: x", 0, ""},
		{"2022-04-28T09:23:20,157 [INFO ] main org.pytorch.serve.wlm.ModelManager - Model my_tc loaded.", "INFO", "org.pytorch.serve.wlm.ModelManager", "Model my_tc loaded.", 0, ""},
		{"2022-04-28T09:23:21,378 [INFO ] pool-3-thread-1 TS_METRICS - CPUUtilization.Percent:100.0|#Level:Host", "INFO", "TS_METRICS", "CPUUtilization.Percent:100.0|#Level:Host", 0, ""},
		{"2022-04-28T09:24:50,384 [INFO ] W-9000-my_tc_1.0 ACCESS_LOG - /127.0.0.1:35226 \"POST /predictions/my_tc HTTP/1.1\" 200 957", "INFO", "ACCESS_LOG", "/127.0.0.1:35226 \"POST /predictions/my_tc HTTP/1.1\" 200 957", 200, "POST /predictions/my_tc"},
		{"[2025-08-18T21:06:36.562+0000] {taskinstance.py:2193} INFO - Starting attempt 1 of 1", "INFO", "{taskinstance.py:2193}", "Starting attempt 1 of 1", 0, ""},
		{"2025-08-19 02:41:42,209 - churn.deploy - WARNING - low disk", "WARN", "churn.deploy", "low disk", 0, ""},
		{"2025-12-31T18:00:23.9Z ##[error]Process completed with exit code 1.", "ERROR", "", "##[error]Process completed with exit code 1.", 0, ""},
		{"2022-04-28T09:24:50,382 - HandlerTime.Milliseconds:926.49|#ModelName:my_tc", "", "", "HandlerTime.Milliseconds:926.49|#ModelName:my_tc", 0, ""},
	} {
		e, ok := parseText(tc.in, 2025)
		if !ok || e.Level != tc.level || e.Logger != tc.logger || e.Message != tc.msg || e.Status != tc.status || e.Request != tc.request {
			t.Errorf("parseText(%q) = %+v, %v", tc.in, e, ok)
		}
	}
}

func TestParseAccessAndMetrics(t *testing.T) {
	e, ok := parseAccess(`203.0.113.7 - - [10/Oct/2025:13:55:36 -0700] "POST /v1/models/churn:predict HTTP/1.1" 503 12 "-" "curl/8"`)
	if !ok || e.Status != 503 || e.Request != "POST /v1/models/churn:predict" || e.Time.Format(time.RFC3339) != "2025-10-10T20:55:36Z" || e.Level != "ERROR" {
		t.Errorf("parseAccess: %+v %v", e, ok)
	}
	m, ok := parseTSMetric("PredictionTime.Milliseconds:926.56|#ModelName:my_tc,Level:Model|#hostname:h,requestID:601e,timestamp:1651137890")
	if !ok || m.Name != "PredictionTime" || m.Unit != "Milliseconds" || m.Value != 926.56 || m.Dims["ModelName"] != "my_tc" || m.Dims["timestamp"] != "1651137890" {
		t.Errorf("parseTSMetric: %+v %v", m, ok)
	}
	if _, ok := parseTSMetric("Model my_tc loaded."); ok {
		t.Error("a sentence read as a metric")
	}
}

// records assembles text with the given format into records.
func records(t *testing.T, format, text string) []*record {
	t.Helper()
	var out []*record
	a := &assembler{format: format, year: 2025, stamped: true, emit: func(r *record) error {
		cp := *r // the assembler reuses r
		cp.Lines = append([]string(nil), r.Lines...)
		out = append(out, &cp)
		return nil
	}}
	feedLines(t, a, text)
	return out
}

// feedLines reads text line by line (lines cut at 1 KiB) into a, then
// flushes it.
func feedLines(t testing.TB, a *assembler, text string) {
	t.Helper()
	lr := newLineReader(strings.NewReader(text), 0, 1<<10)
	for {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := a.add(l, toText(l.Text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.flush(); err != nil {
		t.Fatal(err)
	}
}

func TestAssembler(t *testing.T) {
	t.Run("docker partial lines", func(t *testing.T) {
		rs := records(t, formatDocker, `{"log":"2025-08-19 02:41:42,209 ERROR Deploy","stream":"stderr","time":"2025-08-19T02:41:42.3Z"}
{"log":"ment failed: boom\n","stream":"stderr","time":"2025-08-19T02:41:42.4Z"}
{"log":"next\n","stream":"stdout","time":"2025-08-19T02:41:43Z"}
`)
		if len(rs) != 2 || rs[0].Message != "Deployment failed: boom" || rs[0].Level != "ERROR" || len(rs[0].Lines) != 2 || rs[1].Message != "next" {
			t.Errorf("records %+v", rs)
		}
	})
	t.Run("CRI partial lines", func(t *testing.T) {
		rs := records(t, formatCRI, "2025-08-19T02:41:42.1Z stdout P Starting model \n2025-08-19T02:41:42.2Z stdout P deploy\n2025-08-19T02:41:42.3Z stdout F ment...\n2025-08-19T02:41:43Z stderr F done\n")
		if len(rs) != 2 || rs[0].Message != "Starting model deployment..." || rs[0].Time.Format(time.RFC3339Nano) != "2025-08-19T02:41:42.1Z" || rs[1].Message != "done" {
			t.Errorf("records %+v", rs)
		}
	})
	t.Run("traceback under a log line", func(t *testing.T) {
		rs := records(t, formatText, "2025-08-19 02:41:42,209 ERROR Deployment failed\nTraceback (most recent call last):\n  File \"deploy.py\", line 3, in <module>\n    main()\nValueError: bad model\n2025-08-19 02:41:43,000 INFO next\n")
		if len(rs) != 2 || !rs[0].Traceback || rs[0].Exception != "ValueError: bad model" || len(rs[0].Lines) != 5 {
			t.Errorf("records %+v", rs)
		}
	})
	t.Run("traceback one line per record", func(t *testing.T) {
		p := "[2025-08-18T21:06:38.852+0000] {subprocess.py:93} INFO - "
		rs := records(t, formatText, p+"Traceback (most recent call last):\n"+p+"  File \"x.py\", line 1, in f\n"+p+"    g()\n"+
			p+"mlflow.exceptions.MissingConfigException: Yaml file does not exist.\n"+p+"after\n")
		if len(rs) != 2 || !rs[0].Traceback || rs[0].Exception != "mlflow.exceptions.MissingConfigException: Yaml file does not exist." || rs[1].Message != "after" {
			t.Errorf("records %+v", rs)
		}
	})
	t.Run("JSON lines", func(t *testing.T) {
		rs := records(t, formatJSON, `{"ts":1724058102.5,"level":"error","msg":"rollout failed","logger":"deployer"}`+"\n")
		if len(rs) != 1 || rs[0].Level != "ERROR" || rs[0].Message != "rollout failed" || rs[0].Logger != "deployer" || rs[0].Time.Format(time.RFC3339Nano) != "2024-08-19T09:01:42.5Z" {
			t.Errorf("records %+v", rs[0])
		}
	})
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct{ want, line string }{
		{formatDocker, `{"log":"x\n","stream":"stdout","time":"2019-01-01T00:00:00Z"}`},
		{formatCRI, "2016-10-06T00:17:09.669794202Z stdout F msg"},
		{formatJSON, `{"time":"2019-01-01T00:00:00Z","msg":"x"}`},
		{formatAccess, `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326`},
		{formatText, "2025-08-19 02:41:42,209 INFO x"},
		{formatText, "no timestamps here"},
	} {
		if got := detectFormat([]string{tc.line, tc.line}, 2025); got != tc.want {
			t.Errorf("detectFormat(%q) = %s, want %s", tc.line, got, tc.want)
		}
	}
}

func TestLineReader(t *testing.T) {
	// Lines longer than the limit are cut before a word (textcap.CutBeforeWord): a
	// line of one long word is cut to nothing.
	in := "short\r\n" + strings.Repeat("y", 3000) + "\n" + strings.Repeat("word ", 600) + "\nlast"
	lr := newLineReader(strings.NewReader(in), 100, 1024)
	var got []line
	for {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		l.Text = append([]byte(nil), l.Text...) // the reader's buffer until the next line
		got = append(got, l)
	}
	if len(got) != 4 || string(got[0].Text) != "short" || got[0].Start != 100 || got[0].End != 107 ||
		!got[1].Cut || len(got[1].Text) != 0 || got[1].End != 107+3001 ||
		!got[2].Cut || len(got[2].Text) != 1024 || !strings.HasSuffix(string(got[2].Text), " word") || got[2].End != 3108+3001 ||
		got[3].Closed || string(got[3].Text) != "last" {
		t.Errorf("lines %+v", got)
	}
}

// refLines is what lineReader must return for in with limit max: lines
// split at "\n", a final "\r" dropped, cut by textcap.CutBeforeWord.
func refLines(in string, max int) []string {
	var out []string
	for len(in) > 0 {
		l, rest, found := strings.Cut(in, "\n")
		if len(l) > max {
			l = textcap.CutBeforeWord(l, max)
		}
		out = append(out, strings.TrimSuffix(l, "\r"))
		if !found {
			break
		}
		in = rest
	}
	return out
}

// TestLineReaderLongLines: lines shorter and longer than the read buffer
// and than the limit, read whole or a byte at a time or half a buffer at a
// time, give the same lines as splitting the text.
func TestLineReaderLongLines(t *testing.T) {
	words := func(n int) string { return strings.Repeat("word ", n/5+1)[:n] }
	in := "a\r\n" + words(300<<10) + "\r\n" + strings.Repeat("z", 700<<10) + "\n" + words(600<<10) + "\n\nend " + words(readBytes+3)
	for _, max := range []int{1024, 512 << 10, 1 << 20} {
		want := refLines(in, max)
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return strings.NewReader(in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
			"half":     func() io.Reader { return iotest.HalfReader(strings.NewReader(in)) },
		} {
			lr := newLineReader(r(), 0, max)
			var got []string
			var end int64
			for {
				l, err := lr.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n := l.End - l.Start // the line's bytes, with its "\r" but not its "\n"
				if l.Closed {
					n--
				}
				if l.Start != end || l.Cut != (n > int64(max)) {
					t.Fatalf("max %d, %s: line at %d: %+v", max, name, end, l)
				}
				end = l.End
				got = append(got, string(l.Text))
			}
			if end != int64(len(in)) || len(got) != len(want) {
				t.Fatalf("max %d, %s: %d lines to byte %d, want %d to %d", max, name, len(got), end, len(want), len(in))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("max %d, %s: line %d is %d bytes %.20q…, want %d bytes %.20q…", max, name, i+1, len(got[i]), got[i], len(want[i]), want[i])
				}
			}
		}
	}
}
