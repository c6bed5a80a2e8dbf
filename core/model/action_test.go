package model

import (
	"fmt"
	"strings"
	"testing"
)

// The table is DESIGN.md's, row for row: a change to it is a change of the
// domain, made here on purpose and in DESIGN.md at the same time.
func TestTransitionsAreDesignTable(t *testing.T) {
	want := `accept 受理: reported → accepted
reject 不予受理: reported → rejected
dispatch 派遣: accepted → dispatched
sign 签收: dispatched → in_progress
return 退回: dispatched in_progress → accepted
resolve 处置反馈: in_progress → resolved
verify 核查: resolved → closed in_progress
rate 回访评价: closed → closed in_progress
extend 延期: reported accepted dispatched in_progress resolved suspended → 
suspend 挂账: reported accepted dispatched in_progress resolved → suspended
resume 恢复: suspended → 
supervise 督办: reported accepted dispatched in_progress resolved suspended → 
escalate 上报上级: reported accepted dispatched in_progress resolved → escalated
merge 合并: reported accepted dispatched in_progress resolved → merged
self_resolve 小事一格解决: reported → closed
comment 备注: reported accepted rejected dispatched in_progress resolved closed suspended escalated merged → `
	var got []string
	for _, tr := range Transitions {
		got = append(got, fmt.Sprintf("%s %s: %s → %s", tr.Action, tr.Name, join(tr.From), join(tr.To)))
	}
	if g := strings.Join(got, "\n"); g != want {
		t.Fatalf("transition table:\n%s\nwant:\n%s", g, want)
	}
	for _, s := range []Status{StatusRejected, StatusMerged} {
		if a := ActionsFrom(s); len(a) != 1 || a[0] != "comment" {
			t.Fatalf("%s is final, yet allows %v", s, a)
		}
	}
}

func join(ss []Status) string {
	var out []string
	for _, s := range ss {
		out = append(out, string(s))
	}
	return strings.Join(out, " ")
}
