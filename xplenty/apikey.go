package xplenty

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The API key travels in every request's Authorization header. What is here
// keeps it from going anywhere else: redirects and next-page links are
// followed within the base URL's origin only, and text that came from
// elsewhere (a server echoing the request) is scrubbed of it.

// sameOriginRedirects returns a copy of hc (same transport, timeout and
// jar) that follows a redirect only for a GET, and only within its scheme,
// host and port. The redirect answer itself is returned instead, and
// becomes an *ErrorResponse.
//
// To another origin the Authorization header would go along (net/http keeps
// it for the same host name, whatever the port or scheme).
//
// A POST or DELETE follows no redirect at all: net/http turns a POST into a
// GET without its body on a 301, 302 or 303, so the run would silently become
// a read, and following a 307 or 308 would send the request a second time.
// Nor is a 3xx a clean refusal: a server may well act before redirecting
// (POST-redirect-GET answers 303 after creating the resource), so once or
// do sees it, it carries ErrOutcomeUnknown like any unexpected answer.
func (c *Client) sameOriginRedirects(hc *http.Client) *http.Client {
	cp := *hc
	next := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		// via[0] is the request as the caller made it; req.Method may
		// already have been rewritten to GET.
		if len(via) > 0 && (via[0].Method != http.MethodGet || !sameOrigin(req.URL, via[0].URL)) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// scrub removes the API key, raw or as Basic credentials, from text that
// came from elsewhere (a server echoing the request, say).
func (c *Client) scrub(s string) string {
	if c.apiKey == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.apiKey, "[redacted]")
	return strings.ReplaceAll(s, strings.TrimPrefix(c.auth, "Basic "), "[redacted]")
}

// scrubErr keeps err in the chain unless its text holds the key, in which
// case only the scrubbed text survives. Transport errors never should.
func (c *Client) scrubErr(err error) error {
	if s := err.Error(); c.scrub(s) != s {
		return errors.New(c.scrub(s))
	}
	return err
}

// sameOrigin reports whether u goes to the same scheme, host and port as
// origin, and carries no user info.
func sameOrigin(u, origin *url.URL) bool {
	if u.User != nil || u.Opaque != "" || !strings.EqualFold(u.Scheme, origin.Scheme) {
		return false
	}
	return hostPort(u) == hostPort(origin)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
