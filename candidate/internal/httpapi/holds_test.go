package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"banyan/candidate/internal/lidmodel"
)

// panickyModel is a bug between authorize and settle: the handler panics mid-request.
type panickyModel struct{}

func (panickyModel) Choose(context.Context, string, []string, string, string) (string, error) {
	panic("a bug in the model client")
}

// failingModel fails as a model does; the handler releases the hold itself.
type failingModel struct{}

func (failingModel) Choose(context.Context, string, []string, string, string) (string, error) {
	return "", &lidmodel.Failed{Message: "the language-identification model is unreachable: All connection attempts failed"}
}

func postLID(srv http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/text-lid", strings.NewReader(`{"input": "नमस्ते दुनिया"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Api-Subscription-Key", "ok")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func calls(ledger *fakeLedger) string {
	var names []string
	for _, c := range ledger.take() {
		names = append(names, c["call"].(string))
	}
	return strings.Join(names, ",")
}

func TestAPanicAfterTheHoldGivesItBack(t *testing.T) {
	ledger := &fakeLedger{}
	rec := postLID(newTestServerWithModel(ledger, panickyModel{}))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), internalErrorMessage) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if got := calls(ledger); got != "authorize,release" {
		t.Errorf("ledger calls %s, want authorize,release", got)
	}
}

func TestAHoldTheHandlerClosedIsNotReleasedAgain(t *testing.T) {
	ledger := &fakeLedger{}
	if rec := postLID(newTestServerWithModel(ledger, failingModel{})); rec.Code != 502 {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if got := calls(ledger); got != "authorize,release" {
		t.Errorf("ledger calls %s, want one release", got)
	}
	// Settled, then the registry is empty: nothing for a recovery to give back.
	srv := newTestServerWithModel(ledger, &fakeModel{script: []modelCall{{Answer: ptr("hi-IN")}}})
	if rec := postLID(srv); rec.Code != 200 {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if got := calls(ledger); got != "authorize,settle" {
		t.Errorf("ledger calls %s", got)
	}
}

func ptr[T any](v T) *T { return &v }
