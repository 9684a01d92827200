package gitlog

import "testing"

// TestWebURLs: the commit and request pages of a repository, from its
// remote in every shape the hosts hand out, or from web_url.
func TestWebURLs(t *testing.T) {
	const sha = "9b1c0000000000000000000000000000000000aa"
	cases := []struct {
		remote, webURL, kind string
		commit, request      string // "" : no links
	}{
		// GitHub
		{"https://github.com/corp/fraud-model.git", "", "", "https://github.com/corp/fraud-model/commit/" + sha, "https://github.com/corp/fraud-model/pull/42"},
		{"https://github.com/corp/fraud-model", "", "", "https://github.com/corp/fraud-model/commit/" + sha, "https://github.com/corp/fraud-model/pull/42"},
		{"git@github.com:corp/fraud-model.git", "", "", "https://github.com/corp/fraud-model/commit/" + sha, "https://github.com/corp/fraud-model/pull/42"},
		{"ssh://git@github.com/corp/fraud-model.git", "", "", "https://github.com/corp/fraud-model/commit/" + sha, "https://github.com/corp/fraud-model/pull/42"},
		{"ssh://git@ssh.github.com:443/corp/fraud-model.git", "", "", "https://github.com/corp/fraud-model/commit/" + sha, "https://github.com/corp/fraud-model/pull/42"},
		{"https://x-access-token:ghp_SECRET@github.com/corp/fraud-model.git", "", "", "https://github.com/corp/fraud-model/commit/" + sha, "https://github.com/corp/fraud-model/pull/42"},
		{"https://jane:pa55@GitHub.com/corp/fraud-model.git/", "", "", "https://github.com/corp/fraud-model/commit/" + sha, "https://github.com/corp/fraud-model/pull/42"},
		{"https://github.example.com/corp/fraud-model.git", "", "", "https://github.example.com/corp/fraud-model/commit/" + sha, "https://github.example.com/corp/fraud-model/pull/42"},
		// GitLab, nested groups, self-hosted with a port
		{"https://gitlab.com/corp/ml/fraud-model.git", "", "", "https://gitlab.com/corp/ml/fraud-model/-/commit/" + sha, "https://gitlab.com/corp/ml/fraud-model/-/merge_requests/42"},
		{"git@gitlab.com:corp/ml/fraud-model.git", "", "", "https://gitlab.com/corp/ml/fraud-model/-/commit/" + sha, "https://gitlab.com/corp/ml/fraud-model/-/merge_requests/42"},
		{"https://oauth2:glpat-SECRET@gitlab.corp.example:8443/ml/fraud.git", "", "", "https://gitlab.corp.example:8443/ml/fraud/-/commit/" + sha, "https://gitlab.corp.example:8443/ml/fraud/-/merge_requests/42"},
		{"ssh://git@gitlab.corp.example:2222/ml/fraud.git", "", "", "https://gitlab.corp.example/ml/fraud/-/commit/" + sha, "https://gitlab.corp.example/ml/fraud/-/merge_requests/42"},
		// Bitbucket
		{"https://jane@bitbucket.org/corp/fraud-model.git", "", "", "https://bitbucket.org/corp/fraud-model/commits/" + sha, "https://bitbucket.org/corp/fraud-model/pull-requests/42"},
		{"git@bitbucket.org:corp/fraud-model.git", "", "", "https://bitbucket.org/corp/fraud-model/commits/" + sha, "https://bitbucket.org/corp/fraud-model/pull-requests/42"},
		// Azure DevOps, new and legacy hosts, HTTPS and SSH
		{"https://corp@dev.azure.com/corp/ML/_git/fraud-model", "", "", "https://dev.azure.com/corp/ML/_git/fraud-model/commit/" + sha, "https://dev.azure.com/corp/ML/_git/fraud-model/pullrequest/42"},
		{"git@ssh.dev.azure.com:v3/corp/ML/fraud-model", "", "", "https://dev.azure.com/corp/ML/_git/fraud-model/commit/" + sha, "https://dev.azure.com/corp/ML/_git/fraud-model/pullrequest/42"},
		{"https://corp.visualstudio.com/ML/_git/fraud-model", "", "", "https://dev.azure.com/corp/ML/_git/fraud-model/commit/" + sha, "https://dev.azure.com/corp/ML/_git/fraud-model/pullrequest/42"},
		{"https://corp.visualstudio.com/DefaultCollection/ML/_git/fraud-model", "", "", "https://dev.azure.com/corp/ML/_git/fraud-model/commit/" + sha, "https://dev.azure.com/corp/ML/_git/fraud-model/pullrequest/42"},
		{"corp@vs-ssh.visualstudio.com:v3/corp/ML/fraud-model", "", "", "https://dev.azure.com/corp/ML/_git/fraud-model/commit/" + sha, "https://dev.azure.com/corp/ML/_git/fraud-model/pullrequest/42"},
		// Gitea / Codeberg
		{"https://codeberg.org/jane/fraud-model.git", "", "", "https://codeberg.org/jane/fraud-model/commit/" + sha, "https://codeberg.org/jane/fraud-model/pulls/42"},
		{"git@gitea.corp.example:ml/fraud.git", "", "", "https://gitea.corp.example/ml/fraud/commit/" + sha, "https://gitea.corp.example/ml/fraud/pulls/42"},
		// unknown host: no links unless web_url / web_kind say
		{"git@git.corp.example:ml/fraud.git", "", "", "", ""},
		{"git@git.corp.example:ml/fraud.git", "", webGitLab, "https://git.corp.example/ml/fraud/-/commit/" + sha, "https://git.corp.example/ml/fraud/-/merge_requests/42"},
		{"git@git.corp.example:ml/fraud.git", "https://code.corp.example/ml/fraud/", webGitea, "https://code.corp.example/ml/fraud/commit/" + sha, "https://code.corp.example/ml/fraud/pulls/42"},
		{"", "https://github.com/corp/fraud-model.git", "", "https://github.com/corp/fraud-model/commit/" + sha, "https://github.com/corp/fraud-model/pull/42"},
		{"", "https://jane:tok@gitlab.com/corp/fraud-model", "", "https://gitlab.com/corp/fraud-model/-/commit/" + sha, "https://gitlab.com/corp/fraud-model/-/merge_requests/42"},
		// local remotes
		{"/srv/git/fraud-model.git", "", "", "", ""},
		{"../fraud-model", "", "", "", ""},
		{"file:///srv/git/fraud-model.git", "", "", "", ""},
		{"C:/repos/fraud", "", "", "", ""},
		{"", "", "", "", ""},
		{"https://github.com/", "", "", "", ""},
	}
	for _, c := range cases {
		w, ok := webRepoOf(c.remote, c.webURL, c.kind)
		if c.commit == "" {
			if ok {
				t.Errorf("remote %q web_url %q: links %s, want none", c.remote, c.webURL, w.base)
			}
			continue
		}
		if !ok {
			t.Errorf("remote %q web_url %q kind %q: no links, want %s", c.remote, c.webURL, c.kind, c.commit)
			continue
		}
		if got := w.commitURL(sha); got != c.commit {
			t.Errorf("remote %q web_url %q: commit %s, want %s", c.remote, c.webURL, got, c.commit)
		}
		if got := w.requestURL(42); got != c.request {
			t.Errorf("remote %q web_url %q: request %s, want %s", c.remote, c.webURL, got, c.request)
		}
	}
}

// TestRequestNumber: the pull or merge request a merge message names, in
// each host's wording.
func TestRequestNumber(t *testing.T) {
	cases := []struct {
		msg  string
		want int
	}{
		{"Merge pull request #123 from jane/feature/drift\n\nAdd drift detection", 123},
		{"Merge branch 'feature/drift' into 'main'\n\nAdd drift detection\n\nSee merge request corp/ml/fraud-model!57", 57},
		{"Merge branch 'drift'\n\nSee merge request !8\n", 8},
		{"Merged in feature/drift (pull request #9)\n\nAdd drift", 9},
		{"Merged PR 311: Add drift detection\n\nRelated work items: #12", 311},
		{"Merge pull request 'Add drift detection' (#14) from feature/drift into main", 14},
		{"Add drift detection (#77)\n\n* wip\n* tests", 77},
		{"Add drift detection (!78)", 78},
		{"Merge branch 'feature/drift'", 0},
		{"Fix #12 in parser", 0},
		{"Add test\n\nsee (#5)", 0}, // not on the first line
		{"Merge pull request #0 from x/y", 0},
	}
	for _, c := range cases {
		if got := requestNumber(c.msg); got != c.want {
			t.Errorf("%q: %d, want %d", c.msg, got, c.want)
		}
	}
}
