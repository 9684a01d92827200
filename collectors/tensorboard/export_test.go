package tensorboard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// AppendScalarEvent appends one framed event holding a simple_value
// scalar, as PyTorch writes it.
func AppendScalarEvent(b []byte, wall float64, step int64, tag string, x float32) []byte {
	return appendRecord(b, eventMsg(wall, step, simpleValue(tag, x)))
}

// AsTF2Tensors rewrites an event file so that every simple_value scalar is
// written the way TF2's tf.summary.scalar writes it: a rank-0 DT_FLOAT
// tensor in tensor_content, with the scalars plugin metadata on each
// tag's first value only. Other records are kept as they are.
func AsTF2Tensors(b []byte) ([]byte, error) {
	r := NewReader(bytes.NewReader(b), 0)
	var out []byte
	seen := map[string]bool{}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		ev, err := DecodeEvent(rec)
		if err != nil || len(ev.Values) == 0 {
			out = appendRecord(out, rec)
			continue
		}
		var vals [][]byte
		for _, v := range ev.Values {
			if v.HasScalar && !v.Tensor {
				vals = append(vals, tensorValue(v.Tag, floatContent(float32(v.Scalar)), !seen[v.Tag]))
				seen[v.Tag] = true
			}
		}
		switch {
		case len(vals) == 0:
			out = appendRecord(out, rec) // a graph, a profile, …
		case len(vals) != len(ev.Values):
			return nil, fmt.Errorf("step %d mixes scalars with other values", ev.Step)
		default:
			out = appendRecord(out, eventMsg(ev.WallTime, ev.Step, vals...))
		}
	}
}
