package logs

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
)

func TestSmoke(t *testing.T) {
	p := os.Getenv("SMOKE")
	if p == "" {
		t.Skip()
	}
	c, err := New(Config{SourceConfig: SourceConfig{Paths: []string{p}}, Name: "x", Apprentice: "a"}, collectors.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	s := &collectortest.Sink{}
	cur, err := c.Collect(context.Background(), nil, s)
	fmt.Println("err", err, len(cur))
	for _, it := range s.Items() {
		fmt.Println(it.Kind, it.OccurredAt.Format("2006-01-02T15:04:05.000"), it.Title, "|", it.Facts["outcome"], it.Facts["mlflow_run_id"])
	}
	for _, sk := range s.Skips() {
		fmt.Println("skip", sk)
	}
	if os.Getenv("SHOW") != "" {
		for _, it := range s.Items() {
			b, _ := s.File(it.ID, "excerpt.txt")
			fmt.Printf("---- %s\n%v\n%s\n", it.Title, it.Facts, b)
		}
	}
}
