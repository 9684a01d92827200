package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

func newKeygenCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen -o NAME",
		Short: "Make a reviewer's signing key pair (NAME.key, NAME.pub)",
		Long: `keygen makes an ed25519 key pair for a coach, employer or assessor who
signs review decisions: NAME.key, the private key (PEM, PKCS #8, mode 0600:
keep it to yourself, pass it to review --sign-key) and NAME.pub, the public
key (PEM, PKIX: give it to the apprentice, who lists it under reviewers: in
the config). It never overwrites an existing file. No config is needed.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("keygen needs -o NAME (it writes NAME.key and NAME.pub)")
			}
			pub, err := workspace.WriteKeyPair(out)
			if err != nil {
				return err
			}
			priv, pubPath := workspace.KeyPair(out)
			q := termsafe.String
			fmt.Fprintf(g.stdout, "wrote %s (private, mode 0600: keep it secret) and %s (public)\nkey %s\n", q(priv), q(pubPath), evidence.KeyFingerprint(pub))
			fmt.Fprintf(g.stdout, "to trust it, the apprentice adds to the config:\n  reviewers:\n    - {name: YOUR NAME, role: coach, public_key: ./%s}\n", q(filepath.Base(pubPath)))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "name of the key pair: writes NAME.key and NAME.pub")
	return cmd
}
