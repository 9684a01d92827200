package config_test

import (
	"fmt"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

func ExampleParse() {
	yml := `apprentice:
  id: jdoe
  emials: [jane@corp.example]
sources:
  - name: model-repo
    type: git
    pth: ../fraud-model
    uri: http://mlflow:5000
  - name: metrics
    type: prometheus
`
	// A build with the git collector only (registry.Default() has them all).
	_, err := config.Parse("ksbfolio.yaml", []byte(yml), "/work", registry.List{gitlog.NewFactory()})
	fmt.Println(err)
	// Output:
	// ksbfolio.yaml:1: apprentice.emails: required (at least one address)
	// ksbfolio.yaml:3: apprentice.emials: unknown key (did you mean "emails"?)
	// ksbfolio.yaml:5: sources[0].path: required (the folder of a git repository, relative to this file), or url
	// ksbfolio.yaml:7: sources[0].pth: unknown key (did you mean "path"?)
	// ksbfolio.yaml:8: sources[0].uri: unknown key (did you mean "url"?)
	// ksbfolio.yaml:10: sources[1].type: "prometheus" is not supported by this version (supported: git)
}
