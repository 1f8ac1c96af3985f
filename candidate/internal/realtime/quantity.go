package realtime

import (
	"fmt"
	"strconv"
	"strings"
)

// Quantity is an amount of a metered unit in millionths of the unit. Legacy counts with
// Decimal; the finest amounts its realtime routes meter are whole characters and milliseconds
// of audio (Decimal(ms) / 1000), which millionths hold exactly, so sums and comparisons here
// are exact too, and never floats. It prints as the decimal string the internal API takes.
type Quantity int64

const perUnit = 1_000_000

// Units is n whole units (characters).
func Units(n int64) Quantity { return Quantity(n * perUnit) }

// Milli is n thousandths of a unit (milliseconds, for a unit of seconds).
func Milli(n int64) Quantity { return Quantity(n * (perUnit / 1000)) }

// ParseQuantity reads a decimal string ("46", "-5", "12.345") of at most six decimals.
func ParseQuantity(s string) (Quantity, error) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || len(frac) > 6 || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("realtime: %q is not a quantity", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("realtime: %q is not a quantity", s)
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("realtime: %q is not a quantity", s)
		}
	}
	q := Quantity(w*perUnit + f)
	if neg {
		q = -q
	}
	return q, nil
}

// String is the quantity as a decimal without trailing zeros: "46", "22.346", "-0.5".
func (q Quantity) String() string {
	sign := ""
	if q < 0 {
		sign, q = "-", -q
	}
	whole, frac := int64(q)/perUnit, int64(q)%perUnit
	if frac == 0 {
		return sign + strconv.FormatInt(whole, 10)
	}
	digits := strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	return sign + strconv.FormatInt(whole, 10) + "." + digits
}
