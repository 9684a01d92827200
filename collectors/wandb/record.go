package wandb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// The fields read of wandb_internal.Record (wandb/proto/wandb_internal.proto):
//
//	Record:        num int64 = 1; history HistoryRecord = 2; metric MetricRecord = 12;
//	               run RunRecord = 17; exit RunExitRecord = 18 (others ignored)
//	HistoryRecord: repeated HistoryItem item = 1; HistoryStep step = 2 (num int64 = 1)
//	HistoryItem:   key = 1; repeated nested_key = 2; value_json = 16
//	MetricRecord:  name = 1; goal = 8 (1 minimize, 2 maximize)
//	RunRecord:     run_id = 1; entity = 2; project = 3; run_group = 6; job_type = 7;
//	               display_name = 8; notes = 9; repeated tags = 10; sweep_id = 12;
//	               host = 13; start_time Timestamp = 17 (seconds = 1, nanos = 2);
//	               git GitRepoRecord = 21 (remote_url = 1, commit = 2)
//	RunExitRecord: exit_code int32 = 1; runtime int32 = 2

// logRun is what a run log says of its run.
type logRun struct {
	ID, Entity, Project, Group, JobType string
	DisplayName, Notes, SweepID, Host   string
	Tags                                []string
	Start                               time.Time
	GitRemote, GitCommit                string
	Exited                              bool
	ExitCode                            int
	Runtime                             int // seconds
	Goals                               map[string]int
	History                             map[string]*series
	Records                             int
}

type point struct {
	Step  int64
	At    time.Time
	Value float64
}

// series is one history key's points, thinned past maxPoints (every
// other dropped) while Count and Last see every point.
type series struct {
	Points []point
	Count  int
	Last   point
	stride int
	since  int
}

const maxPoints = 10_000

func (s *series) add(p point) {
	if s.stride == 0 {
		s.stride = 1
	}
	s.Count++
	s.Last = p
	s.since++
	if s.since < s.stride && s.Count > 1 {
		return
	}
	s.since = 0
	s.Points = append(s.Points, p)
	if len(s.Points) >= 2*maxPoints {
		kept := s.Points[:0]
		for i := 0; i < len(s.Points); i += 2 {
			kept = append(kept, s.Points[i])
		}
		s.Points, s.stride = kept, s.stride*2
	}
}

// each calls fn for every field of a message.
func each(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, data []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v uint64
		var data []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			data, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v, data); err != nil {
			return err
		}
	}
	return nil
}

// add decodes one Record into lr.
func (lr *logRun) add(rec []byte) error {
	lr.Records++
	return each(rec, func(num protowire.Number, typ protowire.Type, _ uint64, data []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 2:
			return lr.history(data)
		case 12:
			return lr.metric(data)
		case 17:
			return lr.run(data)
		case 18:
			lr.Exited = true
			return each(data, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
				if typ == protowire.VarintType {
					switch num {
					case 1:
						lr.ExitCode = int(int32(v))
					case 2:
						lr.Runtime = int(int32(v))
					}
				}
				return nil
			})
		}
		return nil
	})
}

func (lr *logRun) run(b []byte) error {
	return each(b, func(num protowire.Number, typ protowire.Type, _ uint64, data []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		s := string(data)
		switch num {
		case 1:
			lr.ID = s
		case 2:
			lr.Entity = s
		case 3:
			lr.Project = s
		case 6:
			lr.Group = s
		case 7:
			lr.JobType = s
		case 8:
			lr.DisplayName = s
		case 9:
			lr.Notes = s
		case 10:
			if !slices.Contains(lr.Tags, s) { // each session repeats them
				lr.Tags = append(lr.Tags, s)
			}
		case 12:
			lr.SweepID = s
		case 13:
			lr.Host = s
		case 17:
			var sec, nanos uint64
			if err := each(data, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
				if typ == protowire.VarintType && num == 1 {
					sec = v
				} else if typ == protowire.VarintType && num == 2 {
					nanos = v
				}
				return nil
			}); err != nil {
				return err
			}
			if sec > 0 {
				lr.Start = time.Unix(int64(sec), int64(nanos%1e9)).UTC()
			}
		case 21:
			return each(data, func(num protowire.Number, typ protowire.Type, _ uint64, d []byte) error {
				if typ == protowire.BytesType {
					switch num {
					case 1:
						lr.GitRemote = string(d)
					case 2:
						lr.GitCommit = string(d)
					}
				}
				return nil
			})
		}
		return nil
	})
}

func (lr *logRun) metric(b []byte) error {
	var name string
	var goal int
	err := each(b, func(num protowire.Number, typ protowire.Type, v uint64, data []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			name = string(data)
		case num == 8 && typ == protowire.VarintType:
			goal = int(v)
		}
		return nil
	})
	if name != "" && goal != 0 {
		if lr.Goals == nil {
			lr.Goals = map[string]int{}
		}
		lr.Goals[name] = goal
	}
	return err
}

// history reads one logged step: every numeric item is a point at the
// step (_step, else the record's step number).
func (lr *logRun) history(b []byte) error {
	type item struct {
		key   string
		value []byte
	}
	var items []item
	step, hasStep := int64(0), false
	var at time.Time
	err := each(b, func(num protowire.Number, typ protowire.Type, _ uint64, data []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			var key string
			var nested []string
			var value []byte
			if err := each(data, func(num protowire.Number, typ protowire.Type, _ uint64, d []byte) error {
				if typ == protowire.BytesType {
					switch num {
					case 1:
						key = string(d)
					case 2:
						nested = append(nested, string(d))
					case 16:
						value = d
					}
				}
				return nil
			}); err != nil {
				return fmt.Errorf("history item: %w", err)
			}
			if len(nested) > 0 {
				key = strings.Join(nested, "/")
			}
			items = append(items, item{key, value})
		case 2:
			return each(data, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
				if num == 1 && typ == protowire.VarintType && !hasStep {
					step = int64(v)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, it := range items {
		switch it.key {
		case "_step":
			if x, ok := jsonNumber(it.value); ok {
				step, hasStep = int64(x), true
			}
		case "_timestamp":
			if x, ok := jsonNumber(it.value); ok && x > 0 {
				at = time.Unix(0, int64(x*1e9)).UTC()
			}
		}
	}
	for _, it := range items {
		if it.key == "" || strings.HasPrefix(it.key, "_") {
			continue
		}
		x, ok := jsonNumber(it.value)
		if !ok {
			continue // media, tables, strings
		}
		if lr.History == nil {
			lr.History = map[string]*series{}
		}
		s := lr.History[it.key]
		if s == nil {
			if len(lr.History) >= 1000 {
				continue // bound the keys kept
			}
			s = &series{}
			lr.History[it.key] = s
		}
		s.add(point{Step: step, At: at, Value: x})
	}
	return nil
}

// jsonNumber reads a value_json that is a finite number.
func jsonNumber(b []byte) (float64, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return 0, false
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}
