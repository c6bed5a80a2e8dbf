package model

// Message kinds that cross between jurisdictions.
const (
	KindEscalation    = "escalation"     // 上报上级: an event handed up
	KindDispatch      = "dispatch"       // 交办: an event handed down with a deadline
	KindSupervision   = "supervision"    // 督办 on a dispatched event
	KindOutcome       = "outcome"        // the end of an escalated or dispatched event, back to its origin
	KindRollup        = "rollup"         // periodic figures for the tier above
	KindCaseOpen      = "case.open"      // 跨区域互涉案事件 opened by its lead
	KindCaseEntry     = "case.entry"     // a timeline entry of a case
	KindCaseStatus    = "case.status"    // a status change by the lead
	KindCaseLead      = "case.lead"      // the lead handed over
	KindHandoverOffer = "handover.offer" // 衔接: a special-population subject moves here
	KindHandoverReply = "handover.reply" // the receiver accepted
	KindWitness       = "audit.witness"  // a child's audit chain head, for its parent to keep
)
