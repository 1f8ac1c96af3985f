package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/text"
)

// maxInputChars is legacy's MAX_INPUT_CHARS for both text routes (Python len: code points).
const maxInputChars = 1000

var (
	sourceAuto      = []string{"auto"}
	numeralsFormats = []string{"international", "native"}
	numeralsWords   = []string{"english", "native"}
)

// identifyLanguage is POST /text-lid: the input's language and script, billed by characters.
func (s *Server) identifyLanguage(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, bodyLimit)
	if !ok {
		return
	}
	f := fields{body: body}
	input := f.str("input", 1, maxInputChars)
	if len(f.problems) > 0 {
		writeError(w, r, http.StatusUnprocessableEntity, f.message(), "")
		return
	}
	chars := utf8.RuneCountInString(input)
	charge, ok := s.openCharge(w, r, "text-lid", chars)
	if !ok {
		return
	}
	found, err := s.identify(r, input)
	if err != nil {
		s.abandonCharge(r, charge)
		s.answerModelError(w, r, err)
		return
	}
	if !s.closeCharge(w, r, charge, chars) {
		return
	}
	id := reqid.From(r.Context())
	var out jsonObject
	out.field("request_id", &id)
	out.field("language_code", found.LanguageCode)
	out.field("script_code", found.ScriptCode)
	writeJSON(w, http.StatusOK, out.String())
}

// transliterate is POST /transliterate: the input in the target language's script, billed by
// characters; the hold is released when the text cannot be transliterated as asked.
func (s *Server) transliterate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, bodyLimit)
	if !ok {
		return
	}
	f := fields{body: body}
	input := f.str("input", 1, maxInputChars)
	source := f.literalUnion("source_language_code", sourceAuto, text.CoreLanguages)
	target := f.literal("target_language_code", true, text.CoreLanguages)
	options := text.Options{
		NumeralsFormat:             f.literal("numerals_format", false, numeralsFormats),
		SpokenForm:                 f.optionalBool("spoken_form"),
		SpokenFormNumeralsLanguage: f.literal("spoken_form_numerals_language", false, numeralsWords),
	}
	if len(f.problems) > 0 {
		writeError(w, r, http.StatusUnprocessableEntity, f.message(), "")
		return
	}
	if source == target {
		writeError(w, r, http.StatusBadRequest, "source and target language are the same; nothing to transliterate", "")
		return
	}
	chars := utf8.RuneCountInString(input)
	charge, ok := s.openCharge(w, r, "transliterate", chars)
	if !ok {
		return
	}
	out, used, err := s.text.Run(input, source, target, options)
	if err != nil {
		s.abandonCharge(r, charge)
		var refused *text.Error
		if errors.As(err, &refused) {
			writeError(w, r, http.StatusBadRequest, refused.Message, "")
			return
		}
		// Legacy does not catch num2words' NumberTooLargeError either: a 500.
		s.log.ErrorContext(r.Context(), "transliteration failed", "error", err)
		dropRateLimitHeaders(w.Header())
		writeError(w, r, http.StatusInternalServerError, internalErrorMessage, "")
		return
	}
	if !s.closeCharge(w, r, charge, chars) {
		return
	}
	id := reqid.From(r.Context())
	var o jsonObject
	o.field("request_id", &id)
	o.field("transliterated_text", &out)
	o.field("source_language_code", &used)
	writeJSON(w, http.StatusOK, o.String())
}

// charge is an open authorization and what its calls forward.
type charge struct {
	auth *billing.Authorization
	req  billing.Request
}

// billingRequest is what the billing calls forward from r.
func billingRequest(r *http.Request) billing.Request {
	shadow, hasShadow := r.Header["X-Banyan-Shadow"]
	req := billing.Request{RequestID: reqid.From(r.Context()), Traceparent: r.Header.Get("Traceparent")}
	if hasShadow && len(shadow) > 0 {
		req.Shadow, req.HasShadow = shadow[0], true
	}
	return req
}

// apiKey is legacy's api_key_from: api-subscription-key, else Authorization: Bearer <key>
// ("" when neither: the ledger then refuses with the message saying where to put the key).
func apiKey(r *http.Request) string {
	if key := latin1(r.Header.Get("Api-Subscription-Key")); key != "" {
		return key
	}
	scheme, token, _ := strings.Cut(latin1(r.Header.Get("Authorization")), " ")
	if strings.ToLower(scheme) != "bearer" {
		return ""
	}
	return pyStrip(token)
}

// openCharge is legacy's open_charge over the internal API: authorize the estimate before any
// work. A refusal is answered as legacy answers it (a bad key is 403 invalid_api_key_error
// on these sarvam-style routes, though the internal API says 401; 402; 429 with Retry-After
// and X-RateLimit-*); the rate-limit headers of an accepted request go on whatever the route
// answers next, as legacy's RateLimitHeaders middleware does.
func (s *Server) openCharge(w http.ResponseWriter, r *http.Request, route string, chars int) (*charge, bool) {
	req := billingRequest(r)
	auth, err := s.billing.Authorize(r.Context(), req, apiKey(r), route, "characters", chars)
	if err != nil {
		s.metrics.billingCall("authorize", outcome(err))
		s.answerBillingError(w, r, err, true)
		return nil, false
	}
	s.metrics.billingCall("authorize", "ok")
	for name, values := range auth.RateLimit {
		if w.Header().Get(name) == "" {
			w.Header()[name] = values
		}
	}
	c := &charge{auth: auth, req: req}
	holdsOf(r.Context()).opened(auth, func() { s.abandonCharge(r, c) })
	return c, true
}

// closeCharge settles the measured quantity; it runs past a client that went away (the work
// is done and the ledger must say so), under the billing client's own deadline.
func (s *Server) closeCharge(w http.ResponseWriter, r *http.Request, c *charge, quantity int) bool {
	holdsOf(r.Context()).closed(c.auth)
	err := s.billing.Settle(context.WithoutCancel(r.Context()), c.req, c.auth, quantity)
	s.metrics.billingCall("settle", outcome(err))
	if err != nil {
		s.answerBillingError(w, r, err, false)
		return false
	}
	return true
}

// abandonCharge gives the hold back after a failure; a failed release is only logged (the
// hold expires on its own) so the client still gets the answer to its request.
func (s *Server) abandonCharge(r *http.Request, c *charge) {
	holdsOf(r.Context()).closed(c.auth)
	err := s.billing.Release(context.WithoutCancel(r.Context()), c.req, c.auth)
	s.metrics.billingCall("release", outcome(err))
	if err != nil {
		s.log.WarnContext(r.Context(), "releasing the hold failed; it will expire", "error", err)
	}
}

func outcome(err error) string {
	var refusal *billing.Refusal
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &refusal):
		return "refused"
	default:
		return "unavailable"
	}
}

// answerBillingError answers a failed billing call: a refusal as legacy's _refuse would, an
// unavailable ledger as 503 billing_service_unavailable_error (nothing was charged; the
// SDKs retry a 503).
func (s *Server) answerBillingError(w http.ResponseWriter, r *http.Request, err error, authorizing bool) {
	var refusal *billing.Refusal
	if !errors.As(err, &refusal) {
		writeError(w, r, http.StatusServiceUnavailable,
			"billing is unavailable right now; nothing was charged, retry later", "billing_service_unavailable_error")
		return
	}
	status, code := refusal.Status, ""
	if authorizing && status == http.StatusUnauthorized {
		// The internal API answers a bad key 401 whatever the route; legacy's public
		// sarvam-style routes answer it 403, with the code the SDKs key off.
		status, code = http.StatusForbidden, "invalid_api_key_error"
	}
	for name, values := range refusal.Header {
		w.Header()[name] = values
	}
	writeError(w, r, status, refusal.Message, code)
}
