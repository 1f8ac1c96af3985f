package envelope

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBodyIsLegacysJSONResponse(t *testing.T) {
	// json.dumps({"error": {...}}, ensure_ascii=False, separators=(",", ":")) in legacy.
	got := Body(402, "the \"wallet\" is empty — top it up\n\x01<&>\u2028", "", "rid")
	want := `{"error":{"message":"the \"wallet\" is empty — top it up\n\u0001<&>` + "\u2028" + `","code":"insufficient_quota_error","request_id":"rid"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for status, code := range map[int]string{401: "invalid_api_key_error", 418: "invalid_request_error", 501: "internal_server_error", 503: "internal_server_error"} {
		if CodeFor(status) != code {
			t.Errorf("CodeFor(%d) = %s", status, CodeFor(status))
		}
	}
}

func TestWriteSetsTheHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	extra := http.Header{"Retry-After": {"42"}}
	Write(rec, 429, "slow down", "", "rid-9", extra)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "42" || rec.Header().Get("X-Request-ID") != "rid-9" ||
		rec.Header().Get("Content-Type") != "application/json" || !strings.Contains(rec.Body.String(), `"code":"rate_limit_exceeded_error"`) {
		t.Errorf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}
