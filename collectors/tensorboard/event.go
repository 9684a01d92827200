package tensorboard

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// The few protobuf fields read here, decoded with protowire rather than
// generated code. Field numbers are those of TensorFlow's
// tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto
// and tensor.proto, and TensorBoard's plugins/hparams/plugin_data.proto and
// api.proto; google/protobuf/struct.proto for hparam values.
//
//	Event:           wall_time double = 1; step int64 = 2; file_version string = 3;
//	                 summary Summary = 5 (graph_def = 4, session_log = 7, … ignored)
//	Summary:         repeated Value value = 1
//	Summary.Value:   tag string = 1; simple_value float = 2; tensor TensorProto = 8;
//	                 metadata SummaryMetadata = 9 (image = 4, histo = 5, audio = 6 ignored)
//	SummaryMetadata: plugin_data PluginData = 1
//	PluginData:      plugin_name string = 1; content bytes = 2
//	TensorProto:     dtype DataType = 1; tensor_shape = 2; tensor_content bytes = 4;
//	                 float_val = 5; double_val = 6; int_val = 7; int64_val = 10;
//	                 half_val = 13 (all packed)
//	DataType:        DT_FLOAT = 1, DT_DOUBLE = 2, DT_INT32 = 3, DT_INT64 = 9, DT_HALF = 19
//	HParamsPluginData: version int32 = 1; experiment Experiment = 2;
//	                 session_start_info SessionStartInfo = 3; session_end_info SessionEndInfo = 4
//	SessionStartInfo: map<string, google.protobuf.Value> hparams = 1; model_uri = 2;
//	                 monitor_url = 3; group_name = 4; start_time_secs double = 5
//	SessionEndInfo:  status Status = 1 (1 success, 2 failure, 3 running); end_time_secs double = 2
//	Experiment:      name = 6; description = 1; user = 2; time_created_secs double = 3;
//	                 hparam_infos = 4 (HParamInfo.name = 1); metric_infos = 5
//	                 (MetricInfo.name = 1: MetricName{group = 1, tag = 2})
//	google.protobuf.Value: number_value double = 2; string_value = 3; bool_value = 4
//	                 (null_value = 1, struct_value = 5, list_value = 6 kept as absent)

// Event is what this package keeps of one tensorflow.Event.
type Event struct {
	WallTime    float64
	Step        int64
	FileVersion string
	Values      []Value // the summary's values, if the event holds a summary
}

// Value is one Summary.Value; Content points into the decoded record. Scalar is set for simple_value, and for a
// one-element numeric tensor (how TF2 writes scalars); Plugin and Content
// come from the value's metadata, which writers put only on the first
// value of each tag.
type Value struct {
	Tag       string
	Scalar    float64
	HasScalar bool
	// Tensor is set when the value was a tensor (HasScalar says whether it
	// held one number).
	Tensor  bool
	Plugin  string
	Content []byte
}

// field is one field of a protobuf message.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint, fixed32 or fixed64 value
	b   []byte // bytes value
}

// nextField decodes the first field of msg and returns the rest. One-byte
// tags and lengths, what event files are made of, take a short path.
func nextField(msg []byte) (field, []byte, error) {
	if len(msg) >= 2 && msg[0] < 0x80 && msg[0]>>3 != 0 {
		f := field{num: protowire.Number(msg[0] >> 3), typ: protowire.Type(msg[0] & 7)}
		switch f.typ {
		case protowire.BytesType:
			if l := int(msg[1]); l < 0x80 && 2+l <= len(msg) {
				f.b = msg[2 : 2+l : 2+l]
				return f, msg[2+l:], nil
			}
		case protowire.VarintType:
			if msg[1] < 0x80 {
				f.v = uint64(msg[1])
				return f, msg[2:], nil
			}
		case protowire.Fixed32Type:
			if len(msg) >= 5 {
				f.v = uint64(binary.LittleEndian.Uint32(msg[1:5]))
				return f, msg[5:], nil
			}
		case protowire.Fixed64Type:
			if len(msg) >= 9 {
				f.v = binary.LittleEndian.Uint64(msg[1:9])
				return f, msg[9:], nil
			}
		}
	}
	num, typ, n := protowire.ConsumeTag(msg)
	if n < 0 {
		return field{}, nil, fmt.Errorf("field tag: %w", protowire.ParseError(n))
	}
	msg = msg[n:]
	f := field{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.v, n = protowire.ConsumeVarint(msg)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(msg)
		f.v = uint64(v)
	case protowire.Fixed64Type:
		f.v, n = protowire.ConsumeFixed64(msg)
	case protowire.BytesType:
		f.b, n = protowire.ConsumeBytes(msg)
	default:
		n = protowire.ConsumeFieldValue(num, typ, msg)
	}
	if n < 0 {
		return field{}, nil, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
	}
	return f, msg[n:], nil
}

// fields calls fn for each field of msg, stopping at the first malformed
// one or error from fn. The hot path (events, summaries, values, tensors)
// loops over nextField instead, without a closure.
func fields(msg []byte, fn func(f field) error) error {
	for len(msg) > 0 {
		f, rest, err := nextField(msg)
		if err != nil {
			return err
		}
		msg = rest
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// want checks a field's wire type.
func (f field) want(t protowire.Type) error {
	if f.typ != t {
		return fmt.Errorf("field %d: wire type %d, want %d", f.num, f.typ, t)
	}
	return nil
}

// DecodeEvent decodes one event record. Fields it does not read are
// skipped; a malformed message is an error.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	err := (&eventDecoder{}).decode(b, &e)
	return e, err
}

// eventDecoder decodes events into a reused Event, interning tags, so
// that reading a file allocates little per record.
type eventDecoder struct {
	tags   map[string]string
	noFast bool // tests: decode every value the general way
}

func (d *eventDecoder) tag(b []byte) string {
	if t, ok := d.tags[string(b)]; ok {
		return t
	}
	if d.tags == nil {
		d.tags = map[string]string{}
	}
	t := string(b)
	if len(d.tags) < 10_000 { // bound the table; past it tags are just copied
		d.tags[t] = t
	}
	return t
}

// decode decodes b into e, reusing e.Values' storage.
func (d *eventDecoder) decode(b []byte, e *Event) error {
	*e = Event{Values: e.Values[:0]}
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return err
		}
		b = rest
		switch f.num {
		case 1:
			if err := f.want(protowire.Fixed64Type); err != nil {
				return err
			}
			e.WallTime = math.Float64frombits(f.v)
		case 2:
			if err := f.want(protowire.VarintType); err != nil {
				return err
			}
			e.Step = int64(f.v)
		case 3:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			e.FileVersion = string(f.b)
		case 5:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			if err := d.summary(f.b, e); err != nil {
				return fmt.Errorf("summary: %w", err)
			}
		}
	}
	return nil
}

func (d *eventDecoder) summary(b []byte, e *Event) error {
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return err
		}
		b = rest
		if f.num != 1 {
			continue
		}
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		if vb := f.b; !d.noFast && len(vb) >= 7 && vb[0] == 0x0a && vb[1] < 0x80 && len(vb) == int(vb[1])+7 && vb[2+vb[1]] == 0x15 {
			// Exactly {tag = 1 (short); simple_value = 2}, as PyTorch
			// writes every scalar: decoded in place.
			l := int(vb[1])
			e.Values = append(e.Values, Value{Tag: d.tag(vb[2 : 2+l]), HasScalar: true,
				Scalar: float64(math.Float32frombits(binary.LittleEndian.Uint32(vb[3+l:])))})
			continue
		}
		e.Values = append(e.Values, Value{})
		if err := d.value(f.b, &e.Values[len(e.Values)-1]); err != nil {
			return fmt.Errorf("value %d: %w", len(e.Values)-1, err)
		}
	}
	return nil
}

func (d *eventDecoder) value(b []byte, v *Value) error {
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return err
		}
		b = rest
		switch f.num {
		case 1:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			v.Tag = d.tag(f.b)
		case 2:
			if err := f.want(protowire.Fixed32Type); err != nil {
				return err
			}
			v.Scalar, v.HasScalar, v.Tensor = float64(math.Float32frombits(uint32(f.v))), true, false
		case 8:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			x, ok, err := tensorScalar(f.b)
			if err != nil {
				return fmt.Errorf("tensor: %w", err)
			}
			v.Tensor, v.Scalar, v.HasScalar = true, x, ok
		case 9:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			if err := pluginData(f.b, v); err != nil {
				return fmt.Errorf("metadata: %w", err)
			}
		}
	}
	return nil
}

// pluginData reads SummaryMetadata.plugin_data's name and content.
func pluginData(b []byte, v *Value) error {
	return fields(b, func(m field) error {
		if m.num != 1 || m.typ != protowire.BytesType {
			return nil
		}
		return fields(m.b, func(p field) error {
			if p.typ != protowire.BytesType {
				return nil
			}
			switch p.num {
			case 1:
				v.Plugin = string(p.b)
			case 2:
				v.Content = p.b
			}
			return nil
		})
	})
}

// TensorFlow DataType values read as numbers.
const (
	dtFloat  = 1
	dtDouble = 2
	dtInt32  = 3
	dtInt64  = 9
	dtHalf   = 19
)

// tensorScalar returns the number a TensorProto holds when it holds
// exactly one number of a numeric type (any shape whose size is 1: TF2
// scalars have rank 0). ok is false for any other tensor.
func tensorScalar(b []byte) (x float64, ok bool, err error) {
	var dtype uint64
	var content []byte
	var first float64
	n := 0 // numbers seen in the *_val fields
	for len(b) > 0 && n < 2 {
		f, rest, err := nextField(b)
		if err != nil {
			return 0, false, err
		}
		b = rest
		switch f.num {
		case 1:
			dtype = f.v
		case 4:
			if f.typ == protowire.BytesType {
				content = f.b
			}
		case 5, 6, 7, 10, 13:
			got, err := packed(f)
			if err != nil {
				return 0, false, err
			}
			if n == 0 && len(got) > 0 {
				first = got[0]
			}
			n += len(got)
		}
	}
	if n == 1 {
		return first, true, nil
	}
	if n > 1 {
		return 0, false, nil
	}
	switch {
	case dtype == dtFloat && len(content) == 4:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(content))), true, nil
	case dtype == dtDouble && len(content) == 8:
		return math.Float64frombits(binary.LittleEndian.Uint64(content)), true, nil
	case dtype == dtInt32 && len(content) == 4:
		return float64(int32(binary.LittleEndian.Uint32(content))), true, nil
	case dtype == dtInt64 && len(content) == 8:
		return float64(int64(binary.LittleEndian.Uint64(content))), true, nil
	case dtype == dtHalf && len(content) == 2:
		return halfToFloat(binary.LittleEndian.Uint16(content)), true, nil
	}
	return 0, false, nil
}

// packed decodes a repeated numeric TensorProto field, packed or not.
func packed(f field) ([]float64, error) {
	conv := func(v uint64) float64 {
		switch f.num {
		case 5:
			return float64(math.Float32frombits(uint32(v)))
		case 6:
			return math.Float64frombits(v)
		case 7:
			return float64(int32(v))
		case 13:
			return halfToFloat(uint16(v))
		default: // 10, int64
			return float64(int64(v))
		}
	}
	if f.typ != protowire.BytesType {
		return []float64{conv(f.v)}, nil
	}
	var out []float64
	b := f.b
	for len(b) > 0 {
		var v uint64
		var n int
		switch f.num {
		case 5:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			v = uint64(u)
		case 6:
			v, n = protowire.ConsumeFixed64(b)
		default:
			v, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return nil, fmt.Errorf("packed field %d: %w", f.num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, conv(v))
		if len(out) > 1 {
			return out, nil // not a scalar; the rest is not needed
		}
	}
	return out, nil
}

// halfToFloat converts an IEEE 754 half-precision number.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// HParams is what the hparams plugin records of a run.
type HParams struct {
	// Values are the session's hyperparameters (session_start_info):
	// float64, string or bool.
	Values      map[string]any
	GroupName   string
	StartTime   float64 // seconds since the epoch; 0 if not written
	EndTime     float64
	Status      string   // "success", "failure", "running" or "" (session_end_info)
	Experiment  string   // the experiment definition's name
	HParamNames []string // the experiment definition's hyperparameters
	MetricTags  []string // its metrics' tags ("group/tag" when grouped)
}

// merge decodes one hparams plugin content into h.
func (h *HParams) merge(b []byte) error {
	return fields(b, func(f field) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		switch f.num {
		case 2:
			return h.experiment(f.b)
		case 3:
			return h.sessionStart(f.b)
		case 4:
			return fields(f.b, func(g field) error {
				switch {
				case g.num == 1 && g.typ == protowire.VarintType:
					h.Status = map[uint64]string{1: "success", 2: "failure", 3: "running"}[g.v]
				case g.num == 2 && g.typ == protowire.Fixed64Type:
					h.EndTime = math.Float64frombits(g.v)
				}
				return nil
			})
		}
		return nil
	})
}

func (h *HParams) sessionStart(b []byte) error {
	return fields(b, func(f field) error {
		switch {
		case f.num == 1 && f.typ == protowire.BytesType:
			var key string
			var val any
			err := fields(f.b, func(e field) error {
				if e.typ != protowire.BytesType {
					return nil
				}
				switch e.num {
				case 1:
					key = string(e.b)
				case 2:
					v, err := structValue(e.b)
					if err != nil {
						return err
					}
					val = v
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("hparam: %w", err)
			}
			if h.Values == nil {
				h.Values = map[string]any{}
			}
			if val != nil {
				h.Values[key] = val
			}
		case f.num == 4 && f.typ == protowire.BytesType:
			h.GroupName = string(f.b)
		case f.num == 5 && f.typ == protowire.Fixed64Type:
			h.StartTime = math.Float64frombits(f.v)
		}
		return nil
	})
}

// structValue decodes a google.protobuf.Value holding a number, string or
// bool; nil for anything else.
func structValue(b []byte) (any, error) {
	var v any
	err := fields(b, func(f field) error {
		switch {
		case f.num == 2 && f.typ == protowire.Fixed64Type:
			v = math.Float64frombits(f.v)
		case f.num == 3 && f.typ == protowire.BytesType:
			v = string(f.b)
		case f.num == 4 && f.typ == protowire.VarintType:
			v = f.v != 0
		}
		return nil
	})
	return v, err
}

func (h *HParams) experiment(b []byte) error {
	return fields(b, func(f field) error {
		switch {
		case f.num == 6 && f.typ == protowire.BytesType:
			h.Experiment = string(f.b)
		case f.num == 4 && f.typ == protowire.BytesType:
			return fields(f.b, func(p field) error {
				if p.num == 1 && p.typ == protowire.BytesType && !slices.Contains(h.HParamNames, string(p.b)) {
					h.HParamNames = append(h.HParamNames, string(p.b))
				}
				return nil
			})
		case f.num == 5 && f.typ == protowire.BytesType:
			return fields(f.b, func(m field) error {
				if m.num != 1 || m.typ != protowire.BytesType {
					return nil
				}
				var group, tag string
				err := fields(m.b, func(n field) error {
					if n.typ == protowire.BytesType {
						switch n.num {
						case 1:
							group = string(n.b)
						case 2:
							tag = string(n.b)
						}
					}
					return nil
				})
				if group != "" {
					tag = group + "/" + tag
				}
				if !slices.Contains(h.MetricTags, tag) {
					h.MetricTags = append(h.MetricTags, tag)
				}
				return err
			})
		}
		return nil
	})
}
