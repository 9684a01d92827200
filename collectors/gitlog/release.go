package gitlog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// maxTagsSeen bounds the cursor's list of tag objects already looked at.
const maxTagsSeen = 10_000

// tagObjects lists the annotated tags of the repository: tag object hash
// → tag name (refs/tags/<name>), in name order.
func tagObjects(repo *git.Repository, objs objectSource) ([]plumbing.Hash, map[plumbing.Hash]string, error) {
	iter, err := repo.Tags()
	if err != nil {
		return nil, nil, fmt.Errorf("list tags: %w", err)
	}
	names := map[plumbing.Hash]string{}
	var hashes []plumbing.Hash
	err = iter.ForEach(func(r *plumbing.Reference) error {
		if r.Type() != plumbing.HashReference {
			return nil
		}
		if _, seen := names[r.Hash()]; !seen {
			hashes = append(hashes, r.Hash())
		}
		names[r.Hash()] = r.Name().Short()
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list tags: %w", err)
	}
	slices.SortFunc(hashes, func(a, b plumbing.Hash) int { return strings.Compare(names[a], names[b]) })
	return hashes, names, nil
}

// releaseItem maps an annotated tag the apprentice made to its release
// item. target is the commit it points at.
func releaseItem(t *object.Tag, name string, target plumbing.Hash, taggerName, taggerEmail string, m itemMeta) evidence.Item {
	title, summary := splitMessage(toUTF8(t.Message, ""))
	if strings.TrimSpace(t.Message) == "" {
		title = "Release " + name
	}
	facts := map[string]any{
		"tag":          name,
		"target":       target.String(),
		"tagger_name":  taggerName,
		"tagger_email": taggerEmail,
		"repo":         m.RepoPath,
	}
	if m.HasWeb {
		facts["web_url"] = m.Web.commitURL(target.String())
	}
	it := evidence.Item{
		Schema:      evidence.SchemaVersion,
		ID:          evidence.NewID(SourceType, "tag:"+t.Hash.String()),
		Apprentice:  m.Apprentice,
		Source:      m.Source,
		SourceType:  SourceType,
		Kind:        evidence.KindRelease,
		Title:       clip(title, maxTitleRunes),
		Summary:     summary,
		OccurredAt:  t.Tagger.When.UTC(),
		CollectedAt: m.CollectedAt,
		Origin:      evidence.Origin{URI: m.OriginURI, NativeID: "tag:" + t.Hash.String()},
		Facts:       facts,
	}
	if it.OccurredAt.IsZero() {
		it.OccurredAt = time.Unix(0, 0).UTC()
	}
	it.Normalize()
	return it
}
