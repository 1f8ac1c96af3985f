package billing

import (
	"context"
	"strconv"
)

// Line is one unit's quantity of a reservation metering several units (a chat completion:
// tokens_in and tokens_out as line items of one hold; rfcs/0004 §8).
type Line struct {
	Unit     string
	Quantity int
}

func (l Line) wire() line { return line{l.Unit, strconv.Itoa(l.Quantity)} }

func wireLines(lines []Line) []line {
	out := make([]line, len(lines))
	for i, l := range lines {
		out[i] = l.wire()
	}
	return out
}

// AuthorizeLines checks the key and limits and holds the estimate, one line per unit, for
// route and model (the model's own prices, else the route's): legacy's open_charge with
// estimate={unit: quantity, ...}. Settle with SettleLines, or Release.
func (c *Client) AuthorizeLines(ctx context.Context, req Request, apiKey, route, model string, estimate []Line) (*Authorization, error) {
	body := struct {
		APIKey   string `json:"api_key"`
		Route    string `json:"route"`
		Estimate []line `json:"estimate"`
		Model    string `json:"model"`
	}{apiKey, route, wireLines(estimate), model}
	var answer struct {
		ReservationID string `json:"reservation_id"`
	}
	header, err := c.call(ctx, req, "authorize", body, &answer)
	if err != nil {
		return nil, err
	}
	if answer.ReservationID == "" {
		c.log.ErrorContext(ctx, "authorize answered without a reservation_id")
		return nil, ErrUnavailable
	}
	return &Authorization{ReservationID: answer.ReservationID, RateLimit: rateLimitHeaders(header)}, nil
}

// SettleLines charges the measured usage of a reservation of several units (exactly once per
// request id and unit: a repeat is a replay, not a second charge).
func (c *Client) SettleLines(ctx context.Context, req Request, auth *Authorization, usage []Line) error {
	body := struct {
		ReservationID string `json:"reservation_id"`
		Usage         []line `json:"usage"`
	}{auth.ReservationID, wireLines(usage)}
	_, err := c.call(ctx, req, "settle", body, nil)
	return err
}
