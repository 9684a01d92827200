package redact

import (
	"strings"
	"testing"
)

// Fake secrets, shaped like the real thing. The AWS pair is the one AWS's
// own documentation uses.
const (
	awsKeyID     = "AKIAIOSFODNN7EXAMPLE"
	awsSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	awsSession   = "FwoGZXIvYXdzEJr//////////wEaDHg7Q2T0p0xS1aXTdSKBAQ=="
	ghToken      = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
	ghFineToken  = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV0123456789"
	glToken      = "glpat-AbCdEfGhIjKlMnOpQrSt"
	slackBot     = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	slackApp     = "xapp-1-A0123456789-0123456789012-abcdef0123456789"
	slackHookKey = "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
	jwtToken     = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	keyBody      = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\nLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo"
	sha          = "3f2a9c1d4e5b6a7f8091a2b3c4d5e6f708192a3b"
	uuid         = "0b3c9f2e-1d4a-4c5b-9e6f-7a8b9c0d1e2f"
)

// pem builds a key block; the marker is split so that this file does not
// itself look like a key to secret scanners.
func pem(kind, body string) string {
	return "-----BEGIN " + kind + "-----\n" + body + "\n-----END " + kind + "-----"
}

func m(rule string) string { return Mask(rule) }

// ruleCases are per-rule positive cases (want set: the exact masked text)
// and negative cases (want empty: the text must come back unchanged, with
// no counts at all).
var ruleCases = []struct {
	rule, in, want string
}{
	// private-key
	{"private-key", "key:\n" + pem("RSA PRIVATE KEY", keyBody) + "\nend",
		"key:\n-----BEGIN RSA PRIVATE KEY-----\n" + m("private-key") + "\n-----END RSA PRIVATE KEY-----\nend"},
	{"private-key", pem("EC PRIVATE KEY", "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oYmwDVhSyvSGoAoGCCqGSM49"),
		"-----BEGIN EC PRIVATE KEY-----\n" + m("private-key") + "\n-----END EC PRIVATE KEY-----"},
	{"private-key", pem("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"),
		"-----BEGIN OPENSSH PRIVATE KEY-----\n" + m("private-key") + "\n-----END OPENSSH PRIVATE KEY-----"},
	{"private-key", pem("DSA PRIVATE KEY", "MIIBuwIBAAKBgQCkCmN0"),
		"-----BEGIN DSA PRIVATE KEY-----\n" + m("private-key") + "\n-----END DSA PRIVATE KEY-----"},
	{"private-key", pem("ENCRYPTED PRIVATE KEY", "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI"),
		"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + m("private-key") + "\n-----END ENCRYPTED PRIVATE KEY-----"},
	{"private-key", pem("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
		"-----BEGIN PRIVATE KEY-----\n" + m("private-key") + "\n-----END PRIVATE KEY-----"},
	{"private-key", pem("PGP PRIVATE KEY BLOCK", "Version: GnuPG v2\n\nlQOYBF0mZ0gBCAC7\n=abcd"),
		"-----BEGIN PGP PRIVATE KEY BLOCK-----\n" + m("private-key") + "\n-----END PGP PRIVATE KEY BLOCK-----"},
	{"private-key", "pasted by mistake: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAAC3NzaC1lZDI1NTE5\n",
		"pasted by mistake: -----BEGIN OPENSSH PRIVATE KEY-----\n" + m("private-key") + "\n"},
	{"private-key", "a " + pem("RSA PRIVATE KEY", "QUJD") + " b " + pem("EC PRIVATE KEY", "REVG") + " c",
		"a -----BEGIN RSA PRIVATE KEY-----\n" + m("private-key") + "\n-----END RSA PRIVATE KEY----- b -----BEGIN EC PRIVATE KEY-----\n" + m("private-key") + "\n-----END EC PRIVATE KEY----- c"},
	{"private-key", `cert: "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"`,
		`cert: "-----BEGIN RSA PRIVATE KEY-----\n` + m("private-key") + `\n-----END RSA PRIVATE KEY-----\n"`},
	{"private-key", pem("CERTIFICATE", "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQsw"), ""},
	{"private-key", pem("PUBLIC KEY", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"), ""},
	{"private-key", "load the private key from the vault, never from the repo", ""},
	{"private-key", "-----BEGIN RSA PRIVATE KEY-----", ""},

	// aws-key
	{"aws-key", "aws_access_key_id = " + awsKeyID, "aws_access_key_id = " + m("aws-key")},
	{"aws-key", "role creds ASIAY34FZKBOKMUTVV7A expired", "role creds " + m("aws-key") + " expired"},
	{"aws-key", `{"AccessKeyId":"` + awsKeyID + `"}`, `{"AccessKeyId":"` + m("aws-key") + `"}`},
	{"aws-key", "AKIAIOSFODNN7EXAMPL is too short", ""},
	{"aws-key", "X" + awsKeyID + " is inside a word", ""},
	{"aws-key", awsKeyID + "1 is too long", ""},
	{"aws-key", strings.ToLower(awsKeyID) + " is lower case", ""},
	{"aws-key", "deployed to the Asia-Pacific (ASIA) region", ""},

	// aws-secret-key
	{"aws-secret-key", "aws_secret_access_key = " + awsSecret, "aws_secret_access_key = " + m("aws-secret-key")},
	{"aws-secret-key", `"SecretAccessKey": "` + awsSecret + `",`, `"SecretAccessKey": "` + m("aws-secret-key") + `",`},
	{"aws-secret-key", "AWS Secret Access Key [None]: " + awsSecret, "AWS Secret Access Key [None]: " + m("aws-secret-key")},
	{"aws-secret-key", "export AWS_SECRET=" + awsSecret, "export AWS_SECRET=" + m("aws-secret-key")},
	{"aws-secret-key", awsKeyID + "," + awsSecret, m("aws-key") + "," + m("aws-secret-key")},
	{"aws-secret-key", "secret rotation reverted in " + sha, ""},
	{"aws-secret-key", "aws_region = eu-west-2", ""},
	{"aws-secret-key", "the secret is to read abcdefghijklmnopqrstuvwxyzabcdefghijklmn", ""},
	{"aws-secret-key", "fixed in " + sha + " and " + awsSecret[:39], ""},

	// aws-session-token
	{"aws-session-token", "aws_session_token = " + awsSession, "aws_session_token = " + m("aws-session-token")},
	{"aws-session-token", "X-Amz-Security-Token: " + awsSession, "X-Amz-Security-Token: " + m("aws-session-token")},
	{"aws-session-token", `"SessionToken": "` + awsSession + `"`, `"SessionToken": "` + m("aws-session-token") + `"`},
	{"aws-session-token", "session_token_ttl=3600", ""},
	{"aws-session-token", "refresh the session token daily", ""},

	// github-token
	{"github-token", "GITHUB_TOKEN=" + ghToken + " done", "GITHUB_TOKEN=" + m("github-token") + " done"},
	{"github-token", "oauth gho_16C7e42F292c6912E7710c838347Ae178B4a and", "oauth " + m("github-token") + " and"},
	{"github-token", "app ghs_16C7e42F292c6912E7710c838347Ae178B4a", "app " + m("github-token")},
	{"github-token", "fine-grained " + ghFineToken + ".", "fine-grained " + m("github-token") + "."},
	{"github-token", "classic tokens start ghp_ and are 40 characters", ""},
	{"github-token", "ghp_short", ""},
	{"github-token", "x" + ghToken, ""},

	// gitlab-token
	{"gitlab-token", "PRIVATE-TOKEN " + glToken, "PRIVATE-TOKEN " + m("gitlab-token")},
	{"gitlab-token", "deploy gldt-AbCdEfGhIjKlMnOpQrSt ok", "deploy " + m("gitlab-token") + " ok"},
	{"gitlab-token", "runner glrt-AbCdEfGhIjKlMnOpQrSt ok", "runner " + m("gitlab-token") + " ok"},
	{"gitlab-token", "register GR1348941AbCdEfGhIjKlMnOpQrSt ok", "register " + m("gitlab-token") + " ok"},
	{"gitlab-token", "glpat-short is not one", ""},
	{"gitlab-token", "set global-feature-flags-enabled-for-all", ""},

	// slack-token
	{"slack-token", "SLACK_BOT=" + slackBot, "SLACK_BOT=" + m("slack-token")},
	{"slack-token", "user xoxp-1234567890-1234567890-AbCdEf012345", "user " + m("slack-token")},
	{"slack-token", "app-level " + slackApp + " end", "app-level " + m("slack-token") + " end"},
	{"slack-token", "bot tokens start xoxb- and app tokens xapp-", ""},

	// slack-webhook
	{"slack-webhook", "alerts go to https://hooks.slack.com/services/" + slackHookKey + " now",
		"alerts go to https://hooks.slack.com/services/" + m("slack-webhook") + " now"},
	{"slack-webhook", "post to https://hooks.slack.com/ via the SDK", ""},
	{"slack-webhook", "see https://api.slack.com/messaging/webhooks", ""},

	// jwt
	{"jwt", "id_tok " + jwtToken + ".", "id_tok " + m("jwt") + "."},
	{"jwt", "cookie=" + jwtToken + ";", "cookie=" + m("jwt") + ";"},
	{"jwt", "eyJustKidding.about.this", ""},
	{"jwt", "the header always starts eyJ", ""},

	// authorization-header
	{"authorization-header", `curl -H "Authorization: Bearer abc123def456ghi" https://api.example.com`,
		`curl -H "Authorization: Bearer ` + m("authorization-header") + `" https://api.example.com`},
	{"authorization-header", "Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==", "Proxy-Authorization: Basic " + m("authorization-header")},
	{"authorization-header", `{"Authorization": "Bearer sk-live-7Hh2"}`, `{"Authorization": "Bearer ` + m("authorization-header") + `"}`},
	{"authorization-header", "authorization=Zm9vOmJhcg9", "authorization=" + m("authorization-header")},
	{"authorization-header", "authorization: handle expired sessions", ""},
	{"authorization-header", `-H "Authorization: Bearer $TOKEN"`, ""},
	{"authorization-header", "the Authorization header is now required", ""},
	{"authorization-header", `"Authorization": req.Header["Proxy-Authorization"],`, ""},

	// bearer-token
	{"bearer-token", "X-Auth: bearer 3c6e0b8a9c15224a8228b9a98ca1531d", "X-Auth: bearer " + m("bearer-token")},
	{"bearer-token", "got Bearer AbCdEfGhIjKlMnOpQrStUv from the IdP", "got Bearer " + m("bearer-token") + " from the IdP"},
	{"bearer-token", "the bearer of bad news", ""},
	{"bearer-token", "switch to Bearer Authentication", ""},
	{"bearer-token", "bearer tokens now expire after an hour", ""},

	// curl-user
	{"curl-user", "curl -u admin:s3cret https://example.com", "curl -u admin:" + m("curl-user") + " https://example.com"},
	{"curl-user", `curl -s --user "deploy:p4ss word" https://x`, `curl -s --user "deploy:` + m("curl-user") + `" https://x`},
	{"curl-user", "curl --user=ci:hunter22 -X POST https://x", "curl --user=ci:" + m("curl-user") + " -X POST https://x"},
	{"curl-user", "curl -u admin https://example.com", ""},
	{"curl-user", `curl -u "$USER:$PASS" https://example.com`, ""},
	{"curl-user", "curl --upload-file a:b https://example.com", ""},
	{"curl-user", "docker run -u 1000:1000 img && curling -u a:b", ""},

	// url-password
	{"url-password", "https://user:pw@host/x", "https://user:" + m("url-password") + "@host/x"},
	{"url-password", "MLFLOW_TRACKING_URI=postgresql://mlflow:Sup3rS3cret@db:5432/mlflow",
		"MLFLOW_TRACKING_URI=postgresql://mlflow:" + m("url-password") + "@db:5432/mlflow"},
	{"url-password", "redis://:p@ss@localhost:6379/0", "redis://:" + m("url-password") + "@localhost:6379/0"},
	{"url-password", "http://localhost:8080/api/2.0/mlflow", ""},
	{"url-password", "https://jane@github.com/corp/fraud-model.git", ""},
	{"url-password", "git@github.com:corp/fraud-model.git", ""},
	{"url-password", "https://example.com/a:b@c", ""},
	{"url-password", "https://${USER}:${PASS}@host/x", ""},

	// password-assignment
	{"password-assignment", "password=hunter2 rest", "password=" + m("password-assignment") + " rest"},
	{"password-assignment", "export DB_PASSWORD=s3cr3t!", "export DB_PASSWORD=" + m("password-assignment")},
	{"password-assignment", `"password": "hunter2",`, `"password": "` + m("password-assignment") + `",`},
	{"password-assignment", "db:\n  password: letmein\n  host: db\n", "db:\n  password: " + m("password-assignment") + "\n  host: db\n"},
	{"password-assignment", "MLFLOW_TRACKING_PASSWORD='correct horse battery staple'", "MLFLOW_TRACKING_PASSWORD='" + m("password-assignment") + "'"},
	{"password-assignment", "api_key: abcd1234efgh", "api_key: " + m("password-assignment")},
	{"password-assignment", `apiKey = "x9y8z7"`, `apiKey = "` + m("password-assignment") + `"`},
	{"password-assignment", "CLIENT_SECRET=Zx81-aa", "CLIENT_SECRET=" + m("password-assignment")},
	{"password-assignment", "access_key: k3y", "access_key: " + m("password-assignment")},
	{"password-assignment", "private_key => 'abc'", "private_key => '" + m("password-assignment") + "'"},
	{"password-assignment", "pwd=1234", "pwd=" + m("password-assignment")},
	{"password-assignment", "passwd: qwerty # prod", "passwd: " + m("password-assignment") + " # prod"},
	{"password-assignment", "SECRET_KEY=django-insecure-abc123", "SECRET_KEY=" + m("password-assignment")},
	{"password-assignment", "GET /api?token=abc123&page=2", "GET /api?token=" + m("password-assignment") + "&page=2"},
	{"password-assignment", "mlflow --password hunter2 --host db", "mlflow --password " + m("password-assignment") + " --host db"},
	{"password-assignment", "<password>hunter2</password>", "<password>" + m("password-assignment") + "</password>"},
	{"password-assignment", "connect(password=hunter2)", "connect(password=" + m("password-assignment") + ")"},
	{"password-assignment", `os.environ["DB_PASSWORD"] = "abc"`, `os.environ["DB_PASSWORD"] = "` + m("password-assignment") + `"`},
	{"password-assignment", `log: {\"token\": \"abc123\"}`, `log: {\"token\": \"` + m("password-assignment") + `\"}`},
	{"password-assignment", `"password": "pa\"ss"`, `"password": "` + m("password-assignment") + `"`},
	{"password-assignment", "password reset email now sent", ""},
	{"password-assignment", "Password: must be at least 12 characters", ""},
	{"password-assignment", "Rotate the API token: see the runbook", ""},
	{"password-assignment", "max_tokens=256 num_tokens: 512 tokenizer=bpe", ""},
	{"password-assignment", "tokenizer.pad_token = tokenizer.eos_token", ""},
	{"password-assignment", `pad_token="[PAD]" eos_token: "</s>"`, ""},
	{"password-assignment", "api_key: ${{ secrets.API_KEY }}", ""},
	{"password-assignment", "password: ${DB_PASSWORD}", ""},
	{"password-assignment", "PASSWORD=$(cat /run/secrets/db)", ""},
	{"password-assignment", "token: null\nsecret: true\npassword: \"\"", ""},
	{"password-assignment", "password_file=/run/secrets/db", ""},
	{"password-assignment", "use --token instead of the password", ""},
	{"password-assignment", "password = get_password()", ""},
	{"password-assignment", "api_key = settings.API_KEY", ""},
	{"password-assignment", "password: ****", ""},
	{"password-assignment", "SYS_MEMFD_SECRET = 447", ""},
	{"password-assignment", `t.Errorf("serverSecret = %x, want %x", got, want)`, ""},
	{"password-assignment", "Tokens: 512, secrets: none", ""},
}

func TestRules(t *testing.T) {
	r := mustNew(t, nil)
	for _, tc := range ruleCases {
		name := tc.rule + "/" + tc.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			out, c := r.String(tc.in)
			if tc.want == "" {
				if out != tc.in || len(c) != 0 {
					t.Fatalf("clean text changed:\n in: %q\nout: %q\ncounts: %v", tc.in, out, c)
				}
				return
			}
			if out != tc.want {
				t.Fatalf("masked wrong:\n  in: %q\n got: %q\nwant: %q", tc.in, out, tc.want)
			}
			if c[tc.rule] == 0 {
				t.Errorf("counts %v: nothing for %s", c, tc.rule)
			}
			if got, want := c.Total(), strings.Count(tc.want, "[REDACTED:"); got != want {
				t.Errorf("counts %v: total %d, want %d (one per mask)", c, got, want)
			}
			for rule, n := range c {
				if want := strings.Count(tc.want, m(rule)); n != want {
					t.Errorf("counts[%s] = %d, want %d", rule, n, want)
				}
			}
		})
	}
}

// Every built-in rule has positive and negative cases above.
func TestRulesAllTested(t *testing.T) {
	pos, neg := map[string]int{}, map[string]int{}
	for _, tc := range ruleCases {
		if tc.want == "" {
			neg[tc.rule]++
		} else {
			pos[tc.rule]++
		}
	}
	for _, ri := range Describe() {
		if pos[ri.Name] == 0 || neg[ri.Name] == 0 {
			t.Errorf("rule %s: %d positive and %d negative cases; want both", ri.Name, pos[ri.Name], neg[ri.Name])
		}
	}
}

// The table must be well formed: names valid and unique, a doc line each,
// folded keywords in lower case, every keyword at least two bytes (the
// keyword index looks them up by their first two), and every keyword
// detector's expression able to match at its keyword.
func TestBuiltinTable(t *testing.T) {
	seen := map[string]bool{}
	for _, ru := range builtinRules {
		if !namePattern.MatchString(ru.name) || seen[ru.name] {
			t.Errorf("rule %q: invalid or duplicate name", ru.name)
		}
		seen[ru.name] = true
		if ru.doc == "" || strings.Contains(ru.doc, "\n") {
			t.Errorf("rule %s: doc must be one line", ru.name)
		}
		if len(ru.dets) == 0 {
			t.Errorf("rule %s: no detectors", ru.name)
		}
		for di, d := range ru.dets {
			if len(d.keywords) == 0 && d.scan == nil {
				t.Errorf("rule %s detector %d: built-in detectors must have keywords or a scan", ru.name, di)
			}
			for _, k := range d.keywords {
				if len(k) < 2 {
					t.Errorf("rule %s: keyword %q shorter than two bytes", ru.name, k)
				}
				if d.fold && k != strings.ToLower(k) {
					t.Errorf("rule %s: folded keyword %q not lower case", ru.name, k)
				}
			}
		}
	}
}

func TestNotSecretLength(t *testing.T) {
	for k := range notSecret {
		if len(k) > maxNotSecret || k != strings.ToLower(k) {
			t.Errorf("notSecret %q: longer than maxNotSecret (%d) or not lower case", k, maxNotSecret)
		}
	}
}

func TestTrimClosers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "abc"}, {"abc)", "abc"}, {"a(b)", "a(b)"}, {"a(b))", "a(b)"}, {"ab})]", "ab"},
		{"a[b]}", "a[b]"}, {")))", ""}, {"(a", "(a"},
	} {
		if got := tc.in[:trimClosers(tc.in, 0, len(tc.in))]; got != tc.want {
			t.Errorf("trimClosers(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
