package server

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// diffContext is the number of unchanged lines shown around a change, as
// diff -u does.
const diffContext = 3

// maxDiffEdits bounds the work of one file's diff: past that many edits
// the file is shown as wholly replaced, which keeps a diff of two
// unrelated large files cheap in time and memory.
const maxDiffEdits = 2000

// lineOp is one line of an edit script: ' ' kept, '-' removed, '+' added.
type lineOp struct {
	kind byte
	text string
}

// unifiedDiff returns the unified diff from a to b for path, "" when they
// are equal; nil a is an added file and nil b a removed one. Files that are
// not UTF-8 text get a one-line note instead of hunks.
func unifiedDiff(path string, a, b []byte) string {
	if a != nil && b != nil && string(a) == string(b) {
		return ""
	}
	from, to := "a/"+path, "b/"+path
	if a == nil {
		from = "/dev/null"
	}
	if b == nil {
		to = "/dev/null"
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", from, to)
	if !utf8.Valid(a) || !utf8.Valid(b) {
		out.WriteString("Binary files differ\n")
		return out.String()
	}
	al, bl := splitLines(string(a)), splitLines(string(b))
	ops := diffLines(al, bl)
	writeHunks(&out, ops)
	return out.String()
}

// splitLines splits text into lines, each keeping its "\n"; a last line
// without one is marked so that the diff can say so.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffLines computes a shortest edit script with Myers' algorithm. When
// the files differ by more than maxDiffEdits lines it gives up and replaces
// everything.
func diffLines(a, b []string) []lineOp {
	n, m := len(a), len(b)
	if n == 0 && m == 0 {
		return nil
	}
	maxD := min(n+m, maxDiffEdits)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	// trace[d] holds v[-d-1 .. d+1] as it was before step d.
	var trace [][]int
	found := false
	for d := 0; d <= maxD && !found; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		ops := make([]lineOp, 0, n+m)
		for _, l := range a {
			ops = append(ops, lineOp{'-', l})
		}
		for _, l := range b {
			ops = append(ops, lineOp{'+', l})
		}
		return ops
	}
	var ops []lineOp
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		tv := trace[d]
		at := func(k int) int { return tv[k+d+1] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			ops = append(ops, lineOp{' ', a[x-1]})
			x--
			y--
		}
		if d > 0 {
			if x == prevX {
				ops = append(ops, lineOp{'+', b[y-1]})
				y--
			} else {
				ops = append(ops, lineOp{'-', a[x-1]})
				x--
			}
		}
	}
	for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
		ops[i], ops[j] = ops[j], ops[i]
	}
	return ops
}

// writeHunks writes the edit script as unified diff hunks.
func writeHunks(out *strings.Builder, ops []lineOp) {
	// Line numbers (1-based) of each op in a and b.
	type pos struct{ a, b int }
	at := make([]pos, len(ops)+1)
	ai, bi := 1, 1
	for i, op := range ops {
		at[i] = pos{ai, bi}
		switch op.kind {
		case ' ':
			ai++
			bi++
		case '-':
			ai++
		case '+':
			bi++
		}
	}
	at[len(ops)] = pos{ai, bi}
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-diffContext, 0)
		end := i
		// Extend over changes separated by at most 2*context kept lines.
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j + 1
				continue
			}
			if j-end >= 2*diffContext {
				break
			}
		}
		end = min(end+diffContext, len(ops))
		var na, nb int
		for _, op := range ops[start:end] {
			if op.kind != '+' {
				na++
			}
			if op.kind != '-' {
				nb++
			}
		}
		fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(at[start].a, na), hunkRange(at[start].b, nb))
		for _, op := range ops[start:end] {
			out.WriteByte(op.kind)
			out.WriteString(op.text)
			if !strings.HasSuffix(op.text, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = end
	}
}

// hunkRange formats "start,count" as diff -u does: an empty range starts
// at the line before it.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprintf("%d", start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}
