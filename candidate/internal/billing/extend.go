package billing

import (
	"context"
	"fmt"
)

// The calls in this file take quantities as decimal strings ("46", "12.345"), as the internal
// API carries them, for what is not a whole number: audio seconds measured in milliseconds,
// or a session's usage summed across messages. Authorize and Settle take an int because the
// text routes meter whole characters; these are the same calls with the amount spelled out.
// A quantity that is not a plain non-negative decimal is a programming error here, refused
// before any call (the internal API would answer it 422, which reads as an unavailable ledger).

// AuthorizeAmount is Authorize with a decimal quantity: check the key and limits and hold
// quantity of unit for route.
func (c *Client) AuthorizeAmount(ctx context.Context, req Request, apiKey, route, unit, quantity string) (*Authorization, error) {
	if err := checkDecimal(quantity); err != nil {
		return nil, err
	}
	body := struct {
		APIKey   string `json:"api_key"`
		Route    string `json:"route"`
		Estimate line   `json:"estimate"`
	}{apiKey, route, line{unit, quantity}}
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
	return &Authorization{ReservationID: answer.ReservationID, Unit: unit, RateLimit: rateLimitHeaders(header)}, nil
}

// Extend holds quantity more of the reservation's one unit, for a stream or session whose
// usage outgrew its hold (legacy's Billing.extend(reservation_id, quantity)). An empty wallet
// is a *Refusal with status 402; the hold is then unchanged.
func (c *Client) Extend(ctx context.Context, req Request, auth *Authorization, quantity string) error {
	if err := checkDecimal(quantity); err != nil {
		return err
	}
	body := struct {
		ReservationID string `json:"reservation_id"`
		Quantity      string `json:"quantity"`
	}{auth.ReservationID, quantity}
	_, err := c.call(ctx, req, "extend", body, nil)
	return err
}

// SettleAmount is Settle with a decimal quantity: charge the measured usage of the
// authorization's unit, exactly once per request id.
func (c *Client) SettleAmount(ctx context.Context, req Request, auth *Authorization, quantity string) error {
	if err := checkDecimal(quantity); err != nil {
		return err
	}
	body := struct {
		ReservationID string `json:"reservation_id"`
		Unit          string `json:"unit"`
		Quantity      string `json:"quantity"`
	}{auth.ReservationID, auth.Unit, quantity}
	_, err := c.call(ctx, req, "settle", body, nil)
	return err
}

// checkDecimal accepts digits with an optional fraction: "0", "46", "12.345".
func checkDecimal(s string) error {
	digits, dot, fraction := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9' && !dot:
			digits++
		case c >= '0' && c <= '9':
			fraction++
		case c == '.' && !dot && digits > 0:
			dot = true
		default:
			return fmt.Errorf("billing: quantity %q is not a non-negative decimal", s)
		}
	}
	if digits == 0 || (dot && fraction == 0) {
		return fmt.Errorf("billing: quantity %q is not a non-negative decimal", s)
	}
	return nil
}
