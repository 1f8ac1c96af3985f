package tokenizer

import (
	"container/heap"
	"math"
)

// mergePiece is tiktoken's byte_pair_encode for a piece that is not itself a token: start
// from single bytes and merge, again and again, the adjacent pair whose bytes have the lowest
// rank (the leftmost of equals), until no adjacent pair is a token. It appends the ids of the
// parts to out.
//
// tiktoken rescans a vector for the minimum after every merge (O(n²) on a long piece, such
// as a run of one letter thousands long); this keeps the parts in a linked list and the
// candidate pairs in a heap ordered by (rank, position), which picks the same pair each time
// (positions keep their order) in O(n log n).
func (e *Encoding) mergePiece(piece string, out []int) []int {
	n := len(piece)
	if n == 1 {
		return append(out, e.ranks[piece])
	}
	// parts[i] is the part starting at byte i while alive; next/prev link the live parts, and
	// n stands for the end.
	next := make([]int, n)
	prev := make([]int, n)
	alive := make([]bool, n)
	for i := range n {
		next[i], prev[i], alive[i] = i+1, i-1, true
	}
	// pairRank is the rank of the part at i merged with the one after it.
	pairRank := func(i int) int {
		j := next[i]
		if j >= n {
			return math.MaxInt
		}
		if rank, ok := e.ranks[piece[i:endOf(next, j, n)]]; ok {
			return rank
		}
		return math.MaxInt
	}
	h := &pairs{}
	rankAt := make([]int, n)
	for i := range n {
		rankAt[i] = pairRank(i)
		if rankAt[i] != math.MaxInt {
			h.items = append(h.items, pair{rankAt[i], i})
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		p := heap.Pop(h).(pair)
		if !alive[p.start] || rankAt[p.start] != p.rank {
			continue // stale: the part merged or its pair changed since
		}
		// Merge the part at p.start with the one after it.
		gone := next[p.start]
		alive[gone] = false
		next[p.start] = next[gone]
		if next[gone] < n {
			prev[next[gone]] = p.start
		}
		for _, i := range []int{p.start, prev[p.start]} {
			if i < 0 {
				continue
			}
			rankAt[i] = pairRank(i)
			if rankAt[i] != math.MaxInt {
				heap.Push(h, pair{rankAt[i], i})
			}
		}
	}
	for i := 0; i < n; i = next[i] {
		out = append(out, e.ranks[piece[i:next[i]]])
	}
	return out
}

// endOf is where the part starting at j ends.
func endOf(next []int, j, n int) int {
	if j >= n {
		return n
	}
	return next[j]
}

type pair struct{ rank, start int }

// pairs is a min-heap of candidate merges by rank, then position.
type pairs struct{ items []pair }

func (h *pairs) Len() int { return len(h.items) }
func (h *pairs) Less(a, b int) bool {
	x, y := h.items[a], h.items[b]
	return x.rank < y.rank || (x.rank == y.rank && x.start < y.start)
}
func (h *pairs) Swap(a, b int) { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *pairs) Push(x any)    { h.items = append(h.items, x.(pair)) }
func (h *pairs) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}
