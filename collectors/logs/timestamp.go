package logs

import (
	"strings"
	"time"
)

// leadingTime parses the timestamp a text log line starts with and returns
// it with the rest of the line. It knows ISO 8601 / RFC 3339 with a T or a
// space, with comma or dot fractions and with or without a zone (no zone:
// UTC), optionally in square brackets (Airflow, GitHub Actions' BOM
// stripped before); syslog's "Jan _2 15:04:05" (the year is year, as
// syslog does not say) with or without an RFC 3164 priority; and RFC 5424
// ("<34>1 2003-10-11T22:14:15.003Z …").
func leadingTime(s string, year int) (time.Time, string, bool) {
	if len(s) < 15 {
		return time.Time{}, s, false
	}
	if s[0] == '<' { // syslog priority
		i := strings.IndexByte(s[:min(len(s), 6)], '>')
		if i < 2 {
			return time.Time{}, s, false
		}
		s = s[i+1:]
		if strings.HasPrefix(s, "1 ") { // RFC 5424 version
			s = s[2:]
		}
	}
	if s[0] == '[' {
		end := strings.IndexByte(s[:min(len(s), 48)], ']')
		if end < 0 {
			return time.Time{}, s, false
		}
		t, rest, ok := isoTime(s[1:end])
		if !ok || strings.TrimSpace(rest) != "" {
			return time.Time{}, s, false
		}
		return t, s[end+1:], true
	}
	if t, rest, ok := isoTime(s); ok {
		return t, rest, true
	}
	return syslogTime(s, year)
}

func digits(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// isoTime parses "2006-01-02T15:04:05[.,frac][Z|±hh[:]mm]" at the start of s.
func isoTime(s string) (time.Time, string, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, s, false
	}
	y, ok1 := digits(s, 4)
	mo, ok2 := digits(s[5:], 2)
	d, ok3 := digits(s[8:], 2)
	h, ok4 := digits(s[11:], 2)
	mi, ok5 := digits(s[14:], 2)
	se, ok6 := digits(s[17:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 {
		return time.Time{}, s, false
	}
	i := 19
	nsec := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		j := i + 1
		scale := 100000000
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if scale > 0 {
				nsec += int(s[j]-'0') * scale
				scale /= 10
			}
			j++
		}
		if j == i+1 {
			return time.Time{}, s, false
		}
		i = j
	}
	off := 0 // the zone's offset east of UTC, in seconds
	switch {
	case i < len(s) && s[i] == 'Z':
		i++
	case i < len(s) && (s[i] == '+' || s[i] == '-'):
		j := i + 1
		if s[i] == '+' && i+1 < len(s) && s[i+1] == ' ' {
			break
		}
		zh, ok := digits(s[j:], 2)
		if !ok {
			break
		}
		j += 2
		if j < len(s) && s[j] == ':' {
			j++
		}
		zm, ok := digits(s[j:], 2)
		if !ok {
			break
		}
		j += 2
		off = (zh*60 + zm) * 60
		if s[i] == '-' {
			off = -off
		}
		if zh > 14 || zm > 59 {
			return time.Time{}, s, false
		}
		i = j
	}
	return utcTime(y, mo, d, h, mi, se, nsec, off), s[i:], true
}

// utcTime is time.Date(y, mo, d, h, mi, se, nsec, a zone off seconds east
// of UTC).UTC(), for fields already checked to be in range (a day past the
// month's end and a leap second roll over, as time.Date's do), without
// time.Date's cost: a log is a stream of timestamps.
func utcTime(y, mo, d, h, mi, se, nsec, off int) time.Time {
	// Days since 1970-01-01 of the proleptic Gregorian date (the
	// days_from_civil algorithm), with March as the first month so that
	// the leap day ends a year.
	if mo <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	m := mo + 9
	if mo > 2 {
		m = mo - 3
	}
	doy := (153*m+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era)*146097 + int64(doe) - 719468
	sec := days*86400 + int64(h*3600+mi*60+se-off)
	return time.Unix(sec, int64(nsec)).UTC()
}

// monthOf returns the month of an English abbreviation ("Jan"), or 0.
func monthOf(s string) int {
	switch s {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// syslogTime parses "Jan _2 15:04:05" at the start of s.
func syslogTime(s string, year int) (time.Time, string, bool) {
	if len(s) < 15 || s[3] != ' ' || s[9] != ':' || s[12] != ':' {
		return time.Time{}, s, false
	}
	mo := monthOf(s[:3])
	if mo == 0 {
		return time.Time{}, s, false
	}
	d, ok1 := digits(s[4:6], 2)
	if s[4] == ' ' {
		d, ok1 = digits(s[5:6], 1)
	}
	h, ok2 := digits(s[7:], 2)
	mi, ok3 := digits(s[10:], 2)
	se, ok4 := digits(s[13:], 2)
	if !(ok1 && ok2 && ok3 && ok4) || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 {
		return time.Time{}, s, false
	}
	i := 15
	nsec := 0
	if i < len(s) && s[i] == '.' {
		j := i + 1
		scale := 100000000
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if scale > 0 {
				nsec += int(s[j]-'0') * scale
				scale /= 10
			}
			j++
		}
		i = j
	}
	return utcTime(year, mo, d, h, mi, se, nsec, 0), s[i:], true
}
