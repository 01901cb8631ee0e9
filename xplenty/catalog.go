package xplenty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// What packages and clusters share: a page of a list, its query, and
// reading the items of a page one by one, so that one odd item costs only
// itself.

// Route templates of the catalog calls, reported to Config.OnResponse.
const (
	routePackages      = "/packages"
	routePackageSearch = "/packages/search"
	routePackage       = "/packages/{id}"
	routeClusters      = "/clusters"
	routeCluster       = "/clusters/{id}"
)

// Page is one page of a list of packages or clusters. NextURL is the
// rel="next" target of the answer's Link header, empty on the last page.
type Page[T any] struct {
	Items   []T
	NextURL string
	// ServerTime is the answer's Date header (whole seconds), zero when it
	// had none.
	ServerTime time.Time
	// Undecodable lists the items of the page that could not be read: not
	// an object, or an object without a usable id. They are left out of
	// Items. A field of the wrong type does not make an item undecodable:
	// that field is read as its zero value.
	Undecodable []UndecodableItem

	route string // for OnResponse when the next page is fetched
}

// UndecodableItem is an item of a page that could not be read.
type UndecodableItem struct {
	Index int // its position in the page, from 0
	// Err says what was wrong. It never holds the item's JSON: at most a
	// field's short number text.
	Err error
}

// listQuery builds a list call's query, collecting every problem so that
// an invalid request is refused before it costs a call.
type listQuery struct {
	v        url.Values
	problems []string
}

func newListQuery() *listQuery { return &listQuery{v: url.Values{}} }

// text sets key when value is not empty.
func (q *listQuery) text(key, value string) {
	if value != "" {
		q.v.Set(key, value)
	}
}

// oneOf sets key when value is not empty and is one of allowed.
func (q *listQuery) oneOf(key, value string, allowed ...string) {
	if value == "" {
		return
	}
	for _, a := range allowed {
		if value == a {
			q.v.Set(key, value)
			return
		}
	}
	q.problems = append(q.problems, fmt.Sprintf("%s must be %s, got %q", key, strings.Join(allowed, " or "), value))
}

// since sets since= to whole seconds, rounded down: the filter is
// inclusive, so the answer can only grow, never miss a change.
func (q *listQuery) since(t time.Time) {
	if !t.IsZero() {
		q.v.Set("since", t.UTC().Truncate(time.Second).Format(time.RFC3339))
	}
}

func (q *listQuery) paging(offset, limit int) {
	if offset < 0 {
		q.problems = append(q.problems, fmt.Sprintf("offset must not be negative, got %d", offset))
	} else if offset > 0 {
		q.v.Set("offset", strconv.Itoa(offset))
	}
	if limit < 0 || limit > MaxListLimit {
		q.problems = append(q.problems, fmt.Sprintf("limit must be between 0 (the server's default) and %d, got %d", MaxListLimit, limit))
	} else if limit > 0 {
		q.v.Set("limit", strconv.Itoa(limit))
	}
}

// result is the query, or an error naming the call and every problem.
func (q *listQuery) result(what string) (url.Values, error) {
	if len(q.problems) > 0 {
		return nil, fmt.Errorf("xplenty: %s: %s", what, strings.Join(q.problems, "; "))
	}
	return q.v, nil
}

// getPage fetches one page at u and decodes its items one by one with
// decode, which refuses an item without an id.
func getPage[T any](ctx context.Context, c *Client, u *url.URL, route string, decode func([]byte) (T, error)) (*Page[T], error) {
	items, serverTime, next, err := c.fetchPage(ctx, u, route)
	if err != nil {
		return nil, err
	}
	page := &Page[T]{Items: make([]T, 0, len(items)), route: route, ServerTime: serverTime, NextURL: next}
	for i, item := range items {
		v, err := decode(item)
		if err != nil {
			page.Undecodable = append(page.Undecodable, UndecodableItem{Index: i, Err: c.scrubErr(err)})
			continue
		}
		page.Items = append(page.Items, v)
	}
	return page, nil
}

// fetchPage reads one page of a list at u: its items undecoded (each is
// decoded on its own, so one odd item costs only itself), the server's
// time (its Date header; zero without one) and the next page's address
// (from the Link header; "" on the last page).
func (c *Client) fetchPage(ctx context.Context, u *url.URL, route string) (items []json.RawMessage, serverTime time.Time, next string, err error) {
	h, err := c.do(ctx, &call{method: http.MethodGet, route: route, u: u, out: &items})
	if err != nil {
		return nil, time.Time{}, "", err
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		serverTime = d
	}
	if n := nextLink(h.Values("Link"), u); n != nil {
		next = n.String()
	}
	return items, serverTime, next, nil
}

// nextPage fetches the page after page, refusing a next link that leaves
// the base URL's origin (the API key goes nowhere else). defaultRoute names
// the call for a page built elsewhere.
func nextPage[T any](ctx context.Context, c *Client, page *Page[T], defaultRoute string, decode func([]byte) (T, error)) (*Page[T], error) {
	if page == nil || page.NextURL == "" {
		return nil, ErrNoNextPage
	}
	u, err := url.Parse(page.NextURL)
	if err != nil {
		return nil, errors.New("xplenty: next page link is not a URL")
	}
	if !sameOrigin(u, c.base) {
		return nil, errors.New("xplenty: refusing to follow a next page link to another host")
	}
	route := page.route
	if route == "" {
		route = defaultRoute
	}
	return getPage(ctx, c, u, route, decode)
}

// allPages follows next links from first, reading at most maxPages pages,
// and keeps each id once, as first seen. truncated reports that more pages
// were announced. On error, items holds what the earlier pages returned.
func allPages[T any](first *Page[T], maxPages int, next func(*Page[T]) (*Page[T], error), id func(T) int64) (items []T, truncated bool, err error) {
	seen := make(map[int64]bool)
	page := first
	for n := 1; ; n++ {
		for _, it := range page.Items {
			if k := id(it); !seen[k] {
				seen[k] = true
				items = append(items, it)
			}
		}
		if page.NextURL == "" {
			return items, false, nil
		}
		if n >= maxPages {
			return items, true, nil
		}
		if page, err = next(page); err != nil {
			return items, false, err
		}
	}
}

// catalogURL is the URL of a package or cluster by id, e.g. "packages/434".
func (c *Client) catalogURL(kind string, id int64) (*url.URL, error) {
	if id <= 0 {
		return nil, fmt.Errorf("xplenty: %s id must be a positive number, got %d", strings.TrimSuffix(kind, "s"), id)
	}
	return c.endpoint(kind + "/" + strconv.FormatInt(id, 10))
}
