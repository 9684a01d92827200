package sagemaker

import "time"

// noBackoff makes retries immediate in tests.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return time.Millisecond, nil }

// WithoutBackoff makes c retry at once.
func WithoutBackoff(c *Collector) { c.backoff = noBackoff{} }
