package redact

import (
	"strings"
	"testing"
)

// plantable are secrets, each in a line of its own, and the part of each
// that must never survive.
var plantable = []struct{ line, core string }{
	{"aws_access_key_id = " + awsKeyID, awsKeyID},
	{"aws_secret_access_key = " + awsSecret, awsSecret},
	{"GH_TOKEN=" + ghToken, ghToken[4:]},
	{pem("RSA PRIVATE KEY", keyBody), keyBody[:64]},
	{"password=hunter2xyz", "hunter2xyz"},
	{`"api_key": "k9Xq2LmZ7Q"`, "k9Xq2LmZ7Q"},
	{"https://user:Sup3rS3cret@host/x", "Sup3rS3cret"},
	{"Authorization: Bearer " + jwtToken, jwtToken[10:]},
	{"curl -u ci:Tr0ub4dor3 https://x", "Tr0ub4dor3"},
	{slackBot, slackBot[5:]},
	{"https://hooks.slack.com/services/" + slackHookKey, slackHookKey},
	{glToken, glToken[6:]},
	{"HF_TOKEN=" + hfToken, hfToken[3:]},
	{"wandb login " + wandbKey40, wandbKey40},
	{openaiKey, openaiKey[8:]},
	{anthropicKey, anthropicKey[13:]},
	{"DB_PASS=Xy7hunter2q", "Xy7hunter2q"},
	{"mysql -u ml -pS3cr3tPw db", "S3cr3tPw"},
	{awsSecret, awsSecret},
	{"AccountKey=" + azureKey, azureKey},
	{"x?sv=1&sig=" + azureSig, azureSig},
	{sendgridKey, sendgridKey[3:]},
	{databricksPAT, databricksPAT[4:]},
	{pypiToken, pypiToken[20:]},
	{npmToken, npmToken[4:]},
	{stripeKey, stripeKey[8:]},
	{googleKey, googleKey[4:]},
}

func FuzzString(f *testing.F) {
	for _, tc := range ruleCases {
		f.Add(tc.in, uint(len(tc.in)/2), uint8(len(tc.in)))
	}
	f.Add(plantedLog(), uint(100), uint8(3))
	f.Add("password=[REDACTED:jwt]x "+m("aws-key")+"token: [REDACTED:", uint(7), uint8(0))
	f.Add("-----BEGIN PRIVATE KEY-----\n-----BEGIN RSA PRIVATE KEY-----", uint(0), uint8(1))
	f.Add("ghp_ AKIA eyJ :// curl -u password= token: Bearer authorization:", uint(20), uint8(9))
	r, err := New(Options{Patterns: []Pattern{{Name: "corp-host", Regex: `[a-z]+\.corp\.example`}, {Name: "greedy", Regex: `RED(ACT)ED`}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string, pos uint, which uint8) {
		out, c := r.String(text)
		again, c2 := r.String(out)
		if again != out || len(c2) != 0 {
			t.Fatalf("not idempotent:\n in: %q\nout: %q\nagain: %q (%v)", text, out, again, c2)
		}
		if c.Total() == 0 && out != text {
			t.Fatalf("text changed without counts: %q → %q", text, out)
		}
		if c.Total() > 0 && !strings.Contains(out, "[REDACTED:") {
			t.Fatalf("counts %v but no mask in %q", c, out)
		}

		// A secret planted in the text, on a line of its own, never survives.
		p := plantable[int(which)%len(plantable)]
		at := int(pos % uint(len(text)+1))
		planted := text[:at] + "\n" + p.line + "\n" + text[at:]
		pout, _ := r.String(planted)
		if strings.Count(pout, p.core) > strings.Count(text, p.core) {
			t.Fatalf("planted secret survived:\nplanted: %q\n    out: %q", planted, pout)
		}
	})
}
