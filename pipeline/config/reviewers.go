package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

// ReviewerRoles are the roles a configured reviewer may have: the
// apprentice's own decisions are claims whatever their signature, so the
// apprentice is not listed.
var ReviewerRoles = []string{"coach", "employer", "assessor"}

// Reviewer is one entry of reviewers: a person whose signed review
// decisions confirm KSBs (docs/config.md, "reviewers").
type Reviewer struct {
	Name string `yaml:"name" json:"name"` // as given to review --by
	Role string `yaml:"role" json:"role"` // one of ReviewerRoles
	// PublicKey is the path of their ed25519 public key (PEM, as
	// `ksbfolio keygen` writes it), absolute after Load.
	PublicKey string `yaml:"public_key" json:"public_key"`
}

// reviewers checks each reviewer and resolves its key's path; a name and
// role given twice is a problem (which key would count?).
func (d *decoder) reviewers(c *Config) {
	first := map[string]string{}
	for i := range c.Reviewers {
		r := &c.Reviewers[i]
		p := fmt.Sprintf("reviewers[%d]", i)
		r.Name = strings.TrimSpace(r.Name)
		if r.Name == "" {
			d.Check(p+".name", "required (the name the reviewer gives to review --by)")
		}
		switch {
		case r.Role == "":
			d.Check(p+".role", "required (%s)", strings.Join(ReviewerRoles, ", "))
		case r.Role == "apprentice":
			d.Check(p+".role", "the apprentice's decisions are claims whatever their signature; list coaches, employers and assessors")
		case !slices.Contains(ReviewerRoles, r.Role):
			d.Check(p+".role", "%s: want %s", yamlstrict.Quote(r.Role), strings.Join(ReviewerRoles, ", "))
		}
		if strings.TrimSpace(r.PublicKey) == "" {
			d.Check(p+".public_key", "required (the .pub file `ksbfolio keygen -o NAME` writes)")
		} else {
			r.PublicKey = d.resolvePath(p+".public_key", r.PublicKey)
		}
		if r.Name == "" || r.Role == "" {
			continue
		}
		k := r.Role + "\x00" + r.Name
		if at, dup := first[k]; dup {
			d.Check(p+".name", "%s %s is listed twice (first at line %d)", r.Role, yamlstrict.Quote(r.Name), d.LineOf(at))
			continue
		}
		first[k] = p + ".name"
	}
}
