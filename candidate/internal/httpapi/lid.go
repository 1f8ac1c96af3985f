package httpapi

import (
	"errors"
	"net/http"

	"banyan/candidate/internal/lidmodel"
	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/text"
)

// identify is legacy's LanguageIdentifier.identify: the script decides, and where it is
// shared the inference server's model chooses (one call, under the request's context).
func (s *Server) identify(r *http.Request, input string) (text.Identification, error) {
	found := text.Identify(input)
	if found.Candidates == nil {
		return found, nil
	}
	answer, err := s.lid.Choose(r.Context(), input, found.Candidates, reqid.From(r.Context()), r.Header.Get("Traceparent"))
	if err != nil {
		return found, err
	}
	return found.Decided(answer), nil
}

// answerModelError answers a failed model call as legacy does: 503 when the model is not
// configured, else 502 with what went wrong.
func (s *Server) answerModelError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, lidmodel.ErrNotConfigured) {
		writeError(w, r, http.StatusServiceUnavailable, err.Error(), "")
		return
	}
	s.log.WarnContext(r.Context(), "the model call failed", "error", err)
	writeError(w, r, http.StatusBadGateway, err.Error(), "")
}
