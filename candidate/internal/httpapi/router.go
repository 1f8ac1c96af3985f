package httpapi

import (
	"fmt"
	"net/http"
	"strings"
)

// The router is hand-written rather than http.ServeMux because legacy's (Starlette's)
// answers for the misses are part of the contract: a 404 or 405 in the error envelope (with
// Allow), a 307 to the same path with or without its trailing slash when only that one
// exists, and no path cleaning redirects of its own.

type route struct {
	name    string // the pattern: the metrics label and the log field
	methods []string
	match   func(path string) bool
	handler http.HandlerFunc
	// websocket: a WebSocket route, which Starlette matches only for a WebSocket scope, so
	// its handler answers every method (a plain request is its 404) and no redirect leads
	// to it.
	websocket bool
}

func exact(p string) func(string) bool { return func(path string) bool { return path == p } }

// oneSegmentUnder matches prefix + one non-empty path segment ("/v1/models/{model_id}").
func oneSegmentUnder(prefix string) func(string) bool {
	return func(path string) bool {
		rest, ok := strings.CutPrefix(path, prefix)
		return ok && rest != "" && !strings.Contains(rest, "/")
	}
}

func under(prefix string) func(string) bool {
	return func(path string) bool { return strings.HasPrefix(path, prefix) }
}

func (rt *route) allows(method string) bool {
	if rt.websocket {
		return true
	}
	for _, m := range rt.methods {
		if m == method || (m == http.MethodGet && method == http.MethodHead) {
			return true
		}
	}
	return false
}

func (rt *route) allowHeader() string {
	var names []string
	for _, m := range rt.methods {
		names = append(names, m)
		if m == http.MethodGet {
			names = append(names, http.MethodHead)
		}
	}
	return strings.Join(names, ", ")
}

type router struct{ routes []*route }

func (rr *router) find(path string) *route {
	for _, rt := range rr.routes {
		if rt.match(path) {
			return rt
		}
	}
	return nil
}

// dispatch answers r and returns the route name for metrics and logs.
func (rr *router) dispatch(w http.ResponseWriter, r *http.Request) string {
	path := r.URL.Path
	if rt := rr.find(path); rt != nil {
		if !rt.allows(r.Method) {
			w.Header().Set("Allow", rt.allowHeader())
			writeError(w, r, http.StatusMethodNotAllowed,
				fmt.Sprintf("method %s is not allowed on %s", r.Method, path), "")
			return rt.name
		}
		rt.handler(w, r)
		return rt.name
	}
	if path != "/" {
		other := path + "/"
		if strings.HasSuffix(path, "/") {
			other = strings.TrimSuffix(path, "/")
		}
		if rt := rr.find(other); rt != nil && !rt.websocket {
			w.Header().Set("Location", redirectURL(r, other))
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusTemporaryRedirect)
			return "redirect"
		}
	}
	writeError(w, r, http.StatusNotFound, fmt.Sprintf("no route %s %s", r.Method, path), "")
	return "unmatched"
}

// redirectURL is Starlette's redirect target: the request's URL (scheme, Host header, query)
// with the other path, quoted as RedirectResponse quotes it.
func redirectURL(r *http.Request, path string) string {
	target := path
	if r.Host != "" {
		target = "http://" + r.Host + path
	}
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	return quote(target)
}

// quote is urllib.parse.quote(s, safe=":/%#?=@[]!$&'()*+,;").
func quote(s string) string {
	const safe = ":/%#?=@[]!$&'()*+,;_.-~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// notPortedRoutes are legacy's public routes (and the job routes of the sdk-contract) that
// the candidate does not serve yet: each answers 501 in the envelope, so a misrouted request
// says so instead of looking like a missing route.
var notPortedRoutes = []struct {
	name    string
	methods []string
	match   func(string) bool
}{
	{"/v1/models", []string{http.MethodGet}, exact("/v1/models")},
	{"/v2/models", []string{http.MethodGet}, exact("/v2/models")},
	{"/v1/models/{model_id}", []string{http.MethodGet}, oneSegmentUnder("/v1/models/")},
	{"/v2/models/{model_id}", []string{http.MethodGet}, oneSegmentUnder("/v2/models/")},
	{"/text-to-speech/ws", []string{http.MethodGet}, exact("/text-to-speech/ws")},
	{"/speech-to-text/ws", []string{http.MethodGet}, exact("/speech-to-text/ws")},
	{"/speech-to-text-translate/ws", []string{http.MethodGet}, exact("/speech-to-text-translate/ws")},
	{"/speech-to-text/job/...", anyMethod, under("/speech-to-text/job/")},
	{"/speech-to-text-translate/job/...", anyMethod, under("/speech-to-text-translate/job/")},
	{"/doc-ai/...", anyMethod, under("/doc-ai/")},
	{"/doc-digitization/job/...", anyMethod, under("/doc-digitization/job/")},
}

var anyMethod = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
}

func notPorted(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusNotImplemented,
		fmt.Sprintf("%s %s is not ported to the candidate yet; legacy serves it", r.Method, r.URL.Path), "")
}
