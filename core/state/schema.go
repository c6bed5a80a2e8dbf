package state

import (
	"encoding/binary"
	"strings"

	"github.com/fengqiao/fengqiao/core/access"
)

// The state file's layout: every bucket, what its keys are and what its
// values hold, and the named keys of the meta and config buckets. This is
// the one place that names them (etcd's server/storage/schema/bucket.go
// plays the same part). TestStateSchema compares it with
// testdata/schema.golden, and docs/architecture.md's bucket table is checked
// against it. Renaming a bucket or changing what its keys mean needs an
// upgrade step (upgrade.go) and a new fixture.
var (
	BucketMeta       = []byte("meta")
	BucketAudit      = []byte("audit")
	bJur             = []byte("jur")
	bJurChild        = []byte("jur_child")
	bJurAlias        = []byte("jur_alias")
	bJurGeom         = []byte("jur_geom")
	bGrid            = []byte("grid")
	bGridByJur       = []byte("grid_by_jur")
	bWorker          = []byte("worker")
	bConfig          = []byte("config")
	bCategory        = []byte("category")
	BucketEvent      = []byte("event")
	BucketEvIndex    = []byte(evIndexName)
	bCounter         = []byte("counter")
	BucketOrg        = []byte("party_org")
	bMember          = []byte("party_member")
	bMemberOrg       = []byte("ix_member_org")
	BucketOrgPlace   = []byte("ix_org_place")
	bActivity        = []byte("party_activity")
	bActOrg          = []byte("ix_activity_org")
	bHouse           = []byte("house")
	bHouseLoc        = []byte("ix_house_loc")
	bPerson          = []byte("person")
	BucketPersonBI   = []byte("ix_person_blind")
	bPersonLoc       = []byte("ix_person_loc")
	bVisit           = []byte("visit")
	bVisitDue        = []byte("ix_visit_due")
	BucketToken      = []byte("token")
	bRequest         = []byte("request")
	BucketTokenHash  = []byte("ix_token")
	BucketTokenScope = []byte("ix_token_scope")
	bWitness         = []byte("audit_witness")
	bLink            = []byte("link")
	bOutbox          = []byte("outbox")
	bInbox           = []byte("inbox")
	bRefused         = []byte("refused")
	bRollup          = []byte("rollup")
	bCase            = []byte("case")
	bCaseEnt         = []byte("case_entry")
	bCaseSeen        = []byte("ix_case_entry")
	bHandover        = []byte("handover")
	bChange          = []byte("change")
	bChangeCursor    = []byte("change_cursor")
	bPlugin          = []byte("plugin")
	bPluginData      = []byte("plugin_data")
	bAttachment      = []byte("attachment")
	bBlob            = []byte("blob")
	bWebhook         = []byte("webhook")
	bWebhookLog      = []byte("webhook_log")
)

// bucketSpec describes one bucket.
type bucketSpec struct {
	name   []byte
	keys   string // what a key is
	values string // what a value holds
}

// schema is every bucket of the state file, in the order they are created.
var schema = []bucketSpec{
	{BucketMeta, "name (the meta keys below)", "engine metadata"},
	{BucketAudit, "sequence (8 bytes)", "audit record: keyed hash chain link and the command"},
	{bJur, "division code", "Jurisdiction"},
	{bJurChild, "<parent>/<child>", "empty (index)"},
	{bJurAlias, "retired code", "current code"},
	{bJurGeom, "division code", "boundary (GeoJSON MultiPolygon)"},
	{bGrid, "grid code", "Grid"},
	{bGridByJur, "<village>/<grid>", "empty (index)"},
	{bWorker, "worker id", "Worker"},
	{bConfig, "name (the config keys below)", "configuration record"},
	{bCategory, "category code", "Category (local additions)"},
	{BucketEvent, "<event id> and <event id>/<rev>", "Event, and its timeline entries"},
	{BucketEvIndex, "<prefix><…>/<event id> (the ix prefixes below)", "empty (index)"},
	{bCounter, "j/<place>/<period>/<category>", "counter set (figures)"},
	{BucketOrg, "org id", "Org"},
	{BucketOrgPlace, "<jurisdiction>/<org id>", "empty (index)"},
	{bMember, "member id", "Member"},
	{bMemberOrg, "<org>/<member>", "empty (index)"},
	{bActivity, "activity id", "Activity"},
	{bActOrg, "<org>/<date>/<activity>", "empty (index)"},
	{bHouse, "house id", "House"},
	{bHouseLoc, "<place>/<house>", "empty (index)"},
	{bPerson, "person id", "Person (sealed fields)"},
	{BucketPersonBI, "blind index of the ID number", "person id"},
	{bPersonLoc, "<place>/<person>", "empty (index)"},
	{bVisit, "<person>/<seq (8)>", "Visit (sealed note)"},
	{bVisitDue, "<due time (8)><place>/<person>", "empty (index)"},
	{BucketToken, "token id", "Token (hash only, never the secret)"},
	{BucketTokenHash, "peppered hash of the secret", "token id"},
	{BucketTokenScope, "<scope>/<token id>", "empty (index)"},
	{bRequest, "command id of a keyed command", "a reference to what it made, and after a NUL the request's digest (idempotent retries)"},
	{bWitness, "<origin>/<seq (8)>/<head (32)>", "Witness"},
	{bLink, "peer code", "Link"},
	{bOutbox, "<dest>/<seq (8)>", "Message, until acknowledged"},
	{bInbox, "origin code", "last applied sequence"},
	{bRefused, "<origin>/<seq (8)>", "Refusal (dead letter)"},
	{bRollup, "jurisdiction code", "Rollup"},
	{bCase, "case id", "Case"},
	{bCaseEnt, "<case>/<hlc (8)>/<author>/<entry>", "CaseEntry"},
	{bCaseSeen, "<case>/<entry>", "empty (dedup index)"},
	{bHandover, "handover id", "Handover"},
	{bChange, "chunk: seq / ChangeChunk (8 bytes)", "the chunk's model.Change records, binary (changes.go); whole chunks go past ChangeRetention"},
	{bChangeCursor, "consumer name", "the seq it acknowledged (8 bytes)"},
	{bPlugin, "the plugin prefixes below", "the plugin catalog"},
	{bPluginData, "<plugin>/<jurisdiction>/<collection>/<key>", "model.PluginRecord, a plugin's own state"},
	{bAttachment, "SHA-256 of the file (hex)", "model.Attachment, once its chunks are checked"},
	{bBlob, "<sha-256>/<chunk (4)>", "a chunk of an attachment's content, at most 1 MiB"},
	{bWebhook, "webhook id", "model.Webhook (its secret sealed)"},
	{bWebhookLog, "<webhook>/<change seq (8)>", "model.Delivery, the newest WebhookLogKeep per webhook"},
}

var allBuckets = func() [][]byte {
	out := make([][]byte, len(schema))
	for i, b := range schema {
		out[i] = b.name
	}
	return out
}()

// Keys of bMeta.
var (
	metaApplied   = []byte("applied")
	AuditHeadKey  = []byte("audit_head")
	auditGenKey   = []byte("audit_gen")
	rolesSplitKey = []byte("roles_split")
	metaHLC       = []byte("hlc")
	metaSelf      = []byte("self")
	metaMaxOutbox = []byte("max_outbox")
	metaSeq       = "seq/"   // a prefix
	metaAcked     = "acked/" // a prefix
)

// Key prefixes of bCounter.
const (
	counterJur  = "j/"
	counterGrid = "g/"
)

// Key prefixes of bPlugin.
const (
	pluginVersionPrefix = "v/"
	pluginActivePrefix  = "a/"
	pluginReportPrefix  = "r/"
)

// Keys of bConfig.
var (
	configCalendar    = []byte("calendar")
	configSLA         = []byte("sla")
	configVisitPolicy = []byte("visit_policy")
	configOpen311     = []byte("open311")
)

// keySpec describes a named key, or a key prefix (ending in '/').
type keySpec struct {
	bucket []byte
	key    string
	what   string
}

// keys is every named key and key prefix inside a bucket.
var keys = []keySpec{
	{BucketMeta, string(metaApplied), "log index of the last applied entry (8 bytes)"},
	{BucketMeta, string(AuditHeadKey), "sequence and hash of the audit chain's last record"},
	{BucketMeta, string(auditGenKey), "the key generation that keys new audit records (1 byte); absent: unkeyed"},
	{BucketMeta, string(rolesSplitKey), "set once token.split_roles has run"},
	{BucketMeta, string(metaHLC), "the highest hybrid logical clock of a case entry (8 bytes)"},
	{BucketMeta, string(metaSelf), "this group's jurisdiction code (federation.configure)"},
	{BucketMeta, string(metaMaxOutbox), "the outbox bound (8 bytes)"},
	{BucketMeta, metaSeq, "seq/<name>: a sequence (8 bytes): seq/ev/<area>-<date> numbers events, seq/out/<peer> the outbox"},
	{BucketMeta, metaAcked, "acked/<peer>: the last outbox sequence the peer acknowledged (8 bytes)"},
	{bConfig, string(configCalendar), "workcal.Calendar"},
	{bConfig, string(configSLA), "model.SLAConfig"},
	{bConfig, string(configVisitPolicy), "model.VisitPolicy"},
	{bConfig, string(configOpen311), "model.Open311Config: the services anyone may read without a key"},
	{BucketEvIndex, IxStatus, "s/<status>/<loc>/<id>: events by status, then place"},
	{BucketEvIndex, ixCategory, "c/<category>/<loc>/<id>: events by category, then place"},
	{BucketEvIndex, ixDeadline, "d/<deadline (8)>/<id>: active events not yet overdue, by deadline"},
	{BucketEvIndex, ixOverdue, "o/<loc>/<id>: overdue open events"},
	{bCounter, counterJur, "j/<place prefix>/<YYYYMM or empty>/<category or empty>: figures of a division"},
	{bCounter, counterGrid, "g/<grid>/<YYYYMM or empty>/: figures of a grid"},
	{bPlugin, pluginVersionPrefix, "v/<name>/<version>: model.PluginVersion, a registered version"},
	{bPlugin, pluginActivePrefix, "a/<name>: model.PluginActive, the version that runs"},
	{bPlugin, pluginReportPrefix, "r/<name>/<version>/<node>: model.PluginReport, what a node found"},
}

// Event index prefixes inside bEvIndex. One bucket instead of five: a
// report then dirties one index subtree, not five, which is most of the cost
// of a single durable write. Timeline entries live in bEvent under
// "<id>/<rev>", right after their event.
const (
	evIndexName = "ix_event" // the bucket bEvIndex

	IxLoc      = "l/" // l/<loc>/<id>: not stored; listing cursors by place (index_iter.go)
	IxStatus   = "s/" // s/<status>/<loc>/<id>
	ixCategory = "c/" // c/<category>/<loc>/<id>
	ixDeadline = "d/" // d/<deadline, 8 bytes>/<id>  (active, not yet overdue)
	ixOverdue  = "o/" // o/<loc>/<id>               (overdue and open)
)

// U64 is v as 8 big-endian bytes, the form of sequences in keys and meta.
func U64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// GetU64 reads U64's form; anything else reads as 0.
func GetU64(b []byte) uint64 {
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
	b := U64(uint64(sec) ^ (1 << 63))
	return string(b)
}

// PrefixOf maps a division code to the prefix its descendants' codes share:
// 500000 → 50, 510100 → 5101, 500110 → 500110, 9- and 12-digit codes whole.
func PrefixOf(code string) string { return access.Prefix(code) }

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
