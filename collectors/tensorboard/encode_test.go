package tensorboard

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// A small protobuf encoder for the messages this package decodes, so that
// tests write event files the way TensorFlow and PyTorch do.

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func pbString(b []byte, num protowire.Number, s string) []byte { return pbBytes(b, num, []byte(s)) }

func pbDouble(b []byte, num protowire.Number, x float64) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(x))
}

func pbFloat(b []byte, num protowire.Number, x float32) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(x))
}

func pbVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// eventMsg is an Event with wall_time, step and a summary of values.
func eventMsg(wall float64, step int64, values ...[]byte) []byte {
	b := pbDouble(nil, 1, wall)
	b = pbVarint(b, 2, uint64(step))
	if len(values) > 0 {
		var sum []byte
		for _, v := range values {
			sum = pbBytes(sum, 1, v)
		}
		b = pbBytes(b, 5, sum)
	}
	return b
}

func fileVersionMsg(wall float64) []byte {
	return pbString(pbDouble(nil, 1, wall), 3, "brain.Event:2")
}

// metadata is a SummaryMetadata naming a plugin.
func metadata(plugin string, content []byte) []byte {
	pd := pbString(nil, 1, plugin)
	if content != nil {
		pd = pbBytes(pd, 2, content)
	}
	return pbBytes(nil, 1, pd)
}

// simpleValue is a Summary.Value with simple_value, as PyTorch writes it.
func simpleValue(tag string, x float32) []byte {
	return pbFloat(pbString(nil, 1, tag), 2, x)
}

// tensorValue is a Summary.Value holding a rank-0 tensor; withMeta adds the
// scalars plugin metadata (TF2 writes it on a tag's first value only).
func tensorValue(tag string, tensor []byte, withMeta bool) []byte {
	b := pbString(nil, 1, tag)
	b = pbBytes(b, 8, tensor)
	if withMeta {
		b = pbBytes(b, 9, metadata("scalars", nil))
	}
	return b
}

// floatContent is a DT_FLOAT tensor in tensor_content, as TF2 Keras writes it.
func floatContent(x float32) []byte {
	b := pbVarint(nil, 1, dtFloat)
	b = pbBytes(b, 2, nil)
	return pbBytes(b, 4, binary.LittleEndian.AppendUint32(nil, math.Float32bits(x)))
}

// floatVal is a DT_FLOAT tensor in packed float_val.
func floatVal(x float32) []byte {
	b := pbVarint(nil, 1, dtFloat)
	return pbBytes(b, 5, binary.LittleEndian.AppendUint32(nil, math.Float32bits(x)))
}

// doubleVal is a DT_DOUBLE tensor in packed double_val.
func doubleVal(x float64) []byte {
	b := pbVarint(nil, 1, dtDouble)
	return pbBytes(b, 6, binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)))
}

// hparamsValue is the hparams plugin's session_start_info summary value.
func hparamsStart(hp map[string]any, group string) []byte {
	var ssi []byte
	for k, v := range hp {
		var val []byte
		switch v := v.(type) {
		case float64:
			val = pbDouble(nil, 2, v)
		case string:
			val = pbString(nil, 3, v)
		case bool:
			n := uint64(0)
			if v {
				n = 1
			}
			val = pbVarint(nil, 4, n)
		}
		ssi = pbBytes(ssi, 1, pbBytes(pbString(nil, 1, k), 2, val))
	}
	ssi = pbString(ssi, 4, group)
	ssi = pbDouble(ssi, 5, 1700000000)
	content := pbBytes(pbVarint(nil, 1, 0), 3, ssi)
	b := pbString(nil, 1, "_hparams_/session_start_info")
	return pbBytes(b, 9, metadata("hparams", content))
}

func hparamsEnd(status uint64) []byte {
	sei := pbDouble(pbVarint(nil, 1, status), 2, 1700000100)
	content := pbBytes(pbVarint(nil, 1, 0), 4, sei)
	return pbBytes(pbString(nil, 1, "_hparams_/session_end_info"), 9, metadata("hparams", content))
}

func hparamsExperiment(name string, hparams []string, metrics []string) []byte {
	exp := pbString(nil, 6, name)
	for _, h := range hparams {
		exp = pbBytes(exp, 4, pbString(nil, 1, h))
	}
	for _, m := range metrics {
		exp = pbBytes(exp, 5, pbBytes(nil, 1, pbString(nil, 2, m)))
	}
	content := pbBytes(pbVarint(nil, 1, 0), 2, exp)
	return pbBytes(pbString(nil, 1, "_hparams_/experiment"), 9, metadata("hparams", content))
}

// eventFile frames messages as a TFRecord file.
func eventFile(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = appendRecord(b, m)
	}
	return b
}
