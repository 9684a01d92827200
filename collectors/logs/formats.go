package logs

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Formats of the format key. "auto" detects one per file from its first
// lines; syslog, python, airflow, torchserve and gha are all read by the
// text parser, and are accepted as names for it.
const (
	formatAuto   = "auto"
	formatText   = "text"
	formatJSON   = "json"
	formatDocker = "docker"
	formatCRI    = "cri"
	formatAccess = "access"
)

// formatNames maps what the user may write to the parser that reads it.
var formatNames = map[string]string{
	"": formatAuto, formatAuto: formatAuto, formatText: formatText, formatJSON: formatJSON,
	"jsonl": formatJSON, formatDocker: formatDocker, "docker-json": formatDocker, formatCRI: formatCRI,
	formatAccess: formatAccess, "syslog": formatText, "python": formatText, "airflow": formatText,
	"torchserve": formatText, "gha": formatText,
}

// entry is what a line parser makes of one line.
type entry struct {
	Time    time.Time // zero: the line has none
	Level   string    // canonical: DEBUG, INFO, WARN, ERROR, CRITICAL; or ""
	Logger  string    // logger, class or source ("{taskinstance.py:1149}", "TS_METRICS")
	Message string
	Stream  string // stdout or stderr (docker, CRI)
	Partial bool   // docker or CRI: the message continues on the next line
	Status  int    // HTTP status of an access line
	Request string // "POST /predictions/my_tc" of an access line
	Client  string // client address of an access line
}

// canonLevel returns the canonical level of a spelling (INFO, Warning,
// err, FATAL …), or "".
func canonLevel(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 3 || len(s) > 8 {
		return ""
	}
	if lv := upperLevel(s); lv != "" { // upper case, as most logs write it
		return lv
	}
	var up [8]byte // s in upper case, without allocating for ASCII
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return upperLevel(strings.ToUpper(s))
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	return upperLevel(string(up[:len(s)]))
}

// upperLevel maps the upper-case level spellings to the canonical ones.
func upperLevel(s string) string {
	switch s {
	case "TRACE", "DEBUG", "FINE":
		return "DEBUG"
	case "INFO", "NOTICE":
		return "INFO"
	case "WARN", "WARNING":
		return "WARN"
	case "ERROR", "ERR", "SEVERE":
		return "ERROR"
	case "CRITICAL", "CRIT", "FATAL", "ALERT", "EMERG", "PANIC":
		return "CRITICAL"
	}
	return ""
}

// parseText parses a text log line: a leading timestamp (see leadingTime),
// then an optional Airflow source ("{file.py:12}"), level ("INFO",
// "[INFO ]", "INFO:", "name - INFO -"), TorchServe thread and logger, and
// the message. ok is false when the line has no leading timestamp: it
// continues the previous record.
func parseText(s string, year int) (entry, bool) {
	t, rest, ok := leadingTime(s, year)
	if !ok {
		if e, ok := parseAccess(s); ok {
			return e, true
		}
		return entry{Message: s}, false
	}
	e := entry{Time: t}
	rest = trimBlanks(rest)
	rest = strings.TrimPrefix(rest, "- ")
	rest = strings.TrimPrefix(rest, "| ")
	// Airflow: "{taskinstance.py:1149} INFO - msg"
	if strings.HasPrefix(rest, "{") {
		if i := strings.IndexByte(rest, '}'); i > 0 && i < 80 {
			e.Logger = rest[:i+1]
			rest = trimSpaces(rest[i+1:])
		}
	}
	// Level, bracketed or bare, followed by a space, " - " or ":".
	if lv, after, ok := cutLevel(rest); ok {
		e.Level = lv
		rest = after
	} else if name, after, ok := strings.Cut(rest, " - "); ok && !strings.Contains(name, " ") {
		// Python's "%(name)s - %(levelname)s - %(message)s"
		if lv, after2, ok := cutLevel(after); ok {
			e.Logger, e.Level, rest = name, lv, after2
		}
	}
	// TorchServe: "main org.pytorch.serve.ModelServer - msg",
	// "W-9000-my_tc_1.0 TS_METRICS - msg"
	if e.Level != "" && e.Logger == "" {
		if a, b, ok := strings.Cut(rest, " "); ok && strings.IndexByte(a, '\t') < 0 {
			// A logger name has no space: only a " - " at b's first
			// space can end one.
			if lg, msg, ok := cutFirstSpace(b, " - "); ok && isLoggerName(lg) {
				e.Logger = lg
				rest = msg
			} else if lg, ok := strings.CutSuffix(b, " -"); ok && isLoggerName(lg) {
				e.Logger = lg
				rest = ""
			}
		}
	}
	if strings.HasPrefix(rest, "##[") { // GitHub Actions workflow commands
		switch {
		case strings.HasPrefix(rest, "##[error]"):
			e.Level = "ERROR"
		case strings.HasPrefix(rest, "##[warning]"):
			e.Level = "WARN"
		}
	}
	e.Message = rest
	if strings.Contains(rest, "HTTP/") {
		if a, ok := parseRequest(rest); ok {
			e.Request, e.Status, e.Client = a.Request, a.Status, a.Client
		}
	}
	return e, true
}

// trimBlanks is strings.TrimLeft(s, " \t"), trimSpaces
// strings.TrimLeft(s, " ") and hasBlank strings.ContainsAny(s, " \t"),
// cheaper: they run several times on every line.
func trimBlanks(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

func trimSpaces(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

func hasBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			return true
		}
	}
	return false
}

// cutFirstSpace is strings.Cut(s, sep) for a sep that starts with a
// space, when what comes before sep must hold no space: it looks for sep
// only at s's first space.
func cutFirstSpace(s, sep string) (before, after string, found bool) {
	i := strings.IndexByte(s, ' ')
	if i < 0 || !strings.HasPrefix(s[i:], sep) {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// isLoggerName reports whether s looks like a Java class or an all-caps
// logger (TS_METRICS, MODEL_LOG).
func isLoggerName(s string) bool {
	if s == "" || len(s) > 120 || hasBlank(s) {
		return false
	}
	if strings.Count(s, ".") >= 2 {
		return true
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9') {
			return false
		}
	}
	return strings.Contains(s, "_")
}

// cutLevel cuts a level from the start of s.
func cutLevel(s string) (string, string, bool) {
	if s == "" {
		return "", s, false
	}
	if s[0] == '[' || s[0] == '<' {
		close := byte(']')
		if s[0] == '<' {
			close = '>'
		}
		i := strings.IndexByte(s[:min(len(s), 12)], close)
		if i < 0 {
			return "", s, false
		}
		lv := canonLevel(s[1:i])
		if lv == "" {
			return "", s, false
		}
		rest := trimSpaces(s[i+1:])
		return lv, strings.TrimPrefix(rest, "- "), true
	}
	end := -1
	for i := 0; i < min(len(s), 10); i++ {
		if s[i] == ' ' || s[i] == ':' {
			end = i
			break
		}
	}
	if end < 0 {
		if lv := canonLevel(s); lv != "" && len(s) <= 8 {
			return lv, "", true
		}
		return "", s, false
	}
	lv := canonLevel(s[:end])
	if lv == "" || !isUpper(s[:end]) {
		return "", s, false
	}
	rest := s[end:]
	for len(rest) > 0 && (rest[0] == ':' || rest[0] == ' ') {
		rest = rest[1:]
	}
	return lv, strings.TrimPrefix(rest, "- "), true
}

var (
	// clfRe is the Common and Combined Log Format of web servers.
	clfRe = regexp.MustCompile(`^(\S+) \S+ \S+ \[([^\]]{20,32})\] "([^"]*)" (\d{3}) (\S+)`)
)

// parseAccess parses a Common or Combined Log Format line.
func parseAccess(s string) (entry, bool) {
	if len(s) < 30 || !strings.Contains(s, "HTTP/") && !strings.Contains(s, "\" ") {
		return entry{}, false
	}
	m := clfRe.FindStringSubmatch(s)
	if m == nil {
		return entry{}, false
	}
	t, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[2])
	if err != nil {
		return entry{}, false
	}
	st, _ := strconv.Atoi(m[4])
	method, path, _ := strings.Cut(m[3], " ")
	path, _, _ = strings.Cut(path, " ")
	e := entry{Time: t.UTC(), Message: s, Status: st, Request: method + " " + path, Client: m[1], Logger: "access"}
	e.Level = statusLevel(st)
	return e, true
}

// parseRequest finds a request line and status at the start of a
// message: an optional client, then `"METHOD path HTTP/x.y" status`.
func parseRequest(s string) (entry, bool) {
	var client string
	if !strings.HasPrefix(s, `"`) {
		c, _, ok := strings.Cut(s, ` "`)
		if !ok || hasBlank(c) {
			return entry{}, false
		}
		client, s = c, s[len(c)+1:] // from the quote on
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return entry{}, false
	}
	req, after := s[1:1+end], s[2+end:]
	method, rest, ok := strings.Cut(req, " ")
	if !ok || len(method) < 3 || len(method) > 7 || !isLetters(method) {
		return entry{}, false
	}
	path, proto, ok := strings.Cut(rest, " ")
	if !ok || path == "" || !strings.HasPrefix(proto, "HTTP/") || hasBlank(proto[5:]) || len(proto) < 6 {
		return entry{}, false
	}
	if len(after) < 4 || after[0] != ' ' || (len(after) > 4 && after[4] != ' ') {
		return entry{}, false
	}
	st, ok := digits(after[1:], 3)
	if !ok {
		return entry{}, false
	}
	return entry{Status: st, Request: req[:len(method)+1+len(path)], Client: client}, true
}

// isUpper reports whether s == strings.ToUpper(s), without allocating
// for ASCII.
func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			return s == strings.ToUpper(s)
		} else if c >= 'a' && c <= 'z' {
			return false
		}
	}
	return true
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func statusLevel(st int) string {
	if st >= 500 {
		return "ERROR"
	}
	return "INFO"
}

// parseJSON parses one JSON log object: its message under message, msg,
// log, text or event; time under time, timestamp, ts, @timestamp, asctime
// or datetime (RFC 3339 or epoch seconds or milliseconds); level under
// level, severity, levelname or lvl.
func parseJSON(s string, year int) (entry, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' {
		return entry{}, false
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return entry{}, false
	}
	var e entry
	for _, k := range []string{"message", "msg", "log", "text", "event"} {
		if v, ok := m[k].(string); ok {
			e.Message = v
			break
		}
	}
	for _, k := range []string{"time", "timestamp", "ts", "@timestamp", "asctime", "datetime"} {
		if t, ok := jsonTime(m[k], year); ok {
			e.Time = t
			break
		}
	}
	for _, k := range []string{"level", "severity", "levelname", "lvl"} {
		if v, ok := m[k].(string); ok {
			e.Level = canonLevel(v)
			break
		}
	}
	for _, k := range []string{"logger", "name", "logger_name"} {
		if v, ok := m[k].(string); ok {
			e.Logger = v
			break
		}
	}
	if v, ok := m["stream"].(string); ok {
		e.Stream = v
	}
	if e.Message == "" {
		e.Message = s
	}
	return e, true
}

func jsonTime(v any, year int) (time.Time, bool) {
	switch x := v.(type) {
	case string:
		t, rest, ok := leadingTime(x, year)
		return t, ok && strings.TrimSpace(rest) == ""
	case float64:
		switch {
		case x > 1e17: // nanoseconds
			return time.Unix(0, int64(x)).UTC(), true
		case x > 1e11: // milliseconds
			return time.UnixMilli(int64(x)).UTC(), true
		case x > 0:
			sec := int64(x)
			return time.Unix(sec, int64((x-float64(sec))*1e9)).UTC(), true
		}
	}
	return time.Time{}, false
}

// parseDocker parses a line of Docker's json-file driver:
// {"log":"…\n","stream":"stdout","time":"2019-…Z"}. A log without a final
// line break is a partial message (lines over 16 KiB are split).
func parseDocker(s string, year int) (entry, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.Contains(s, `"log"`) {
		return entry{}, false
	}
	var d struct {
		Log    *string `json:"log"`
		Stream string  `json:"stream"`
		Time   string  `json:"time"`
	}
	if err := json.Unmarshal([]byte(s), &d); err != nil || d.Log == nil {
		return entry{}, false
	}
	e := entry{Stream: d.Stream}
	if t, rest, ok := leadingTime(d.Time, year); ok && strings.TrimSpace(rest) == "" {
		e.Time = t
	}
	msg := *d.Log
	e.Partial = !strings.HasSuffix(msg, "\n")
	e.Message = strings.TrimSuffix(strings.TrimSuffix(msg, "\n"), "\r")
	return e, true
}

// parseCRI parses a line of the Kubernetes CRI log format:
// "<RFC 3339 time> <stdout|stderr> <P|F> <message>"; P marks a partial
// message that the next lines continue.
func parseCRI(s string, year int) (entry, bool) {
	ts, rest, ok := strings.Cut(s, " ")
	if !ok {
		return entry{}, false
	}
	stream, rest, ok := strings.Cut(rest, " ")
	if !ok || stream != "stdout" && stream != "stderr" {
		return entry{}, false
	}
	tag, msg, ok := strings.Cut(rest, " ")
	if !ok {
		tag, msg = rest, ""
	}
	if tag != "P" && tag != "F" && !strings.HasPrefix(tag, "F:") && !strings.HasPrefix(tag, "P:") {
		return entry{}, false
	}
	t, r, ok := leadingTime(ts, year)
	if !ok || r != "" {
		return entry{}, false
	}
	return entry{Time: t, Stream: stream, Partial: tag[0] == 'P', Message: msg}, true
}

// parseTSMetricHead parses a metric's name, unit and value, and returns
// its dimensions unparsed.
func parseTSMetricHead(s string) (tsMetric, string, bool) {
	head, dims, _ := strings.Cut(s, "|#")
	nu, val, ok := strings.Cut(head, ":")
	if !ok || nu == "" || hasBlank(nu) {
		return tsMetric{}, "", false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		return tsMetric{}, "", false
	}
	m := tsMetric{Name: nu, Value: v}
	if i := strings.LastIndexByte(nu, '.'); i > 0 {
		m.Name, m.Unit = nu[:i], nu[i+1:]
	}
	return m, dims, true
}

// metricModel returns the ModelName dimension of a metric's dimensions.
func metricModel(dims string) string {
	i := strings.Index(dims, "ModelName:")
	if i < 0 || i > 0 && dims[i-1] != ',' && dims[i-1] != '#' {
		return ""
	}
	v := dims[i+len("ModelName:"):]
	if j := strings.IndexAny(v, ",|"); j >= 0 {
		v = v[:j]
	}
	return v
}

// inner parses the message of a JSON, Docker or CRI entry as a text log
// line, so that an application's own level and logger show through.
func inner(e entry, year int) entry {
	in, ok := parseText(e.Message, year)
	if !ok {
		if in.Status != 0 {
			e.Status, e.Request, e.Client = in.Status, in.Request, in.Client
		}
		return e
	}
	if in.Level != "" {
		e.Level = in.Level
	}
	if e.Logger == "" {
		e.Logger = in.Logger
	}
	e.Message = in.Message
	e.Status, e.Request, e.Client = in.Status, in.Request, in.Client
	if !in.Time.IsZero() {
		e.Time = in.Time
	}
	return e
}

// detectFormat picks the format that parses most of the sample lines,
// preferring the most specific on a tie; text when none does.
func detectFormat(sample []string, year int) string {
	order := []string{formatDocker, formatCRI, formatJSON, formatAccess, formatText}
	counts := map[string]int{}
	for _, s := range sample {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if _, ok := parseDocker(s, year); ok {
			counts[formatDocker]++
		}
		if _, ok := parseCRI(s, year); ok {
			counts[formatCRI]++
		}
		if _, ok := parseJSON(s, year); ok {
			counts[formatJSON]++
		}
		if _, ok := parseAccess(s); ok {
			counts[formatAccess]++
		}
		if _, _, ok := leadingTime(s, year); ok {
			counts[formatText]++
		}
	}
	best, n := formatText, 0
	for _, f := range order {
		if counts[f] > n {
			best, n = f, counts[f]
		}
	}
	return best
}

// tsMetric is a TorchServe metric line: "Name.Unit:Value|#dim:v,…|#…".
type tsMetric struct {
	Name, Unit string
	Value      float64
	Dims       map[string]string
}

// parseTSMetric parses a TorchServe TS_METRICS or MODEL_METRICS message.
func parseTSMetric(s string) (tsMetric, bool) {
	m, dims, ok := parseTSMetricHead(s)
	if !ok {
		return m, false
	}
	if dims != "" {
		m.Dims = map[string]string{}
		for _, part := range strings.Split(strings.ReplaceAll(dims, "|#", ","), ",") {
			if k, v, ok := strings.Cut(part, ":"); ok && k != "" && len(m.Dims) < 16 {
				m.Dims[k] = v
			}
		}
	}
	return m, true
}
