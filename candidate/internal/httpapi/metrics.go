package httpapi

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metrics counts requests by route and status and keeps a latency histogram per route, and
// writes them in the Prometheus text exposition format (GET /metrics). Labels are route
// patterns, never raw paths, so a scan of random URLs cannot grow the series without bound.
type Metrics struct {
	mu             sync.Mutex
	requests       map[requestKey]uint64
	latency        map[string]*histogram
	billing        map[billingKey]uint64
	billingLatency map[string]*histogram // by call
	started        time.Time
}

type requestKey struct {
	route, method string
	status        int
}

type billingKey struct{ call, outcome string }

// latencyBuckets are upper bounds in seconds.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	total  uint64
}

// NewMetrics returns an empty registry.
func NewMetrics() *Metrics {
	return &Metrics{
		requests:       map[requestKey]uint64{},
		latency:        map[string]*histogram{},
		billing:        map[billingKey]uint64{},
		billingLatency: map[string]*histogram{},
		started:        time.Now(),
	}
}

// observe records one finished request.
func (m *Metrics) observe(route, method string, status int, elapsed time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[requestKey{route, method, status}]++
	record(m.latency, route, elapsed)
}

// ObserveBillingCall records how long one call to the internal billing API took
// (billing.Client.ObserveCalls).
func (m *Metrics) ObserveBillingCall(call string, elapsed time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	record(m.billingLatency, call, elapsed)
}

// record adds one observation to the histogram of key.
func record(hs map[string]*histogram, key string, elapsed time.Duration) {
	h := hs[key]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		hs[key] = h
	}
	seconds := elapsed.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, seconds) // first bound >= seconds
	h.counts[i]++
	h.sum += seconds
	h.total++
}

// billingCall records one call to the internal billing API and how it ended.
func (m *Metrics) billingCall(call, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.billing[billingKey{call, outcome}]++
}

// WriteTo writes the exposition text.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP candidate_http_requests_total Requests answered, by route pattern, method and status.\n")
	b.WriteString("# TYPE candidate_http_requests_total counter\n")
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		if a.route != c.route {
			return a.route < c.route
		}
		if a.method != c.method {
			return a.method < c.method
		}
		return a.status < c.status
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "candidate_http_requests_total{route=%s,method=%s,status=\"%d\"} %d\n",
			label(k.route), label(k.method), k.status, m.requests[k])
	}
	writeHistograms(&b, "candidate_http_request_duration_seconds", "Time to answer a request, by route pattern.", "route", m.latency)
	b.WriteString("# HELP candidate_billing_calls_total Calls to legacy's internal billing API, by call and outcome.\n")
	b.WriteString("# TYPE candidate_billing_calls_total counter\n")
	bkeys := make([]billingKey, 0, len(m.billing))
	for k := range m.billing {
		bkeys = append(bkeys, k)
	}
	sort.Slice(bkeys, func(i, j int) bool {
		if bkeys[i].call != bkeys[j].call {
			return bkeys[i].call < bkeys[j].call
		}
		return bkeys[i].outcome < bkeys[j].outcome
	})
	for _, k := range bkeys {
		fmt.Fprintf(&b, "candidate_billing_calls_total{call=%s,outcome=%s} %d\n", label(k.call), label(k.outcome), m.billing[k])
	}
	writeHistograms(&b, "candidate_billing_call_duration_seconds", "Time of a call to legacy's internal billing API, answer read, by call.", "call", m.billingLatency)
	b.WriteString("# HELP candidate_uptime_seconds Seconds since the process started serving.\n")
	b.WriteString("# TYPE candidate_uptime_seconds gauge\n")
	fmt.Fprintf(&b, "candidate_uptime_seconds %s\n", formatFloat(time.Since(m.started).Seconds()))
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// writeHistograms writes one histogram family, a series per key (labelled name=key), in
// key order.
func writeHistograms(b *strings.Builder, family, help, name string, hs map[string]*histogram) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", family, help, family)
	keys := make([]string, 0, len(hs))
	for k := range hs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h, l := hs[k], name+"="+label(k)
		var cumulative uint64
		for i, bound := range latencyBuckets {
			cumulative += h.counts[i]
			fmt.Fprintf(b, "%s_bucket{%s,le=\"%s\"} %d\n", family, l, strconv.FormatFloat(bound, 'g', -1, 64), cumulative)
		}
		cumulative += h.counts[len(latencyBuckets)]
		fmt.Fprintf(b, "%s_bucket{%s,le=\"+Inf\"} %d\n", family, l, cumulative)
		fmt.Fprintf(b, "%s_sum{%s} %s\n", family, l, formatFloat(h.sum))
		fmt.Fprintf(b, "%s_count{%s} %d\n", family, l, h.total)
	}
}

// label quotes a label value as the exposition format wants.
func label(v string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}

func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
