package xplentytest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runjob/runjob/xplenty"
)

// List defaults and limits: Xplenty serves 20 jobs a page unless the
// request asks for up to xplenty.MaxListLimit.
const (
	defaultListLimit = 20
	maxListLimit     = xplenty.MaxListLimit
)

// list serves GET jobs: filters, order, offset paging and a Link header
// with an absolute URL for the next page.
func (s *Server) list(r *http.Request, now time.Time) *response {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != "all" && !xplenty.Status(status).Known() {
		return errorAnswer(http.StatusBadRequest, "Invalid status: %q", status)
	}
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "created"
	}
	if sortBy != "created" && sortBy != "updated" {
		return errorAnswer(http.StatusBadRequest, "Invalid sort: %q (created or updated)", sortBy)
	}
	direction := q.Get("direction")
	if direction == "" {
		direction = "desc"
	}
	if direction != "asc" && direction != "desc" {
		return errorAnswer(http.StatusBadRequest, "Invalid direction: %q (asc or desc)", direction)
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			// A "+03:00" written by hand into a query string arrives as " 03:00".
			t, err = time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+"))
		}
		if err != nil {
			return errorAnswer(http.StatusBadRequest, "Invalid since: %q (ISO 8601, e.g. 2026-01-02T15:04:05Z)", v)
		}
		// Inclusive, to the second: the API keeps no finer times.
		since = seconds(t)
	}
	var packageID int64
	if v := q.Get("package_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return errorAnswer(http.StatusBadRequest, "Invalid package_id: %q", v)
		}
		packageID = id
	}
	offset, limit := 0, defaultListLimit
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorAnswer(http.StatusBadRequest, "Invalid offset: %q", v)
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return errorAnswer(http.StatusBadRequest, "Invalid limit: %q (1 to %d)", v, maxListLimit)
		}
		limit = n
	}

	matched := make([]*job, 0, len(s.order))
	for _, j := range s.order {
		s.advance(j, now)
		if status != "" && status != "all" && string(j.Status) != status {
			continue
		}
		if packageID != 0 && j.PackageID != packageID {
			continue
		}
		if !since.IsZero() && seconds(*j.UpdatedAt).Before(since) {
			continue
		}
		matched = append(matched, j)
	}
	// s.order is by id, which is creation order: only "updated" needs a
	// sort, on whole seconds, ties by id.
	if sortBy == "updated" {
		slices.SortStableFunc(matched, func(a, b *job) int { return seconds(*a.UpdatedAt).Compare(seconds(*b.UpdatedAt)) })
	}
	if direction == "desc" {
		slices.Reverse(matched)
	}

	page := []wireJob{}
	if offset < len(matched) {
		end := min(offset+limit, len(matched))
		for _, j := range matched[offset:end] {
			page = append(page, j.wire(now, true))
		}
	}
	res := &response{status: http.StatusOK, body: page}
	if offset+limit < len(matched) {
		next := *r.URL
		next.Scheme, next.Host = "http", r.Host
		if r.TLS != nil {
			next.Scheme = "https"
		}
		nq := r.URL.Query()
		nq.Set("offset", strconv.Itoa(offset+limit))
		next.RawQuery = nq.Encode()
		res.link = "<" + next.String() + `>; rel="next"`
	}
	return res
}

// runParams is a run request, whatever encoding it came in.
type runParams struct {
	clusterID, packageID int64
	vars, dyn            map[string]string
}

// run serves POST jobs: the request may be a form (body or query string,
// job[cluster_id]=…), top-level JSON or JSON wrapped in {"job": {...}}.
func (s *Server) run(r *http.Request, body []byte, now time.Time) *response {
	var (
		p   runParams
		res *response
	)
	mt := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return errorAnswer(http.StatusUnsupportedMediaType, "Unsupported media type")
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		p, res = parseRunJSON(body)
	case mt == "application/x-www-form-urlencoded" || (mt == "" && len(bytes.TrimSpace(body)) == 0):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return errorAnswer(http.StatusBadRequest, "Malformed form body")
		}
		for k, v := range r.URL.Query() {
			if _, ok := form[k]; !ok {
				form[k] = v
			}
		}
		p, res = parseRunForm(form)
	default:
		return errorAnswer(http.StatusUnsupportedMediaType, "Unsupported media type %q: send a form or JSON", mt)
	}
	if res != nil {
		return res
	}
	j, res := s.create(p, now)
	if res != nil {
		return res
	}
	return &response{status: http.StatusCreated, body: j.wire(now, false)}
}

// parseRunForm reads job[cluster_id], job[package_id],
// job[variables][NAME] and job[dynamic_variables][NAME] (the job[...]
// wrapper may be left out). A bracket inside NAME is refused: it is what a
// client that fails to check names would send.
func parseRunForm(form url.Values) (runParams, *response) {
	var p runParams
	var idText [2]string
	var seen [2]bool
	for key, values := range form {
		k := key
		if rest, ok := strings.CutPrefix(key, "job["); ok {
			name, tail, ok := strings.Cut(rest, "]")
			if !ok {
				return p, errorAnswer(http.StatusBadRequest, "Malformed parameter %q", key)
			}
			k = name + tail
		}
		var field *map[string]string
		switch {
		case k == "cluster_id" || k == "package_id":
			i := 0
			if k == "package_id" {
				i = 1
			}
			if len(values) != 1 {
				return p, errorAnswer(http.StatusBadRequest, "Parameter %q given %d times", key, len(values))
			}
			idText[i], seen[i] = values[0], true
			continue
		case strings.HasPrefix(k, "variables["):
			field, k = &p.vars, strings.TrimPrefix(k, "variables[")
		case strings.HasPrefix(k, "dynamic_variables["):
			field, k = &p.dyn, strings.TrimPrefix(k, "dynamic_variables[")
		default:
			continue // unknown parameters are ignored
		}
		name, ok := strings.CutSuffix(k, "]")
		if !ok || name == "" || strings.ContainsAny(name, "[]") {
			return p, errorAnswer(http.StatusBadRequest, "Malformed parameter %q", key)
		}
		if len(values) != 1 {
			return p, errorAnswer(http.StatusBadRequest, "Parameter %q given %d times", key, len(values))
		}
		if *field == nil {
			*field = map[string]string{}
		}
		(*field)[name] = values[0]
	}
	var res *response
	if p.clusterID, res = parseID("cluster_id", idText[0], seen[0]); res != nil {
		return p, res
	}
	if p.packageID, res = parseID("package_id", idText[1], seen[1]); res != nil {
		return p, res
	}
	return p, nil
}

// parseRunJSON reads {"cluster_id":52,"package_id":434,"variables":{...},
// "dynamic_variables":{...}}, bare or inside {"job": ...}. Ids may be
// numbers or text; variable values of any type are kept as their text.
func parseRunJSON(body []byte) (runParams, *response) {
	var p runParams
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return p, errorAnswer(http.StatusBadRequest, "Malformed JSON body")
	}
	if inner, ok := top["job"]; ok {
		if err := json.Unmarshal(inner, &top); err != nil {
			return p, errorAnswer(http.StatusBadRequest, "Malformed JSON body: job must be an object")
		}
	}
	var res *response
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"cluster_id", &p.clusterID}, {"package_id", &p.packageID}} {
		raw, ok := top[f.name]
		text := string(bytes.TrimSpace(raw))
		if s, err := strconv.Unquote(text); err == nil {
			text = s
		}
		if text == "null" {
			ok = false
		}
		if *f.dst, res = parseID(f.name, text, ok); res != nil {
			return p, res
		}
	}
	for _, f := range []struct {
		name string
		dst  *map[string]string
	}{{"variables", &p.vars}, {"dynamic_variables", &p.dyn}} {
		raw, ok := top[f.name]
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		var vals map[string]json.RawMessage
		if err := json.Unmarshal(raw, &vals); err != nil {
			return p, errorAnswer(http.StatusBadRequest, "Malformed JSON body: %s must be an object", f.name)
		}
		*f.dst = make(map[string]string, len(vals))
		for name, v := range vals {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(bytes.TrimSpace(v))
			}
			(*f.dst)[name] = s
		}
	}
	return p, nil
}

func parseID(name, text string, present bool) (int64, *response) {
	if !present || strings.TrimSpace(text) == "" {
		return 0, errorAnswer(http.StatusUnprocessableEntity, "Validation failed: %s can't be blank", name)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil || id <= 0 {
		return 0, errorAnswer(http.StatusUnprocessableEntity, "Validation failed: %s must be a positive integer", name)
	}
	return id, nil
}

// create adds a job in status idle, or answers 422 for a package or
// cluster that does not exist.
func (s *Server) create(p runParams, now time.Time) (*job, *response) {
	if p.clusterID <= 0 || p.packageID <= 0 {
		return nil, errorAnswer(http.StatusUnprocessableEntity, "Validation failed: cluster_id and package_id must be positive integers")
	}
	if s.missing[p.packageID] || (s.known != nil && !s.known[p.packageID]) {
		return nil, errorAnswer(http.StatusUnprocessableEntity, "Package %d not found", p.packageID)
	}
	if s.noCluster[p.clusterID] {
		return nil, errorAnswer(http.StatusUnprocessableEntity, "Cluster %d not found", p.clusterID)
	}
	id := s.nextID
	s.nextID++
	acct := s.baseURL + url.PathEscape(s.acct)
	idText := strconv.FormatInt(id, 10)
	apiURL := acct + "/api/jobs/" + idText
	vars := cloneMap(p.vars)
	if vars == nil {
		vars = map[string]string{}
	}
	j := &job{
		Job: xplenty.Job{
			ID:               id,
			Status:           xplenty.StatusIdle,
			Variables:        vars,
			DynamicVariables: cloneMap(p.dyn),
			OwnerID:          creatorID,
			CreatedAt:        timePtr(now),
			UpdatedAt:        timePtr(now),
			ClusterID:        p.clusterID,
			PackageID:        p.packageID,
			URL:              apiURL,
			HTMLURL:          acct + "/jobs/" + idText,
			LogURL:           apiURL + "/log",
			Creator: &xplenty.Creator{
				Type:        "User",
				ID:          creatorID,
				DisplayName: "runjob (API key)",
				URL:         acct + "/api/members/" + strconv.Itoa(creatorID),
				HTMLURL:     acct + "/members/" + strconv.Itoa(creatorID),
			},
			Attempts: 1,
		},
	}
	if s.lc != nil {
		j.auto = true
		j.fails = s.lc.fails(id)
		j.OutputsCount = len(outputTemplates)
	}
	j.notify = s.hookEvent
	s.jobs[id] = j
	s.order = append(s.order, j)
	s.hookEvent(j, j.Status, now)
	return j, nil
}

// creatorID is the user every job is run as: the owner of the API key.
const creatorID = 7
