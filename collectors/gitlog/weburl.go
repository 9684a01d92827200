package gitlog

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Web hosts whose URL shapes the collector knows (SourceConfig.WebKind).
const (
	webGitHub    = "github"
	webGitLab    = "gitlab"
	webBitbucket = "bitbucket"
	webAzure     = "azure"
	webGitea     = "gitea"
)

// webKinds are the values of web_kind.
var webKinds = []string{webGitHub, webGitLab, webBitbucket, webAzure, webGitea}

// webRepo is a repository's home page on a code host: the base of the
// links an assessor can follow.
type webRepo struct {
	kind string // one of webKinds
	base string // https://host/owner/repo, no trailing slash, no credentials
}

// commitURL is the page of commit sha.
func (w webRepo) commitURL(sha string) string {
	switch w.kind {
	case webGitLab:
		return w.base + "/-/commit/" + sha
	case webBitbucket:
		return w.base + "/commits/" + sha
	}
	return w.base + "/commit/" + sha // GitHub, Gitea, Azure DevOps
}

// requestURL is the page of pull (merge) request n.
func (w webRepo) requestURL(n int) string {
	s := strconv.Itoa(n)
	switch w.kind {
	case webGitLab:
		return w.base + "/-/merge_requests/" + s
	case webBitbucket:
		return w.base + "/pull-requests/" + s
	case webAzure:
		return w.base + "/pullrequest/" + s
	case webGitea:
		return w.base + "/pulls/" + s
	}
	return w.base + "/pull/" + s
}

// scpLike is git's "user@host:path" remote form (no scheme, a colon before
// any slash).
var scpLike = regexp.MustCompile(`^(?:[^@/:]+@)?([^@/:]+):(.*)$`)

// webRepoOf derives the web home of a repository from its remote URL
// (HTTPS, SSH, git://, or the scp-like user@host:path), or from an
// explicit webURL with kind (either may be empty: the kind is then told by
// the host). Credentials, ports of SSH remotes, a ".git" suffix, queries
// and fragments are dropped. ok is false for a local remote (a path,
// file://) or a host whose kind is not known and not given.
func webRepoOf(remote, webURL, kind string) (webRepo, bool) {
	if webURL != "" {
		u, err := url.Parse(strings.TrimSpace(webURL))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return webRepo{}, false
		}
		host := u.Hostname()
		if p := u.Port(); p != "" {
			host += ":" + p
		}
		base := u.Scheme + "://" + host + strings.TrimSuffix(strings.TrimSuffix(u.EscapedPath(), "/"), ".git")
		if kind == "" {
			kind = kindOfHost(u.Hostname())
		}
		if kind == "" {
			kind = webGitHub // the commit page shape most hosts share
		}
		return webRepo{kind: kind, base: base}, true
	}
	host, port, p, ok := splitRemote(strings.TrimSpace(remote))
	if !ok {
		return webRepo{}, false
	}
	lhost := strings.ToLower(host)
	switch lhost { // SSH over port 443: the web is on the main host
	case "ssh.github.com":
		lhost = "github.com"
	case "altssh.gitlab.com":
		lhost = "gitlab.com"
	case "altssh.bitbucket.org":
		lhost = "bitbucket.org"
	}
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(p, ".git")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return webRepo{}, false
	}
	if kind == "" {
		kind = kindOfHost(lhost)
	}
	// Azure DevOps' SSH and legacy hosts.
	switch {
	case lhost == "ssh.dev.azure.com" || strings.HasSuffix(lhost, ".vs-ssh.visualstudio.com") || lhost == "vs-ssh.visualstudio.com":
		// v3/org/project/repo
		parts := strings.Split(p, "/")
		if len(parts) != 4 || parts[0] != "v3" {
			return webRepo{}, false
		}
		return webRepo{kind: webAzure, base: "https://dev.azure.com/" + parts[1] + "/" + parts[2] + "/_git/" + parts[3]}, true
	case strings.HasSuffix(lhost, ".visualstudio.com"):
		org := strings.TrimSuffix(lhost, ".visualstudio.com")
		p = strings.TrimPrefix(p, "DefaultCollection/")
		return webRepo{kind: webAzure, base: "https://dev.azure.com/" + org + "/" + p}, true
	}
	if kind == "" {
		return webRepo{}, false
	}
	base := "https://" + lhost
	if port != "" {
		base += ":" + port
	}
	return webRepo{kind: kind, base: base + "/" + p}, true
}

// kindOfHost tells a code host by its name; "" when unknown.
func kindOfHost(host string) string {
	host = strings.ToLower(host)
	has := func(s string) bool { return host == s || strings.HasSuffix(host, "."+s) }
	switch {
	case has("github.com") || strings.HasPrefix(host, "github."):
		return webGitHub
	case has("gitlab.com") || strings.HasPrefix(host, "gitlab."):
		return webGitLab
	case has("bitbucket.org"):
		return webBitbucket
	case has("dev.azure.com") || has("visualstudio.com") || host == "ssh.dev.azure.com":
		return webAzure
	case has("codeberg.org") || strings.HasPrefix(host, "gitea."):
		return webGitea
	}
	return ""
}

// splitRemote returns the host, the port of an HTTP(S) remote (an SSH
// port is not the web's) and the path of a remote URL; ok is false for a
// local one.
func splitRemote(remote string) (host, port, path string, ok bool) {
	if remote == "" {
		return "", "", "", false
	}
	if strings.Contains(remote, "://") {
		u, err := url.Parse(remote)
		if err != nil || u.Host == "" {
			return "", "", "", false
		}
		switch u.Scheme {
		case "https", "http":
			port = u.Port()
			if port == "443" || port == "80" {
				port = ""
			}
		case "ssh", "git", "git+ssh", "ssh+git":
		default:
			return "", "", "", false // file:// and the like
		}
		return u.Hostname(), port, u.Path, true
	}
	if m := scpLike.FindStringSubmatch(remote); m != nil && !strings.Contains(strings.SplitN(remote, ":", 2)[0], "/") {
		return m[1], "", m[2], true
	}
	return "", "", "", false
}

// requestPatterns find the pull or merge request a merge commit's message
// names, as each host writes it.
var requestPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?m)^Merge pull request #(\d+) from `),            // GitHub
	regexp.MustCompile(`(?m)^Merge pull request '.*' \(#(\d+)\) from `),   // Gitea
	regexp.MustCompile(`(?m)^See merge request (?:[\w.\-/]+)?!(\d+)\s*$`), // GitLab
	regexp.MustCompile(`(?m)^Merged in .*\(pull request #(\d+)\)`),        // Bitbucket
	regexp.MustCompile(`(?m)^Merged PR (\d+):`),                           // Azure DevOps
	regexp.MustCompile(`(?m)^Merge (?:pull request|PR) #?(\d+)\b`),        // others
	regexp.MustCompile(`\((?:#|!)(\d+)\)\s*$`),                            // squash: "Title (#12)" on the first line
}

// requestNumber is the pull or merge request number a commit message names
// (0: none). Only the first line is read for the squash form "(#12)".
func requestNumber(msg string) int {
	first, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	for i, re := range requestPatterns {
		text := msg
		if i == len(requestPatterns)-1 {
			text = first
		}
		if m := re.FindStringSubmatch(text); m != nil {
			n, err := strconv.Atoi(m[1])
			if err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// checkWebKind validates web_kind.
func checkWebKind(kind string) error {
	for _, k := range webKinds {
		if kind == k {
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", kind, strings.Join(webKinds, ", "))
}
