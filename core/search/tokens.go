// Package search is a full-text index of events for Chinese text: CJK runs
// are cut into overlapping bigrams (the standard approach for Chinese
// without a dictionary), other letters and digits into lowercased words.
// A query matches a document holding every one of the query's tokens; the
// caller then confirms the exact phrase against the record.
//
// The index lives in memory on each replica and is derived from the
// replicated state (core keeps it current from the change feed), so apply
// never pays for it and snapshots do not carry it.
package search

import (
	"slices"
	"strings"
	"unicode"
)

// isCJK reports whether r is written without spaces between words: Han,
// and the kana and hangul that share the treatment.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// Tokens cuts text into its distinct tokens: each pair of neighbouring CJK
// characters (a lone one stands for itself), and each lowercased run of
// other letters and digits. Everything else separates.
func Tokens(text string) []string {
	var out []string
	var run []rune // the current CJK run
	flush := func() {
		switch len(run) {
		case 0:
		case 1:
			out = append(out, string(run))
		default:
			for i := 0; i+1 < len(run); i++ {
				out = append(out, string(run[i:i+2]))
			}
		}
		run = run[:0]
	}
	var word strings.Builder
	flushWord := func() {
		if word.Len() > 0 {
			out = append(out, word.String())
			word.Reset()
		}
	}
	for _, r := range text {
		switch {
		case isCJK(r):
			flushWord()
			run = append(run, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flush()
			word.WriteRune(unicode.ToLower(r))
		default:
			flush()
			flushWord()
		}
	}
	flush()
	flushWord()
	slices.Sort(out)
	return slices.Compact(out)
}

// Normalize folds text as a phrase check compares it: lowercased, with runs
// of anything that is neither a letter nor a digit made one space.
func Normalize(text string) string {
	var b strings.Builder
	space := false
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		} else {
			space = true
		}
	}
	return b.String()
}
