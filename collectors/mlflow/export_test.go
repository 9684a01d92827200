package mlflow

import "time"

// SetBackoffForTest shortens a server collector's first retry wait.
func SetBackoffForTest(c *Collector, d time.Duration) {
	if s, ok := c.back.(*server); ok {
		s.backoff = d
	}
}
