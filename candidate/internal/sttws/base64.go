package sttws

import (
	"fmt"
	"unicode/utf8"
)

// b64decode is Python 3.11's base64.b64decode(s, validate=True), which legacy applies to
// audio.data: binascii.a2b_base64 in strict mode, whose error messages the client reads
// ("audio.data: Incorrect padding"). The second result is "" or that message.
//
// A str that is not ASCII makes b64decode raise ValueError, not binascii.Error, with Python's
// words below; the session answers it as the bad base64 it is and goes on. (Legacy once let
// that ValueError escape and end the session; the parity run found it, and legacy was fixed.)
func b64decode(s string) ([]byte, string) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return nil, "string argument should contain only ASCII characters"
		}
	}
	if len(s) > 0 && s[0] == '=' {
		return nil, "Leading padding not allowed"
	}
	out := make([]byte, 0, (len(s)+3)/4*3)
	quad, pads := 0, 0
	var left byte
	padding := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			padding = true
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					if i+1 < len(s) {
						return nil, "Excess data after padding"
					}
					return out, ""
				}
			}
			continue
		}
		v, ok := b64value(c)
		if !ok {
			return nil, "Only base64 data is allowed"
		}
		if padding {
			return nil, "Discontinuous padding not allowed"
		}
		pads = 0
		switch quad {
		case 0:
			quad, left = 1, v
		case 1:
			quad = 2
			out = append(out, left<<2|v>>4)
			left = v & 0x0f
		case 2:
			quad = 3
			out = append(out, left<<4|v>>2)
			left = v & 0x03
		case 3:
			quad = 0
			out = append(out, left<<6|v)
			left = 0
		}
	}
	switch quad {
	case 0:
		return out, ""
	case 1:
		return nil, fmt.Sprintf("Invalid base64-encoded string: number of data characters (%d) cannot be 1 more than a multiple of 4",
			len(out)/3*4+1)
	}
	return nil, "Incorrect padding"
}

func b64value(c byte) (byte, bool) {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A', true
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26, true
	case '0' <= c && c <= '9':
		return c - '0' + 52, true
	case c == '+':
		return 62, true
	case c == '/':
		return 63, true
	}
	return 0, false
}
