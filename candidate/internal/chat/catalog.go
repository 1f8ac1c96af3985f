package chat

import (
	"banyan/candidate/internal/pyrepr"

	"fmt"
	"strings"
)

// Card is one chat model the platform serves and its limits (legacy/inference/llm_catalog.py,
// the table legacy and the inference server share).
type Card struct {
	ID               string
	OwnedBy          string
	ContextTokens    int // prompt + completion may not exceed this
	DefaultMaxTokens int // the completion budget when a request names none
	Created          int64
}

// launch is when these ids were published (2026-01-01T00:00:00Z), their `created`.
const launch = 1767225600

// Models are the served models in legacy's order (its 400 message lists them so).
var Models = []Card{
	{"sarvam-m", "sarvamai", 8192, 1024, launch},
	{"sarvam-105b", "sarvamai", 32768, 2048, launch},
	{"sarvam-105b-conversations", "sarvamai", 32768, 2048, launch},
	{"glm5.3", "zai", 32768, 2048, launch},
	{"gemma4", "google", 16384, 2048, launch},
	{"deepseekv4.1-flash", "deepseek", 32768, 2048, launch},
}

// Lookup is the card of model, or the 400 message legacy answers for a model it does not
// serve.
func Lookup(model string) (Card, string) {
	ids := make([]string, len(Models))
	for i, card := range Models {
		if card.ID == model {
			return card, ""
		}
		ids[i] = card.ID
	}
	return Card{}, fmt.Sprintf("model %s is not served here; use one of %s", pyrepr.Str(model), strings.Join(ids, ", "))
}
