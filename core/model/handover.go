package model

import "time"

// Handover directions and states.
const (
	HandoverOut      = "out"
	HandoverIn       = "in"
	HandoverPending  = "pending"
	HandoverAccepted = "accepted"
)

// Subject is what a handover says about the person.
type Subject struct {
	NameMasked    string `json:"name_masked"`
	IDMasked      string `json:"id_masked"`
	Kind          string `json:"kind,omitempty"`
	Category      string `json:"category,omitempty"`
	Level         int    `json:"level,omitempty"`
	NameSealed    string `json:"name_sealed,omitempty"`    // only when the link shares person.identity
	IDSealed      string `json:"id_sealed,omitempty"`      // only when the link shares person.identity
	DetailsSealed string `json:"details_sealed,omitempty"` // only when the link shares person.details
}

// Handover is one 衔接 as one side holds it.
type Handover struct {
	ID         string    `json:"id"`
	Direction  string    `json:"direction"`
	Person     string    `json:"person,omitempty"` // the sender's person id (sender side only)
	From       string    `json:"from"`
	To         string    `json:"to"`
	Status     string    `json:"status"`
	Note       string    `json:"note,omitempty"`
	OpenedAt   time.Time `json:"opened_at"`
	Deadline   time.Time `json:"deadline"`
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	AlertEvent string    `json:"alert_event,omitempty"` // the event opened when the deadline passed
	Subject    Subject   `json:"subject"`
}
