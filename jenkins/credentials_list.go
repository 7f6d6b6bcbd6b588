package jenkins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CredentialIDs lists the ids of every credential in the global domain of
// folder's store ("" = the system store), in Jenkins' order, with one
// request (…/domain/_/api/json?tree=credentials[id]). Rotation uses it to
// find a credential's successors without a local state file. A folder
// that does not exist (yet) holds no credentials: nil, no error.
func (c *Client) CredentialIDs(ctx context.Context, folder string) ([]string, error) {
	sp, err := storePath(folder)
	if err != nil {
		return nil, err
	}
	r, err := c.do(ctx, request{method: http.MethodGet, path: sp + "api/json",
		query: url.Values{"tree": {"credentials[id]"}}, accept: "application/json"})
	if errors.Is(err, ErrNotFound) && strings.Trim(folder, "/") != "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	var v struct {
		Credentials []struct {
			ID string `json:"id"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		return nil, fmt.Errorf("list credentials: Jenkins answered JSON that does not parse: %w", err)
	}
	ids := make([]string, 0, len(v.Credentials))
	for _, cr := range v.Credentials {
		ids = append(ids, cr.ID)
	}
	return ids, nil
}
