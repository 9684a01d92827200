package gitlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// Remote is how a repository named by URL is reached.
type Remote struct {
	// URL is the repository: https://host/owner/repo.git, ssh://git@host/o/r
	// or git@host:o/r.git. It holds no credentials (see Auth).
	URL string
	// Auth: a token or a username and password for HTTPS, a private key
	// file for SSH. Secrets are resolved when the repository is fetched.
	Auth *sourceconfig.Auth
	// KnownHosts is the known_hosts file SSH host keys are checked against
	// (empty: ~/.ssh/known_hosts). A host not in it is refused.
	KnownHosts string
	// CAFile is a PEM bundle of extra certificate authorities for HTTPS
	// (a company's own CA).
	CAFile string
	// CacheDir holds the bare clones (empty: the user's cache folder,
	// $XDG_CACHE_HOME/ksbfolio/git). Never the store.
	CacheDir string
}

// defaultTokenUser is the user name sent with a token when none is
// configured; GitHub, GitLab, Gitea and Azure DevOps accept any.
const defaultTokenUser = "x-access-token"

// cloneDir is the bare clone of the remote: CacheDir/<hash of the URL>.
func (rm Remote) cloneDir() (string, error) {
	dir := rm.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("find the cache folder (set cache_dir): %w", err)
		}
		dir = filepath.Join(base, "ksbfolio", "git")
	}
	sum := sha256.Sum256([]byte(rm.URL))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+".git"), nil
}

// fetchSpecs mirror the remote's branches and tags into the bare clone's
// own refs, so that the collector's refs (refs/heads/*…) mean the
// remote's; Prune drops a branch deleted upstream.
var fetchSpecs = []gitconfig.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}

// sync brings the bare clone of the remote up to date: the first time a
// clone, later a fetch of what is new (git's negotiation sends what the
// clone has). It returns the clone's folder and whether it was fetched
// (false: the fetch failed and fetchErr says why; the clone as it was can
// still be collected).
func (rm Remote) sync(ctx context.Context) (dir string, fetchErr error, err error) {
	dir, err = rm.cloneDir()
	if err != nil {
		return "", nil, err
	}
	auth, err := rm.auth()
	if err != nil {
		return "", nil, err
	}
	var ca []byte
	if rm.CAFile != "" {
		if ca, err = os.ReadFile(rm.CAFile); err != nil {
			return "", nil, fmt.Errorf("read ca_file: %w", err)
		}
	}
	repo, err := git.PlainOpen(dir)
	first := errors.Is(err, git.ErrRepositoryNotExists)
	switch {
	case first:
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return "", nil, fmt.Errorf("make cache folder: %w", err)
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), ".clone-")
		if err != nil {
			return "", nil, fmt.Errorf("make cache folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		if repo, err = git.PlainInit(tmp, true); err != nil {
			return "", nil, fmt.Errorf("init bare clone: %w", err)
		}
		if _, err := repo.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{rm.URL}, Fetch: fetchSpecs}); err != nil {
			return "", nil, fmt.Errorf("init bare clone: %w", err)
		}
		if err := rm.fetch(ctx, repo, auth, ca); err != nil {
			return "", nil, fmt.Errorf("clone %s: %w", rm.URL, err)
		}
		// Only a complete clone takes the cache's name: a failed first
		// clone leaves nothing half-made behind.
		if err := os.Rename(tmp, dir); err != nil {
			return "", nil, fmt.Errorf("store clone in cache: %w", err)
		}
		return dir, nil, nil
	case err != nil:
		return "", nil, fmt.Errorf("open cached clone %s: %w", dir, err)
	}
	if err := rm.fetch(ctx, repo, auth, ca); err != nil {
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		return dir, fmt.Errorf("fetch %s: %w", rm.URL, err), nil
	}
	return dir, nil, nil
}

// fetch fetches every branch and tag, pruning deleted branches, and
// points HEAD at the remote's default branch.
func (rm Remote) fetch(ctx context.Context, repo *git.Repository, auth transport.AuthMethod, ca []byte) error {
	rem, err := repo.Remote("origin")
	if err != nil {
		return err
	}
	err = rem.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: fetchSpecs, Auth: auth,
		CABundle: ca, Tags: git.NoTags, Prune: true, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return err
	}
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth, CABundle: ca})
	if err != nil {
		return nil // HEAD stays as it was; the refs are fetched
	}
	for _, r := range refs {
		if r.Name() == plumbing.HEAD && r.Type() == plumbing.SymbolicReference {
			return repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, r.Target()))
		}
	}
	return nil
}

// auth builds the transport credentials, resolving secrets now.
func (rm Remote) auth() (transport.AuthMethod, error) {
	a := rm.Auth
	ssh := isSSH(rm.URL)
	if a == nil {
		if ssh {
			return nil, errors.New("an ssh URL needs auth.ssh_key (a private key file)")
		}
		return nil, nil // a public repository
	}
	switch {
	case ssh:
		if a.SSHKey == "" {
			return nil, errors.New("an ssh URL needs auth.ssh_key (a private key file)")
		}
		user := sshUser(rm.URL)
		pass := ""
		if !a.Password.IsZero() {
			p, err := a.Password.Resolve()
			if err != nil {
				return nil, fmt.Errorf("auth.password: %w", err)
			}
			pass = p
		}
		pk, err := gitssh.NewPublicKeysFromFile(user, a.SSHKey, pass)
		if err != nil {
			return nil, fmt.Errorf("auth.ssh_key: %w", err)
		}
		kh := rm.KnownHosts
		if kh == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("known_hosts: %w", err)
			}
			kh = filepath.Join(home, ".ssh", "known_hosts")
		}
		if _, err := os.Stat(kh); err != nil {
			return nil, fmt.Errorf("known_hosts %s: %w (add the host's key: ssh-keyscan HOST >> %s)", kh, err, kh)
		}
		db, err := gitssh.NewKnownHostsDb(kh)
		if err != nil {
			return nil, fmt.Errorf("known_hosts %s: %w", kh, err)
		}
		pk.HostKeyCallback = db.HostKeyCallback()
		pk.HostKeyAlgorithms = db.HostKeyAlgorithms(sshHostPort(rm.URL))
		return pk, nil
	case !a.Token.IsZero():
		tok, err := a.Token.Resolve()
		if err != nil {
			return nil, fmt.Errorf("auth.token: %w", err)
		}
		user := a.Username
		if user == "" {
			user = defaultTokenUser
		}
		return &githttp.BasicAuth{Username: user, Password: tok}, nil
	case !a.Password.IsZero():
		p, err := a.Password.Resolve()
		if err != nil {
			return nil, fmt.Errorf("auth.password: %w", err)
		}
		return &githttp.BasicAuth{Username: a.Username, Password: p}, nil
	}
	return nil, nil
}

// isSSH reports whether a remote URL is reached over SSH.
func isSSH(u string) bool {
	if i := strings.Index(u, "://"); i >= 0 {
		s := strings.ToLower(u[:i])
		return s == "ssh" || s == "git+ssh" || s == "ssh+git"
	}
	return scpLike.MatchString(u)
}

// sshUser is the login in an SSH URL ("git" when none).
func sshUser(u string) string {
	if strings.Contains(u, "://") {
		if p, err := url.Parse(u); err == nil && p.User != nil && p.User.Username() != "" {
			return p.User.Username()
		}
		return "git"
	}
	if at := strings.Index(u, "@"); at > 0 && at < strings.Index(u, ":") {
		return u[:at]
	}
	return "git"
}

// sshHostPort is the host:port of an SSH URL, as known_hosts matches it.
func sshHostPort(u string) string {
	host, port := "", "22"
	if strings.Contains(u, "://") {
		if p, err := url.Parse(u); err == nil {
			host = p.Hostname()
			if p.Port() != "" {
				port = p.Port()
			}
		}
	} else if m := scpLike.FindStringSubmatch(u); m != nil {
		host = m[1]
	}
	return net.JoinHostPort(host, port)
}

// checkRemoteURL says what is wrong with a url key; "" when nothing.
func checkRemoteURL(u string) string {
	u = strings.TrimSpace(u)
	switch {
	case u == "":
		return "empty"
	case strings.ContainsAny(u, " \t\r\n"):
		return "must not hold spaces"
	case strings.Contains(u, "://"):
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			return "not a URL (https://host/owner/repo.git or ssh://git@host/owner/repo.git)"
		}
		switch p.Scheme {
		case "https", "http":
			if p.User != nil {
				return "must not hold credentials (user or token before @); use auth.token"
			}
		case "ssh", "git+ssh", "ssh+git":
			if _, has := p.User.Password(); has {
				return "must not hold a password; use auth.ssh_key"
			}
		default:
			return fmt.Sprintf("scheme %q is not supported (https or ssh; a local repository goes in path)", p.Scheme)
		}
	case scpLike.MatchString(u):
	default:
		return "not a URL (https://host/owner/repo.git, ssh://git@host/owner/repo.git or git@host:owner/repo.git)"
	}
	return ""
}
