package state

import "github.com/fengqiao/fengqiao/core/model"

// commands is every command type the engine applies, each with a stable
// number. The list is append-only: a number is never changed or reused, and
// a type is never removed, because the Raft logs, snapshots and audit chains
// of every deployed group name them (Consul's fsm/commands_ce.go and Nomad's
// message types work the same way). Add a type at the end with the next
// number; raise its version, never its number, when its payload changes.
// TestCommandNumbersAreStable pins the list.
var commands = []commandDef{
	{1, "jurisdiction.load", 1, typed(applyJurisdictionLoad)},
	{2, "jurisdiction.bounds", 1, typed(applyJurisdictionBounds)},
	{3, "grid.create", 1, typed(applyGridCreate)},
	{4, "grid.update", 1, typed(applyGridUpdate)},
	{5, "grid.retire", 1, typed(applyGridRetire)},
	{6, "worker.put", 1, typed(applyWorkerPut)},
	{7, "grid.assign", 1, typed(applyGridAssign)},
	{8, "event.report", 1, handler{decode: decodeReport, apply: func(t *txn, c *Command, v any) (any, error) { return t.reportEvent(c, v.(*model.Report)) }}},
	{9, "event.act", 1, typed(applyEventAct)},
	{10, "event.sweep", 1, typed(applyEventSweep)},
	{11, "config.calendar", 1, typed(applyConfigCalendar)},
	{12, "config.sla", 1, typed(applyConfigSla)},
	{13, "category.add", 1, typed(applyCategoryAdd)},
	{14, "party.org", 1, typed(applyOrg)},
	{15, "party.member", 1, typed(applyMember)},
	{16, "party.activity", 1, typed(applyActivity)},
	{17, "house.put", 1, typed(applyHouse)},
	{18, "person.add", 1, typed(applyPersonAdd)},
	{19, "person.special", 1, typed(applyPersonSpecial)},
	{20, "person.visit", 1, typed(applyVisit)},
	{21, "person.contact", 2, typed(applyContact)}, // 2: the event does not name the contact status
	{22, "person.visit_alerts", 1, typed(applyVisitAlerts)},
	{23, "config.visit_policy", 1, typed(applyConfigVisitPolicy)},
	{24, "audit.read", 2, typed(applyAuditRead)},
	{25, "token.create", 1, typed(applyTokenCreate)},
	{26, "token.revoke", 1, typed(applyTokenRevoke)},
	{27, "token.rehash", 1, typed(applyTokenRehash)},
	{28, "token.tidy", 1, typed(applyTokenTidy)},
	{29, "token.split_roles", 1, typed(applySplitRoles)},
	{30, "token.bootstrap", 1, typed(applyTokenBootstrap)},
	{31, "audit.event", 1, typed(applyAuditEvent)},
	{32, "audit.rekey", 1, typed(applyAuditRekey)},
	{33, "audit.witness.send", 1, typed(applyWitnessSend)},
	{34, "keys.reseal", 1, typed(applyReseal)},
	{35, "federation.configure", 1, typed(applyFederationConfigure)},
	{36, "exchange.receive", 1, typed(applyExchangeReceive)},
	{37, "exchange.ack", 1, typed(applyExchangeAck)},
	{38, "exchange.refuse", 1, typed(applyExchangeRefuse)},
	{39, "rollup.send", 1, typed(applyRollupSend)},
	{40, "case.open", 1, typed(applyCaseOpen)},
	{41, "case.entry", 1, typed(applyCaseEntry)},
	{42, "case.status", 1, typed(applyCaseStatus)},
	{43, "case.lead", 1, typed(applyCaseLead)},
	{44, "handover.open", 1, typed(applyHandoverOpen)},
	{45, "handover.accept", 1, typed(applyHandoverAccept)},
	{46, "handover.sweep", 1, typed(applyHandoverSweep)},
	{47, "changes.ack", 1, typed(applyChangeAck)},
	{48, "plugin.register", 1, typed(applyPluginRegister)},
	{49, "plugin.report", 1, typed(applyPluginReport)},
	{50, "plugin.enable", 1, typed(applyPluginEnable)},
	{51, "plugin.put", 1, typed(applyPluginPut)},
	{52, "plugin.delete", 1, typed(applyPluginDelete)},
	{53, "house.add", 1, typed(applyHouseAdd)},
	{54, "house.retire", 1, typed(applyHouseRetire)},
	{55, "person.update", 1, typed(applyPersonUpdate)},
	{56, "attachment.chunk", 1, typed(applyAttachmentChunk)},
	{57, "attachment.commit", 1, typed(applyAttachmentCommit)},
	{58, "webhook.put", 1, typed(applyWebhookPut)},
	{59, "webhook.delete", 1, typed(applyWebhookDelete)},
	{60, "webhook.delivered", 1, typed(applyWebhookDelivered)},
	{61, "config.open311", 1, typed(applyConfigOpen311)},
}

// receivers apply a message from another jurisdiction, by its kind, inside
// the exchange.receive command (exchange.go).
var receivers = map[string]func(t *txn, c *Command, l *model.Link, m *model.Message) error{
	model.KindWitness:       receiveWitness,
	model.KindHandoverOffer: receiveHandoverOffer,
	model.KindHandoverReply: receiveHandoverReply,
	model.KindEscalation:    receiveHandoff(model.RelChild, "escalated_in"),
	model.KindDispatch:      receiveHandoff(model.RelParent, "dispatched_in"),
	model.KindOutcome:       receiveOutcome,
	model.KindSupervision:   receiveSupervision,
	model.KindRollup:        receiveRollup,
	model.KindCaseOpen:      receiveCaseOpen,
	model.KindCaseEntry:     receiveCaseEntry,
	model.KindCaseStatus:    receiveCaseState,
	model.KindCaseLead:      receiveCaseState,
	model.KindToken:         receiveToken,
}
