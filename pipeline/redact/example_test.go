package redact_test

import (
	"fmt"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/redact"
)

func ExampleRedactor_String() {
	r, err := redact.New(redact.Options{Patterns: []redact.Pattern{{Name: "corp-host", Regex: `\b[a-z0-9-]+\.corp\.example\b`}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, counts := r.String("retrain: MLFLOW_TRACKING_PASSWORD=hunter22 on https://ci:s3cret@mlflow.corp.example/")
	fmt.Println(out)
	fmt.Println(counts.Redactions())
	// Output:
	// retrain: MLFLOW_TRACKING_PASSWORD=[REDACTED:password-assignment] on https://ci:[REDACTED:url-password]@[REDACTED:corp-host]/
	// [{corp-host 1} {password-assignment 1} {url-password 1}]
}

func ExampleRedactor_Item() {
	r, err := redact.New(redact.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	it := evidence.Item{
		Title:      "Rotate the deploy key",
		Summary:    "old key was AKIAIOSFODNN7EXAMPLE",
		Facts:      map[string]any{"env": map[string]any{"API_KEY": "api_key=k9Xq2LmZ7"}},
		Redactions: []evidence.Redaction{{Rule: "aws-key", Count: 1}},
	}
	r.Item(&it)
	fmt.Println(it.Summary)
	fmt.Println(it.Facts["env"])
	fmt.Println(it.Redactions)
	// Output:
	// old key was [REDACTED:aws-key]
	// map[API_KEY:api_key=[REDACTED:password-assignment]]
	// [{aws-key 2} {password-assignment 1}]
}
