package core

import (
	"encoding/binary"
	"strings"

	"github.com/fengqiao/fengqiao/core/access"
)

// Buckets. One per entity and one per index; names are short because they
// prefix nothing (bbolt keeps them once).
var (
	bMeta       = []byte("meta")
	bAudit      = []byte("audit")
	bJur        = []byte("jur")
	bJurChild   = []byte("jur_child")
	bJurAlias   = []byte("jur_alias")
	bJurGeom    = []byte("jur_geom")
	bGrid       = []byte("grid")
	bGridByJur  = []byte("grid_by_jur")
	bWorker     = []byte("worker")
	bConfig     = []byte("config")
	bCategory   = []byte("category")
	bEvent      = []byte("event")
	bEvIndex    = []byte(evIndexName) // every event index, by key prefix (see below)
	bCounter    = []byte("counter")
	bOrg        = []byte("party_org")
	bMember     = []byte("party_member")
	bMemberOrg  = []byte("ix_member_org")
	bOrgPlace   = []byte("ix_org_place") // <jurisdiction>/<org id>
	bActivity   = []byte("party_activity")
	bActOrg     = []byte("ix_activity_org")
	bHouse      = []byte("house")
	bPerson     = []byte("person")
	bPersonBI   = []byte("ix_person_blind")
	bPersonLoc  = []byte("ix_person_loc")
	bVisit      = []byte("visit")
	bVisitDue   = []byte("ix_visit_due")
	bToken      = []byte("token")          // id → Token (hash only, never the secret)
	bRequest    = []byte("request")        // keyed command id → what it made (idempotent retries)
	bTokenHash  = []byte("ix_token")       // sha256(secret) → id
	bTokenScope = []byte("ix_token_scope") // <scope>/<id>
)

var allBuckets = [][]byte{bMeta, bAudit, bJur, bJurChild, bJurAlias, bJurGeom, bGrid, bGridByJur, bWorker,
	bConfig, bCategory, bEvent, bEvIndex, bCounter,
	bOrg, bOrgPlace, bMember, bMemberOrg, bActivity, bActOrg, bHouse, bPerson, bPersonBI, bPersonLoc, bVisit, bVisitDue, bToken, bTokenHash, bTokenScope, bRequest, bWitness}

// Event index prefixes inside bEvIndex. One bucket instead of five: a
// report then dirties one index subtree, not five, which is most of the cost
// of a single durable write. Timeline entries live in bEvent under
// "<id>/<rev>", right after their event.
const (
	evIndexName = "ix_event" // the bucket

	ixLoc      = "l/" // l/<loc>/<id>: not stored; listing cursors by place (index_iter.go)
	ixStatus   = "s/" // s/<status>/<loc>/<id>
	ixCategory = "c/" // c/<category>/<loc>/<id>
	ixDeadline = "d/" // d/<deadline, 8 bytes>/<id>  (active, not yet overdue)
	ixOverdue  = "o/" // o/<loc>/<id>               (overdue and open)
)

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func getU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// key joins parts with '/', the separator every index uses. Parts never
// contain '/' (codes are digits, ids are checked).
func key(parts ...string) []byte { return []byte(strings.Join(parts, "/")) }

// timeKey orders instants in an index: big-endian Unix seconds, offset so
// that instants before 1970 still sort correctly.
func timeKey(sec int64) string {
	b := u64(uint64(sec) ^ (1 << 63))
	return string(b)
}

// prefixOf maps a division code to the prefix its descendants' codes share:
// 500000 → 50, 510100 → 5101, 500110 → 500110, 9- and 12-digit codes whole.
func prefixOf(code string) string { return access.Prefix(code) }

// ancestorsOf returns every prefix level above and including loc (a division or
// grid code): 2, 4, 6, 9, 12 digits and the whole code.
func ancestorsOf(loc string) []string {
	out := make([]string, 0, 6)
	for _, n := range []int{2, 4, 6, 9, 12} {
		if len(loc) >= n {
			out = append(out, loc[:n])
		}
	}
	if len(loc) != 2 && len(loc) != 4 && len(loc) != 6 && len(loc) != 9 && len(loc) != 12 {
		out = append(out, loc)
	}
	return out
}
