package jenkins

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
)

// FolderClass is the Java class of a cloudbees-folder Folder.
const FolderClass = "com.cloudbees.hudson.plugins.folder.Folder"

// Item is a job or folder.
type Item struct {
	// FullName is the "/"-separated path, e.g. team-a/build-wheel.
	FullName    string
	Class       string
	Description string
	// Folder is true for items that hold other items (folders, and also
	// organization folders and multibranch projects).
	Folder bool
}

// listDepth is how many folder levels ListJobs reads in one request. A
// folder at the last level that has children is listed with one more
// request of the same depth, so no item is ever missed; deep trees cost
// one request per listDepth levels.
const listDepth = 10

// jobsTree is the tree= filter for depth levels, e.g. for 1:
// jobs[name,fullName,_class,description,jobs[name]]. The innermost
// jobs[name] only tells whether a last-level folder has children.
func jobsTree(depth int) string {
	t := "jobs[name]"
	for range depth {
		t = "jobs[name,fullName,_class,description," + t + "]"
	}
	return t
}

type jobNode struct {
	Name        string     `json:"name"`
	FullName    string     `json:"fullName"`
	Class       string     `json:"_class"`
	Description string     `json:"description"`
	Jobs        []*jobNode `json:"jobs"` // nil when absent: not an ItemGroup
}

// ListJobs lists every job and folder, parents before children, with one
// GET /api/json?tree=… per listDepth levels of folders.
func (c *Client) ListJobs(ctx context.Context) ([]Item, error) {
	var out []Item
	if err := c.listUnder(ctx, "", &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) listUnder(ctx context.Context, folder string, out *[]Item) error {
	p, err := itemPath(folder)
	if err != nil {
		return err
	}
	var root jobNode
	err = c.viaGojenkins(ctx, "list jobs", func(ctx context.Context) error {
		_, err := c.gj.Requester.GetJSON(ctx, "/"+p, &root, map[string]string{"tree": jobsTree(listDepth)})
		return err
	})
	if err != nil {
		return err
	}
	var walk func(parent string, nodes []*jobNode, level int) error
	walk = func(parent string, nodes []*jobNode, level int) error {
		for _, n := range nodes {
			if level > listDepth {
				// A child seen only by the jobs[name] probe: list this
				// last-level folder with a request of its own.
				return c.listUnder(ctx, parent, out)
			}
			if n == nil {
				continue
			}
			full := n.FullName
			if full == "" {
				full = strings.TrimPrefix(parent+"/"+n.Name, "/")
			}
			*out = append(*out, Item{FullName: full, Class: n.Class, Description: n.Description,
				Folder: n.Jobs != nil || n.Class == FolderClass})
			if err := walk(full, n.Jobs, level+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(folder, root.Jobs, 1)
}

// JobConfig returns a job's or folder's config.xml as Jenkins stores it.
func (c *Client) JobConfig(ctx context.Context, fullName string) ([]byte, error) {
	p, err := itemPath(fullName)
	if err != nil {
		return nil, err
	}
	// Not gojenkins' GetConfig: it returns a 404 page as the config.
	r, err := c.do(ctx, request{method: http.MethodGet, path: p + "config.xml", accept: "application/xml"})
	if err != nil {
		return nil, err
	}
	return r.body, nil
}

// CreateJob creates a job from its config.xml in its (existing) parent
// folder. A name that is taken is an error matching ErrAlreadyExists.
// When the outcome of the POST is unknown (timeout, reset, 5xx), the job's
// existence is checked before trying again, so a retry never creates a
// second job or fails because the first attempt landed.
func (c *Client) CreateJob(ctx context.Context, fullName string, xml []byte) error {
	return c.createItem(ctx, fullName, xml)
}

// CreateFolder creates a folder (its parent must exist) from a folder
// config.xml; nil xml means an empty cloudbees folder.
func (c *Client) CreateFolder(ctx context.Context, fullName string, xml []byte) error {
	if xml == nil {
		xml = []byte("<" + FolderClass + "/>")
	}
	return c.createItem(ctx, fullName, xml)
}

func (c *Client) createItem(ctx context.Context, fullName string, xml []byte) error {
	parent, name, err := parentAndBase(fullName)
	if err != nil {
		return err
	}
	pp, err := itemPath(parent)
	if err != nil {
		return err
	}
	send := func(ctx context.Context, attempt int) error {
		_, err := c.do(ctx, request{method: http.MethodPost, path: pp + "createItem", query: url.Values{"name": {name}},
			body: xml, ctype: "application/xml; charset=utf-8", noFollow: true})
		if attempt > 1 && errors.Is(err, ErrAlreadyExists) {
			return nil // our earlier attempt landed after all
		}
		return err
	}
	exists := func(ctx context.Context) (bool, error) { return c.itemExists(ctx, fullName) }
	if err := c.retryUnsafe(ctx, send, exists); err != nil {
		return fmt.Errorf("create %q: %w", fullName, err)
	}
	return nil
}

// itemExists asks for the item's class only.
func (c *Client) itemExists(ctx context.Context, fullName string) (bool, error) {
	p, err := itemPath(fullName)
	if err != nil {
		return false, err
	}
	_, err = c.do(ctx, request{method: http.MethodGet, path: p + "api/json", query: url.Values{"tree": {"_class"}}})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// UpdateJob replaces a job's or folder's config.xml. Replaying it is
// harmless, so it is retried like a GET. (gojenkins' UpdateJob drops the
// error; this one reports every non-200 answer.) Beware folders: Jenkins
// replaces the folder's properties wholesale, so XML without the
// FolderCredentialsProperty drops the folder's credential store.
func (c *Client) UpdateJob(ctx context.Context, fullName string, xml []byte) error {
	p, err := itemPath(fullName)
	if err != nil {
		return err
	}
	_, err = c.do(httpx.WithRetryable(ctx), request{method: http.MethodPost, path: p + "config.xml", body: xml,
		ctype: "application/xml; charset=utf-8", noFollow: true})
	if err != nil {
		return fmt.Errorf("update %q: %w", fullName, err)
	}
	return nil
}

// DeleteJob deletes a job or a folder with everything in it (POST doDelete,
// whose success answer is a 302). A missing item is ErrNotFound unless an
// earlier attempt of this call deleted it.
func (c *Client) DeleteJob(ctx context.Context, fullName string) error {
	p, err := itemPath(fullName)
	if err != nil {
		return err
	}
	send := func(ctx context.Context, attempt int) error {
		_, err := c.do(ctx, request{method: http.MethodPost, path: p + "doDelete", noFollow: true,
			ok: []int{http.StatusFound, http.StatusSeeOther, http.StatusOK, http.StatusNoContent}})
		if attempt > 1 && errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	gone := func(ctx context.Context) (bool, error) {
		ok, err := c.itemExists(ctx, fullName)
		return !ok, err
	}
	if err := c.retryUnsafe(ctx, send, gone); err != nil {
		return fmt.Errorf("delete %q: %w", fullName, err)
	}
	return nil
}
